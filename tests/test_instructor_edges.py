"""The instructors' and authors' commands on what real classes and courses hand them: zips made by
file managers, repositories zipped for Gradescope, a class list that changes between a run and its
--resume, and `mllab dev` pointed at a student release or at a course without checks of its own."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, mllab
from rich.console import Console
from test_gradescope import autograder as unpacked_autograder

from mllab.batch.submissions import Entry, stage
from mllab.catalog import load_catalog
from mllab.commands.devcheck import run_dev_check
from mllab.commands.devnew import ScaffoldError, scaffold
from mllab.paths import COURSE_ENV, CourseDirs

PATH = "perceptron/perceptron.py"

WANTED = ["perceptron/perceptron.py", "backprop/mlp.py"]
CODE = b"def predict(w, b, X):\n    return X\n"


def test_a_zip_made_by_macos_finder_is_staged_from_inside_its_top_folder(tmp_path: Path) -> None:
    # Finder's "Compress" puts __MACOSX/ (resource forks) and .DS_Store files beside the folder.
    source = tmp_path / "alice.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("alice/perceptron/perceptron.py", CODE)
        archive.writestr("alice/.DS_Store", b"\0\0\0\1Bud1")
        archive.writestr("__MACOSX/alice/perceptron/._perceptron.py", b"\0\5\26\7")
        archive.writestr(".DS_Store", b"\0\0\0\1Bud1")
    target = tmp_path / "staged"
    target.mkdir()
    notes, ignored = stage(Entry("alice", source), WANTED, target)
    assert (target / "perceptron" / "perceptron.py").read_bytes() == CODE
    assert notes == ["missing: backprop/mlp.py"]
    assert ignored == []  # the litter is nobody's work: not listed in the student's feedback


def test_a_folder_unzipped_on_windows_is_staged_from_inside_its_top_folder(tmp_path: Path) -> None:
    source = tmp_path / "bob"
    (source / "bob-submission" / "perceptron").mkdir(parents=True)
    (source / "bob-submission" / "perceptron" / "perceptron.py").write_bytes(CODE)
    (source / "Thumbs.db").write_bytes(b"\xd0\xcf")
    (source / "bob-submission" / "notes.txt").write_text("mine")
    target = tmp_path / "staged"
    target.mkdir()
    notes, ignored = stage(Entry("bob", source), WANTED, target)
    assert (target / "perceptron" / "perceptron.py").read_bytes() == CODE
    assert ignored == ["notes.txt"]


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gradescope's /autograder in a temporary folder: the bundle unpacked into source/."""
    root = tmp_path_factory.mktemp("autograder")
    bundle = root / "autograder.zip"
    result = mllab("release", str(bundle), "--gradescope", "--seed", "4242",
                   "--exercise", "perceptron", "--isolation", "process")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return unpacked_autograder(bundle, root)


def gradescope_run(root: Path, files: dict[str, str]) -> dict:
    """run_autograder on a submission holding `files`, as Gradescope runs it; its results."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    for relative, text in files.items():
        (root / "submission" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / relative).write_text(text)
    subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True,
                   timeout=300, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.slow
def test_gradescope_grades_a_zipped_repository_inside_its_top_folder(autograder: Path) -> None:
    # GitHub's "Download ZIP" of the student's repository, uploaded to Gradescope.
    repository = {f"repo-main/{PATH}": SOLUTION.read_text(), "repo-main/README.md": "# Mine",
                  "__MACOSX/repo-main/._README.md": "junk"}  # fmt: skip
    results = gradescope_run(autograder, repository)
    assert results["score"] == 10.0, results["output"]
    # Nothing to grade: the student is told what was looked for, never "the submission is empty".
    results = gradescope_run(autograder, {"notes.txt": "I forgot"})
    assert results["score"] == 0.0 and results["tests"] == []
    assert "the submission is empty" not in results["output"]
    assert PATH in results["output"] and "none of the exercise files" in results["output"]


def gradebook(folder: Path) -> dict[str, list[str]]:
    """OUT/gradebook.csv's rows by student (the Points Possible row left out)."""
    with open(folder / "gradebook.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[2:]
    return {row[0]: row[1:] for row in rows}


@pytest.mark.slow
def test_resume_after_fixing_error_rows_gives_the_gradebook_of_a_fresh_run(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    (submissions / "bob" / "perceptron").mkdir(parents=True)
    shutil.copyfile(SOLUTION, submissions / "bob" / PATH)
    with zipfile.ZipFile(submissions / "bob.zip", "w") as archive:  # bob handed in twice
        archive.write(SOLUTION, PATH)
    bad_name = os.path.join(os.fsencode(submissions), b"caf\xe9")  # a name that is not UTF-8
    os.makedirs(os.path.join(bad_name, b"perceptron"))
    shutil.copyfile(SOLUTION, os.path.join(bad_name, os.fsencode(PATH)))

    def grade(*extra: str) -> subprocess.CompletedProcess:
        names = sorted(os.listdir(os.fsencode(submissions)))
        paths = [os.fsdecode(os.path.join(os.fsencode(submissions), name)) for name in names]
        return mllab("grade", *paths, "--out", str(tmp_path / "out"), "--exercise", "perceptron",
                     "--seed", "9", "--isolation", "process", *extra)  # fmt: skip

    first = grade()
    assert first.returncode == 1, first.stderr
    assert {s: row[0] for s, row in gradebook(tmp_path / "out").items()} == {
        "bob": "error", "caf\\xe9": "error"}  # fmt: skip
    # The instructor does what the error rows say: removes the duplicate, renames the folder.
    (submissions / "bob.zip").unlink()
    os.rename(bad_name, submissions / "cafe")
    again = grade("--resume")
    assert again.returncode == 0, again.stdout + again.stderr
    rows = gradebook(tmp_path / "out")
    assert {s: (row[0], row[-3]) for s, row in rows.items()} == {
        "bob": ("graded", "10"), "cafe": ("graded", "10")}  # fmt: skip
    assert "caf\\xe9" in again.stderr and "left out of the gradebook" in again.stderr
    # A merge of that folder (a shard 1/1) takes the same students, not the stale record.
    merged = mllab("grade-merge", str(tmp_path / "out"), "--out", str(tmp_path / "merged"))
    assert merged.returncode == 0, merged.stderr
    assert list(gradebook(tmp_path / "merged")) == ["bob", "cafe"]
    assert not (tmp_path / "merged" / "students" / "caf\\xe9").exists()


def test_resume_refuses_to_show_expected_values_that_the_batch_hid(tmp_path: Path) -> None:
    (tmp_path / "dora").mkdir()  # an empty submission: an error row, nothing to run
    command = ["grade", str(tmp_path / "dora"), "--out", str(tmp_path / "out"),
               "--exercise", "perceptron", "--isolation", "process"]  # fmt: skip
    first = mllab(*command, "--hide-expected", "--visibility", "after_due_date")
    assert first.returncode == 1, first.stderr
    # The same command again, but for --hide-expected, forgotten.
    again = mllab(*command, "--resume", "--visibility", "after_due_date")
    assert again.returncode == 2
    assert "another --hide-expected choice than asked for now" in again.stderr


def test_a_batch_from_before_the_kept_choices_resumes_with_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "dora").mkdir()
    out = tmp_path / "out"
    command = ["grade", str(tmp_path / "dora"), "--out", str(out), "--exercise", "perceptron",
               "--isolation", "process"]  # fmt: skip
    assert mllab(*command).returncode == 1
    info = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    del info["visibility"], info["hide_expected"]  # as a batch.json of an earlier mllab
    (out / "batch.json").write_text(json.dumps(info), encoding="utf-8")
    assert "settings" not in mllab(*command, "--resume").stderr
    hidden = mllab(*command, "--resume", "--hide-expected")
    assert hidden.returncode == 2 and "--hide-expected choice" in hidden.stderr


def _course(root: Path, *, solutions: bool, checks: bool, replay: bool) -> CourseDirs:
    """A course folder at `root` with the shipped catalog and lessons; its checks are those of
    an installed mllab (a folder outside the course) unless it has a checks/ folder."""
    shutil.copytree(REPO / "exercises", root / "exercises")
    if solutions:
        shutil.copytree(REPO / "solutions", root / "solutions")
    if replay:
        (root / "replay").mkdir()
    installed = root.parent / "site-packages" / "grader" / "checks"
    installed.mkdir(parents=True)
    if checks:
        (root / "checks").mkdir()
    return CourseDirs(
        root / "exercises", root / "solutions", root / "checks" if checks else installed
    )


def _scaffold_refused(dirs: CourseDirs) -> str:
    """Run `mllab dev new relu` on `dirs`; it must refuse and write nothing. Its message."""
    catalog_before = dirs.catalog.read_text(encoding="utf-8")
    tree_before = sorted(dirs.root.parent.rglob("*"))
    with pytest.raises(ScaffoldError) as refused:
        scaffold(load_catalog(dirs.catalog, dirs.checks), dirs, "relu", None)
    assert dirs.catalog.read_text(encoding="utf-8") == catalog_before
    assert sorted(dirs.root.parent.rglob("*")) == tree_before
    return str(refused.value)


def test_dev_new_never_writes_a_check_into_the_installed_mllab(tmp_path: Path) -> None:
    # A course of one's own without checks/ grades with mllab's checks; a new check module must
    # not land in the installed package (where an upgrade removes it), but in the course.
    dirs = _course(tmp_path / "mine", solutions=True, checks=False, replay=False)
    message = _scaffold_refused(dirs)
    assert "has no checks/ folder" in message and str(dirs.root / "checks") in message


def test_dev_new_and_dev_check_refuse_a_student_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `mllab dev new` run inside the students' repository would put a solution into it.
    dirs = _course(tmp_path / "release" / "course", solutions=False, checks=True, replay=True)
    assert "student release" in _scaffold_refused(dirs)
    monkeypatch.setenv(COURSE_ENV, str(dirs.root))
    console = Console(file=io.StringIO(), width=200)
    code = run_dev_check(load_catalog(dirs.catalog, dirs.checks), console, ["perceptron"])
    shown = console.file.getvalue()
    assert code == 2 and "student release" in shown and "restore it" not in shown


@pytest.mark.slow
def test_a_class_graded_where_no_check_can_run_gets_no_zero_grades(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("the CUDA checks run here")
    (tmp_path / "ada" / "perceptron").mkdir(parents=True)
    shutil.copyfile(SOLUTION, tmp_path / "ada" / PATH)
    result = mllab("grade", str(tmp_path / "ada"), "--out", str(tmp_path / "out"), "--exercise",
                   "perceptron", "--isolation", "process", "--device", "cuda")  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    status, score, *_, message = gradebook(tmp_path / "out")["ada"]
    assert (status, score) == ("error", "")  # never 0 out of 0 for a correct submission
    assert message.startswith("no check could run: ") and "CUDA" in message


def test_a_file_missing_from_a_submission_is_named_as_the_submissions(tmp_path: Path) -> None:
    alice = tmp_path / "subs" / "alice" / "perceptron"
    alice.mkdir(parents=True)
    (alice / "perceptron.py").write_text(SOLUTION.read_text())
    out = tmp_path / "out"
    graded = mllab("grade", str(alice.parent), "--out", str(out), "--exercise", "perceptron",
                   "--exercise", "activations_losses", "--isolation", "process")  # fmt: skip
    assert graded.returncode == 0, graded.stderr
    feedback = (out / "students" / "alice" / "feedback.txt").read_text(encoding="utf-8")
    assert "activations_losses/functions.py is not in the submission" in feedback
    # Nothing of the grader's staging folder, nor advice meant for a learner's workspace.
    assert "mllab-grade-" not in feedback and "--workspace" not in feedback


def test_a_new_course_gets_its_first_exercise(tmp_path: Path) -> None:
    course = tmp_path / "course"
    for folder in ("exercises", "solutions", "checks"):
        (course / folder).mkdir(parents=True)
    (course / "exercises" / "catalog.toml").write_text('[course]\ntitle = "Mine"\n')
    made = mllab("--course", str(course), "dev", "new", "relu")
    assert made.returncode == 0, made.stderr
    catalog = load_catalog(course / "exercises" / "catalog.toml", course / "checks")
    assert [exercise.id for exercise in catalog.exercises] == ["relu"]
    # Every other command still says what an empty course lacks.
    listed = mllab("--course", str(tmp_path / "course"), "list")
    assert listed.returncode == 0, listed.stderr
    (course / "exercises" / "catalog.toml").write_text('[course]\ntitle = "Mine"\n')
    empty = mllab("--course", str(course), "list")
    assert empty.returncode == 2 and "no [[exercise]] entries" in empty.stderr
