"""`mllab release` end to end on the perceptron: the release holds no solution, and its replayed
checks agree with the full grader on the public seed, or say `not_run`, never another verdict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, mllab, stubs_workspace, wrong_file

from grader.replay import NEEDS_REFERENCE

pytestmark = pytest.mark.slow

PATH = "perceptron/perceptron.py"
WRONG = REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student-repo"
    result = mllab("release", str(out), "--exercise", "perceptron", "--requirement", "mllab==9.9")
    assert result.returncode == 0, result.stderr
    assert "Released 1 exercise(s)" in result.stdout
    return out


def outcomes(report: dict) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["outcome"], c["message"]) for c in report["exercises"][0]["checks"]}


def replayed(release: Path, source: Path, *extra: str, cwd: Path | None = None) -> dict:
    """`mllab check --all` inside the release, as its CI runs it, with `source` as the file."""
    shutil.copyfile(source, release / PATH)
    result = mllab("check", "--all", "--device", "cpu", "--format", "json", *extra,
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


def test_the_release_holds_the_course_but_no_solution(release: Path) -> None:
    files = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert {PATH, "perceptron/lesson.md", "README.md", "requirements.txt", ".mllab/.gitignore",
            ".github/workflows/mllab.yml", "course/exercises/catalog.toml",
            "course/checks/test_perceptron.py", "course/checks/pytest.ini",
            "course/replay/perceptron.json", "course/release.json"} <= files  # fmt: skip
    solution = SOLUTION.read_bytes()
    assert not [f for f in files if (release / f).read_bytes() == solution]
    assert not [f for f in files if "solution" in f]
    assert (release / "requirements.txt").read_text() == "mllab==9.9\n"
    workflow = (release / ".github" / "workflows" / "mllab.yml").read_text()
    cpu_torch = "--extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt"
    assert f"pip install {cpu_torch}" in workflow
    assert "mllab check --all --device cpu" in workflow
    listed = mllab("list", cwd=release / "perceptron")
    assert listed.returncode == 0 and "perceptron" in listed.stdout
    assert "backprop" not in listed.stdout  # only the released exercise is in its catalog


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


def test_a_wrong_solution_gets_the_full_verdict_or_not_run(release: Path, tmp_path: Path) -> None:
    wrong = wrong_file(WRONG, tmp_path / "wrong")
    got, want = outcomes(replayed(release, wrong)), outcomes(full(wrong, tmp_path))
    assert got.keys() == want.keys()
    for name, (outcome, message) in got.items():
        if outcome == "not_run":
            assert message.startswith(NEEDS_REFERENCE), message
        else:
            assert (outcome, message) == want[name], name
    assert [o for o, _ in got.values()].count("failed") >= 2  # real feedback, not only not_run
    assert [o for o, _ in got.values()].count("not_run") >= 1


def test_other_seeds_never_judge_with_the_recording(release: Path) -> None:
    checks = outcomes(replayed(release, SOLUTION, "--seed", "5"))
    assert {outcome for outcome, _ in checks.values()} == {"not_run"}
    assert all("for the public seed only" in message for _, message in checks.values())


def test_a_release_cannot_grade_or_release_again(release: Path, tmp_path: Path) -> None:
    graded = mllab("grade", str(release), "--out", str(tmp_path / "o"), cwd=release)
    assert graded.returncode == 2 and "(is this a student release?)" in graded.stderr
    again = mllab("release", str(tmp_path / "again"), cwd=release)
    assert again.returncode == 2 and "run it from the instructors' course" in again.stderr


def test_the_course_can_be_named(release: Path, tmp_path: Path) -> None:
    named = mllab("--course", str(release / "course"), "list", cwd=tmp_path)
    assert named.returncode == 0 and "perceptron" in named.stdout and "backprop" not in named.stdout
    wrong = mllab("--course", str(tmp_path), "list", cwd=tmp_path)
    assert wrong.returncode == 2
    assert f"MLLAB_COURSE={tmp_path}: not a course folder (it needs exercises/catalog.toml)" in (
        wrong.stderr
    )
