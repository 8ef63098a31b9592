"""`mllab release` end to end: the release and its student edition hold no solution, install and
run on their own, and give students the grader's verdicts: every wrong implementation under
tests/wrong/ fails there as under grading, with no check left "not run" for want of the reference.

A check that never asks for the `reference` fixture runs the same code on the same inputs in a
release as in grading, so only the exercises whose checks ask for it can differ: those are the
ones released and graded here (MLLAB_WRONG=perceptron,vae narrows them further, as in
tests/test_wrong_implementations.py). tests/test_leaks.py covers every other file of the course.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, mllab, stubs_workspace, wrong_file, wrong_source
from test_wrong_implementations import BY_EXERCISE, expected_failures

from grader.replay import NEEDS_REFERENCE
from mllab.catalog import load_catalog
from mllab.paths import CourseDirs
from mllab.release import leaks
from mllab.release.wheel import DISTRIBUTION
from mllab.runner import GraderRun, RunRequest
from mllab.warm import WarmGrader

pytestmark = pytest.mark.slow

PATH = "perceptron/perceptron.py"
WRONG = REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py"
CATALOG = load_catalog(REPO / "exercises" / "catalog.toml")


def asks_for_the_reference(exercise_id: str) -> bool:
    """True if a check or fixture of the exercise's check module takes `reference`."""
    tree = ast.parse((REPO / "grader" / "checks" / f"test_{exercise_id}.py").read_text())
    return any(
        arg.arg == "reference"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for arg in node.args.args + node.args.kwonlyargs
    )


GRADED = [i for i in CATALOG.ids if i in BY_EXERCISE and asks_for_the_reference(i)]
RELEASED = [i for i in CATALOG.ids if i in GRADED or i == "perceptron"]  # the tests below use it
ROUNDS = [
    {i: files[k] for i, files in BY_EXERCISE.items() if i in GRADED and k < len(files)}
    for k in range(max(map(len, BY_EXERCISE.values()), default=0))
]
ROUNDS = [chosen for chosen in ROUNDS if chosen]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student-repo"
    chosen = [f"--exercise={i}" for i in RELEASED]
    result = mllab("release", str(out), *chosen, timeout=1200)
    assert result.returncode == 0, result.stderr
    assert f"Released {len(RELEASED)} exercise(s)" in result.stdout
    return out


@pytest.fixture(scope="module")
def release_grader(release: Path) -> Iterator[WarmGrader]:
    """A warm grader for the release's course, as a student's machine runs it."""
    grader = WarmGrader(release_dirs(release)).start()
    assert grader.wait_ready(180), "the warm grader did not get ready"
    yield grader
    grader.close()


def release_dirs(release: Path) -> CourseDirs:
    course = release / "course"
    return CourseDirs(course / "exercises", course / "solutions", course / "checks")


def wheel_of(release: Path) -> Path:
    (wheel,) = (release / "wheels").glob("*.whl")
    return wheel


def outcomes(report: dict) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["outcome"], c["message"]) for c in report["exercises"][0]["checks"]}


def replayed(release: Path, source: Path, *extra: str, cwd: Path | None = None) -> dict:
    """`mllab check perceptron` inside the release, as a student runs it, on `source`."""
    shutil.copyfile(source, release / PATH)
    result = mllab("check", "perceptron", "--device", "cpu", "--format", "json", *extra,
                   cwd=cwd or release)  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def full(source: Path, tmp_path: Path) -> dict:
    """The instructors' grader, with the real reference, on the public seed."""
    (tmp_path / "ws" / "perceptron").mkdir(parents=True)
    shutil.copyfile(source, tmp_path / "ws" / PATH)
    result = mllab("check", "perceptron", "--workspace", str(tmp_path / "ws"), "--device", "cpu",
                   "--format", "json", cwd=REPO)  # fmt: skip
    return json.loads(result.stdout)


def course_leaks(roots: list[Path]) -> list[leaks.Leak]:
    fingerprints, files = leaks.course_answers(
        REPO / "solutions", {e.path: e.id for e in CATALOG.exercises}
    )
    return leaks.scan(roots, fingerprints, files)


def test_the_release_holds_the_course_but_no_solution(release: Path) -> None:
    files = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert {PATH, "perceptron/lesson.md", "README.md", "requirements.txt", ".mllab/.gitignore",
            ".github/workflows/mllab.yml", "course/exercises/catalog.toml",
            "course/checks/test_perceptron.py", "course/checks/pytest.ini",
            "course/checks/oracles.py", "course/replay/perceptron.json",
            "course/release.json"} <= files  # fmt: skip
    assert not [f for f in files if "solution" in f]
    assert not course_leaks([release])  # no solution file, no answer's body, the wheel opened
    # Students install the student edition the release carries, from the repository's top.
    wheel = wheel_of(release)
    assert (release / "requirements.txt").read_text() == f"./wheels/{wheel.name}\n"
    assert "pip install -r requirements.txt" in (release / "README.md").read_text()
    workflow = (release / ".github" / "workflows" / "mllab.yml").read_text()
    cpu_torch = "--extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt"
    assert f"pip install {cpu_torch}" in workflow
    assert "mllab check --all --device cpu" in workflow
    listed = mllab("list", cwd=release / "perceptron")
    assert listed.returncode == 0 and "perceptron" in listed.stdout


def test_the_student_edition_bundles_the_course_and_no_solution(
    release: Path, tmp_path: Path
) -> None:
    wheel = wheel_of(release)
    assert wheel.name.startswith(f"{DISTRIBUTION.replace('-', '_')}-0.1.0+student.")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if "/solutions/" in n or n.startswith("solutions/")]
    for exercise_id in RELEASED:
        exercise = CATALOG.get(exercise_id)
        assert f"mllab/_course/exercises/{exercise.path}" in names
        assert f"mllab/_course/checks/test_{exercise_id}.py" in names
        assert f"mllab/_course/replay/{exercise_id}.json" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Name: {DISTRIBUTION}\n" in text and "Requires-Dist: torch" in text
    # Installed on its own (outside any release folder), it grades with its bundled recordings.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    (tmp_path / "ws" / "perceptron").mkdir(parents=True)
    shutil.copyfile(SOLUTION, tmp_path / "ws" / PATH)
    command = [sys.executable, "-m", "mllab", "check", "perceptron", "--workspace",
               str(tmp_path / "ws"), "--device", "cpu", "--format", "json"]  # fmt: skip
    graded = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=240)  # fmt: skip
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert report["score"] == report["max_score"] == 10.0
    doctor = subprocess.run([sys.executable, "-m", "mllab", "doctor"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=240)  # fmt: skip
    assert "a student release, no solutions" in " ".join(doctor.stdout.split()), doctor.stdout


def test_doctor_passes_in_a_release_and_names_what_is_missing(release: Path) -> None:
    good = mllab("doctor", cwd=release)
    assert good.returncode == 0, good.stdout
    said = " ".join(good.stdout.split())  # as printed, wrapped at the terminal's width
    assert "a student release, no solutions" in said and "All good." in said
    recording = release / "course" / "replay" / "perceptron.json"
    kept = recording.read_bytes()
    recording.unlink()
    try:
        broken = mllab("doctor", cwd=release)
    finally:
        recording.write_bytes(kept)
    assert broken.returncode == 1
    assert "recorded reference results missing for perceptron" in " ".join(broken.stdout.split())


def test_stubs_fail_in_the_release_as_in_the_full_grader(release: Path, tmp_path: Path) -> None:
    stub = stubs_workspace() / PATH
    # From a subfolder, as a learner would run it: the release's course is found above.
    got = outcomes(replayed(release, stub, cwd=release / "perceptron"))
    assert got == outcomes(full(stub, tmp_path))
    assert {outcome for outcome, _ in got.values()} == {"failed"}


def test_the_solution_passes_in_the_release(release: Path) -> None:
    report = replayed(release, SOLUTION)
    assert {outcome for outcome, _ in outcomes(report).values()} == {"passed"}
    assert report["score"] == report["max_score"] == 10.0


def test_a_wrong_solution_gets_the_full_graders_verdicts(release: Path, tmp_path: Path) -> None:
    wrong = wrong_file(WRONG, tmp_path / "wrong")
    got, want = outcomes(replayed(release, wrong)), outcomes(full(wrong, tmp_path))
    assert got == want
    assert [o for o, _ in got.values()].count("failed") >= 4


@pytest.mark.parametrize(
    "number", range(len(ROUNDS)), ids=[f"round{k + 1}" for k in range(len(ROUNDS))]
)
def test_every_wrong_implementation_fails_in_the_release(
    release: Path, release_grader: WarmGrader, tmp_path: Path, number: int
) -> None:
    """Graded in rounds, as tests/test_wrong_implementations.py grades them with the reference:
    each fails its expected checks here too, and no check is left not run."""
    chosen = ROUNDS[number]
    for exercise_id, path in chosen.items():
        target = tmp_path / CATALOG.get(exercise_id).path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wrong_source(path), encoding="utf-8")
    request = RunRequest(tmp_path, tuple(chosen), "cpu")
    report = GraderRun(request, release_dirs(release), warm=release_grader).run().to_dict()
    graded = {exercise["id"]: exercise["checks"] for exercise in report["exercises"]}
    problems = [f"{exercise_id}: not graded" for exercise_id in chosen if exercise_id not in graded]
    for exercise_id, path in chosen.items():
        where = f"{exercise_id}/{path.name}"
        checks = {c["name"]: c for c in graded.get(exercise_id, []) if c["device"] != "cuda"}
        missed = sorted(
            n for n in expected_failures(path) if checks.get(n, {}).get("outcome") != "failed"
        )
        if missed:
            problems.append(f"{where}: does not fail {missed} in the release")
        for name, check in checks.items():
            if check["outcome"] in ("not_run", "error"):
                problems.append(f"{where}: {name} is {check['outcome']}: {check['message'][:200]}")
    assert not problems, "\n".join(problems)


def test_other_seeds_never_judge_with_the_recording(release: Path) -> None:
    checks = outcomes(replayed(release, SOLUTION, "--seed", "5"))
    assert {outcome for outcome, _ in checks.values()} == {"not_run"}
    assert all(message.startswith(NEEDS_REFERENCE) for _, message in checks.values())
    assert all("for the public seed only" in message for _, message in checks.values())


def test_a_release_cannot_grade_or_release_again(release: Path, tmp_path: Path) -> None:
    graded = mllab("grade", str(release), "--out", str(tmp_path / "o"), cwd=release)
    assert graded.returncode == 2 and "(is this a student release?)" in graded.stderr
    again = mllab("release", str(tmp_path / "again"), cwd=release)
    assert again.returncode == 2 and "run it from the instructors' course" in again.stderr


def test_the_course_can_be_named(release: Path, tmp_path: Path) -> None:
    named = mllab("--course", str(release / "course"), "list", cwd=tmp_path)
    assert named.returncode == 0 and "perceptron" in named.stdout
    wrong = mllab("--course", str(tmp_path), "list", cwd=tmp_path)
    assert wrong.returncode == 2
    assert f"MLLAB_COURSE={tmp_path}: not a course folder (it needs exercises/catalog.toml)" in (
        wrong.stderr
    )


TINY_CATALOG = """\
[course]
title = "Tiny"

[[exercise]]
id = "alpha"
title = "Alpha"
path = "alpha/alpha.py"

[[exercise]]
id = "beta"
title = "Beta"
path = "beta/beta.py"
"""
ALPHA = '''\
def double(x):
    """Twice x."""
    # TODO: return twice x.
    # BEGIN SOLUTION
    return x + x
    # END SOLUTION
'''
BETA = '''\
def twice(x):
    """Provided: {doc}"""
    return {body}


def quadruple(x):
    """Four times x."""
    # TODO: use twice.
    # BEGIN SOLUTION
    return twice(twice(x))
    # END SOLUTION
'''
CHECK = '''\
import pytest

pytestmark = pytest.mark.exercise("{id}")


def test_{fn}(submission, reference):
    """{fn} of 3"""
    assert submission.{fn}(3) == reference.{fn}(3)
'''


def tiny_course(root: Path, twice_body: str) -> Path:
    """Two exercises; beta's stub provides `twice` with the body given."""
    for folder in ("exercises/alpha", "exercises/beta", "solutions/alpha", "solutions/beta",
                   "checks"):  # fmt: skip
        (root / folder).mkdir(parents=True)
    (root / "exercises" / "catalog.toml").write_text(TINY_CATALOG)
    for exercise_id in ("alpha", "beta"):
        (root / "exercises" / exercise_id / "lesson.md").write_text(f"# {exercise_id}\n")
    (root / "solutions" / "alpha" / "alpha.py").write_text(ALPHA)
    (root / "solutions" / "beta" / "beta.py").write_text(
        BETA.format(doc="the same as alpha's double", body=twice_body)
    )
    (root / "checks" / "test_alpha.py").write_text(CHECK.format(id="alpha", fn="double"))
    # beta's check needs no reference: its release still records (nothing) for it.
    beta_check = CHECK.format(id="beta", fn="quadruple").replace("reference.quadruple(3)", "12")
    (root / "checks" / "test_beta.py").write_text(beta_check.replace(", reference", ""))
    return root


def test_a_release_refuses_to_ship_another_exercises_answer(tmp_path: Path) -> None:
    """beta's provided `twice` is alpha's answer: releasing beta alone would hand it out."""
    course = tiny_course(tmp_path / "course", "x + x")
    out = tmp_path / "out"
    refused = mllab("--course", str(course), "release", str(out), "--exercise", "beta")
    assert refused.returncode == 2, refused.stdout
    assert "the release would hold reference solutions" in refused.stderr
    assert "beta/beta.py: twice has the body of alpha.double" in refused.stderr
    assert "mllab_edu-" in refused.stderr and "twice has the body of alpha.double" in refused.stderr
    assert not out.exists()
    (course / "solutions" / "beta" / "beta.py").write_text(
        BETA.format(doc="another formulation", body="2 * x")
    )
    released = mllab("--course", str(course), "release", str(out), "--exercise", "beta")
    assert released.returncode == 0, released.stderr
    assert (out / "beta" / "beta.py").is_file() and not (out / "alpha").exists()
    assert json.loads((out / "course" / "replay" / "beta.json").read_text())["calls"] == {}
    doctor = mllab("doctor", cwd=out)
    assert "a student release, no solutions" in " ".join(doctor.stdout.split()), doctor.stdout
    assert "missing" not in doctor.stdout
