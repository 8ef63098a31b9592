"""`mllab release --gradescope`: a ready autograder zip, and its run_autograder run on submissions
as Gradescope runs it (its /autograder paths moved into a temporary folder)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, mllab, wrong_source

from grader.formats import HIDDEN_EXPECTED

pytestmark = pytest.mark.slow

WRONG = REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    options = ("--seed", "4242", "--visibility", "after_due_date", "--hide-expected")
    result = mllab("release", str(out), "--gradescope", "--exercise", "perceptron", *options)
    assert result.returncode == 0, result.stderr
    return out


def autograder(bundle: Path, root: Path) -> Path:
    """Gradescope's /autograder, at `root`: the zip unpacked into source/, mllab on the PATH."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    script = (source / "run_autograder").read_text().replace("/autograder", str(root))
    (source / "run_autograder").write_text(script)
    shim = root / "mllab-venv" / "bin" / "mllab"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mllab "$@"\n')
    shim.chmod(0o755)
    return root


def run_autograder(root: Path, files: dict[str, str]) -> dict:
    submission = root / "submission"
    if submission.exists():
        for path in sorted(submission.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        submission.rmdir()
    for relative, text in files.items():
        (submission / relative).parent.mkdir(parents=True, exist_ok=True)
        (submission / relative).write_text(text)
    subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True,
                   text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_holds_the_scripts_the_course_and_the_seed(bundle: Path) -> None:
    archive = zipfile.ZipFile(bundle)
    names = set(archive.namelist())
    assert {"setup.sh", "run_autograder", "paths.txt", "README.md",
            "course/exercises/catalog.toml", "course/exercises/perceptron/lesson.md",
            "course/solutions/perceptron/perceptron.py", "course/checks/test_perceptron.py",
            "course/checks/pytest.ini"} <= names  # fmt: skip
    assert [n for n in names if n.startswith("wheels/mllab_edu-0.1.0+gradescope.")]
    assert not [n for n in names if n.startswith("course/checks/test_") and "perceptron" not in n]
    for script in ("setup.sh", "run_autograder"):
        mode = archive.getinfo(script).external_attr >> 16
        assert mode & stat.S_IXUSR, f"{script} must be executable"
    run = archive.read("run_autograder").decode()
    assert "--seed 4242" in run and "--visibility after_due_date --hide-expected" in run
    assert "pip install" in archive.read("setup.sh").decode()


def test_run_autograder_grades_a_submission_as_gradescope_wants(
    bundle: Path, tmp_path: Path
) -> None:
    root = autograder(bundle, tmp_path / "autograder")
    # Uploaded alone, at the top of the submission: found by its name.
    wrong = run_autograder(root, {"perceptron.py": wrong_source(WRONG)})
    assert wrong["visibility"] == "after_due_date" and 0 < wrong["score"] < 10
    assert isinstance(wrong["execution_time"], float) and wrong["execution_time"] > 0
    failed = [t for t in wrong["tests"] if t.get("status") == "failed"]
    assert failed and all(t["output"].startswith(HIDDEN_EXPECTED) for t in failed)
    assert all(t["visibility"] == "after_due_date" for t in wrong["tests"])
    # A repository: the file at its catalog path, the rest ignored.
    right = run_autograder(root, {"perceptron/perceptron.py": SOLUTION.read_text(),
                                  "notes.txt": "hello"})  # fmt: skip
    assert right["score"] == 10.0 and {t["status"] for t in right["tests"]} == {"passed"}
    nothing = run_autograder(root, {"readme.txt": "I forgot"})
    assert nothing["score"] == 0.0 and "could not be graded" in nothing["output"]


def test_the_seed_must_be_secret(tmp_path: Path) -> None:
    for extra, message in ((), "--gradescope needs --seed"), (("--seed", "0"), "public seed"):
        result = mllab("release", str(tmp_path / "a.zip"), "--gradescope", *extra)
        assert result.returncode == 2 and message in result.stderr
