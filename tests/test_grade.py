"""`mllab grade` end to end on the perceptron: a class with honest, wrong and broken submissions,
the files it writes, an interrupted shard resumed and merged into the same gradebook, merges that
must be refused, and students' files removed however grading stops."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from grading import REPO, mllab, stubs_workspace, wrong_file

pytestmark = pytest.mark.slow

PATH = "perceptron/perceptron.py"
GRADE = ("--exercise", "perceptron", "--seed", "1234", "--timeout", "5")


def make_class(root: Path) -> list[str]:
    """Four gradable submissions and six broken ones, as a class hands them in."""
    root.mkdir()

    def folder(name: str, source: Path) -> None:
        (root / name / "perceptron").mkdir(parents=True)
        shutil.copyfile(source, root / name / PATH)

    folder("ada", REPO / "solutions" / PATH)
    wrong = REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py"
    folder("cleo", wrong_file(wrong, root.parent / "wrong"))
    folder("dora", stubs_workspace() / PATH)
    (root / "dora" / PATH).write_text("import torch\n\ndef predict(w, b, X)\n    return X\n")
    with zipfile.ZipFile(root / "ben.zip", "w") as archive:  # a stub, inside a top folder
        archive.write(stubs_workspace() / PATH, f"ben-submission/{PATH}")
    with zipfile.ZipFile(root / "slip.zip", "w") as archive:
        archive.writestr(PATH, "x = 1\n")
        archive.writestr("../../outside.py", "x = 1\n")
    (root / "dup").mkdir()
    shutil.copyfile(root / "ben.zip", root / "dup.zip")
    (root / "empty").mkdir()
    (root / "zlink" / "perceptron").mkdir(parents=True)
    (root / "zlink" / PATH).symlink_to(REPO / "solutions" / PATH)
    os.mkdir(os.path.join(os.fsencode(root), b"caf\xe9"))
    names = sorted(os.listdir(os.fsencode(root)))
    return [os.fsdecode(os.path.join(os.fsencode(root), n)) for n in names] + [str(root / "gone")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    base = tmp_path_factory.mktemp("class")
    submissions = make_class(base / "submissions")
    result = mllab("grade", *submissions, *GRADE, "--jobs", "2", "--out", str(base / "out"))
    assert result.returncode == 1, result.stderr  # some submissions could not be graded
    return base / "out", submissions, result.stderr


def rows(out: Path) -> dict[str, list[str]]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row[0]: row[1:] for row in csv.reader(handle)}


def test_every_student_gets_a_row_and_bad_input_an_error_row(graded) -> None:
    out, _, stderr = graded
    book = rows(out)
    assert book.pop("student") == ["status", "perceptron", "total", "max_total", "message"]
    assert book.pop("Points Possible")[:4] == ["max", "10", "10", "10"]  # what each column gives
    assert book.pop("ada") == ["graded", "10", "10", "10", ""]
    assert book.pop("ben") == ["graded", "0", "0", "10", ""]
    cleo = book.pop("cleo")
    assert cleo[:2] == ["graded", cleo[2]] and 0 < float(cleo[2]) < 10
    dora = book.pop("dora")  # a file that does not parse: graded, scored 0, and said why
    assert dora == [
        "graded",
        "0",
        "0",
        "10",
        "perceptron/perceptron.py does not parse (line 3: expected ':')",
    ]
    expected = {
        "caf\\xe9": "the submission's name is not valid UTF-8",
        "dup": "duplicate student id 'dup'",
        "empty": "the submission is empty",
        "gone": "gone: no such file or folder",
        "slip": "the zip entry '../../outside.py' points outside the submission",
        "zlink": "perceptron/perceptron.py is a symbolic link",
    }
    assert sorted(book) == sorted(expected)
    for student, message in expected.items():
        assert book[student][:4] == ["error", "", "", ""]
        assert message in book[student][4], book[student]
    assert "ada: graded, 10/10" in stderr
    assert not (out.parent / "outside.py").exists()


def test_each_student_gets_gradescope_results_and_feedback(graded) -> None:
    out, _, _ = graded
    for student in rows(out):
        if student in ("student", "Points Possible"):
            continue
        results = json.loads((out / "students" / student / "results.json").read_text())
        feedback = (out / "students" / student / "feedback.txt").read_text()
        assert feedback.startswith(f"Student: {student}\n")
        assert results["score"] == (10.0 if student == "ada" else results["score"])
    ben = (out / "students" / "ben" / "feedback.txt").read_text()
    assert "Inputs: secret seed" in ben and "not implemented yet: predict()" in ben
    ada = json.loads((out / "students" / "ada" / "results.json").read_text())
    assert {test["status"] for test in ada["tests"]} == {"passed"} and len(ada["tests"]) == 7


def test_class_files_rank_the_checks_the_class_fails(graded) -> None:
    out, _, _ = graded
    cleo = json.loads((out / "students" / "cleo" / "record.json").read_text())["report"]
    cleo_failed = {c["name"] for c in cleo["exercises"][0]["checks"] if c["outcome"] == "failed"}
    with open(out / "checks.csv", newline="") as handle:
        checks = list(csv.DictReader(handle))
    assert len(checks) == 7
    worst = [c["check"] for c in checks if c["pass_rate"] == "0.250"]
    assert set(worst) == cleo_failed and checks[0]["check"] in cleo_failed
    assert all(c["pass_rate"] == "0.500" for c in checks[len(worst) :])
    junit = ET.parse(out / "junit.xml").getroot()
    assert junit.get("tests") == str(4 * 7 + 6) and junit.get("errors") == "6"
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("10 submissions: 4 graded, 6 could not be graded\n")


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, as a scheduler cancelling a job does."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except (OSError, ValueError):
            continue
        if name.isdigit():
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(name))
    todo = [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            os.kill(current, signal.SIGKILL)
        except ProcessLookupError:
            pass


def staged(pid: int) -> list[Path]:
    """The staging folders of the batch process `pid` (students' files while it grades)."""
    return sorted(Path(tempfile.gettempdir()).glob(f"mllab-grade-{pid}-*"))


def wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while not path.exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)


def test_killed_shard_resumes_and_merges_into_the_same_gradebook(graded, tmp_path) -> None:
    baseline, submissions, _ = graded
    shard = [sys.executable, "-m", "mllab", "grade", *submissions, *GRADE, "--jobs", "1"]
    # Shard 2/2 holds ben, cleo, dup, gone and zlink: kill it while cleo is being graded.
    started = subprocess.Popen(
        [*shard, "--shard", "2/2", "--out", str(tmp_path / "two")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(tmp_path / "two" / "students" / "ben" / "record.json", started)
    kill_tree(started.pid)
    started.wait()
    assert not (tmp_path / "two" / "students" / "cleo" / "record.json").exists()
    assert not (tmp_path / "two" / "gradebook.csv").exists()
    assert staged(started.pid), "a SIGKILL leaves the staged files behind"
    refused = mllab(*shard[3:], "--shard", "2/2", "--out", str(tmp_path / "two"))
    assert refused.returncode == 2 and "add --resume to continue it" in refused.stderr
    one = mllab(*shard[3:], "--shard", "1/2", "--out", str(tmp_path / "one"))
    assert one.returncode == 1, one.stderr
    assert not staged(started.pid), "the next batch removes what a killed one left"
    shards = [str(tmp_path / "one"), str(tmp_path / "two")]
    early = mllab("grade-merge", *shards, "--out", str(tmp_path / "all"))
    assert early.returncode == 2 and not (tmp_path / "all").exists()
    assert "has not graded 4 of its students: cleo, dup, gone, zlink" in early.stderr
    again = mllab(*shard[3:], "--shard", "2/2", "--out", str(tmp_path / "two"), "--resume")
    assert "resuming: 1 of 5 submissions were already graded" in again.stderr
    assert again.returncode == 1, again.stderr
    merged = mllab("grade-merge", *shards, "--out", str(tmp_path / "all"))
    assert merged.returncode == 1, merged.stderr
    assert (tmp_path / "all" / "gradebook.csv").read_text() == (
        baseline / "gradebook.csv"
    ).read_text()
    # Merging again rebuilds the same class; merging into a graded batch never mixes them.
    assert mllab("grade-merge", *shards, "--out", str(tmp_path / "all")).returncode == 1
    into_batch = mllab("grade-merge", shards[0], "--out", str(baseline))
    assert into_batch.returncode == 2 and "holds a graded batch" in into_batch.stderr
    # Half a class is refused, unless asked for, and then said.
    half = mllab("grade-merge", shards[0], "--out", str(tmp_path / "half"))
    assert half.returncode == 2 and "shard 2 of 2 missing" in half.stderr
    partial = mllab("grade-merge", shards[0], "--out", str(tmp_path / "half"), "--partial")
    assert partial.returncode == 1 and "note: --partial: shard 2 of 2 missing" in partial.stderr
    assert set(rows(tmp_path / "half")) == {"student", "Points Possible", "ada", "caf\\xe9",
                                            "dora", "empty", "slip"}  # fmt: skip


def test_merge_and_resume_refuse_other_settings(graded, tmp_path) -> None:
    """A shard or a resumed batch graded with another isolation (or seed) never joins a class."""
    baseline, submissions, _ = graded
    other = tmp_path / "other"
    shutil.copytree(baseline, other)
    settings = json.loads((other / "batch.json").read_text())
    isolation = "process" if settings["isolation"] == "bwrap" else "bwrap"
    (other / "batch.json").write_text(json.dumps(dict(settings, isolation=isolation, shard=[2, 2])))
    one = tmp_path / "one"
    shutil.copytree(baseline, one)
    (one / "batch.json").write_text(json.dumps(dict(settings, shard=[1, 2])))
    mixed = mllab("grade-merge", str(one), str(other), "--out", str(tmp_path / "all"))
    assert mixed.returncode == 2 and "graded with another isolation" in mixed.stderr
    (other / "batch.json").write_text(json.dumps(dict(settings, seed="public", shard=[2, 2])))
    mixed = mllab("grade-merge", str(one), str(other), "--out", str(tmp_path / "all"))
    assert mixed.returncode == 2 and "graded with another seed" in mixed.stderr
    other_isolation = "process" if settings["isolation"] == "bwrap" else "bwrap"
    resumed = mllab("grade", *submissions, *GRADE, "--out", str(baseline), "--resume",
                    "--isolation", other_isolation)  # fmt: skip
    assert resumed.returncode == 2, resumed.stderr
    assert "another isolation" in resumed.stderr or "--isolation bwrap:" in resumed.stderr


def test_sigterm_stops_grading_and_removes_the_staged_files(graded, tmp_path) -> None:
    _, submissions, _ = graded
    started = subprocess.Popen(
        [sys.executable, "-m", "mllab", "grade", *submissions, *GRADE, "--jobs", "1",
         "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    wait_for(tmp_path / "out" / "students" / "ada" / "record.json", started)
    assert staged(started.pid)
    started.send_signal(signal.SIGTERM)
    _, stderr = started.communicate(timeout=60)
    assert started.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not staged(started.pid)
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_usage_mistakes_exit_2_with_a_message(tmp_path: Path) -> None:
    cases = [
        (["--shard", "3/2"], "--shard 3/2: K must be between 1 and N"),
        (["--exercise", "nope"], "unknown exercise 'nope'"),
        (["--jobs", "0"], "expected a whole number of at least 1"),
    ]
    for extra, message in cases:
        result = mllab("grade", str(tmp_path), "--out", str(tmp_path / "o"), *extra)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_help_explains_the_instructor_commands() -> None:
    top = mllab("--help").stdout
    assert "grade" in top and "release" in top and "--course" in top
    grade_help = mllab("grade", "--help").stdout
    for text in ("--jobs", "--resume", "--shard", "--isolation", "gradebook.csv", "grade-merge"):
        assert text in grade_help
    assert "never the solutions" in mllab("release", "--help").stdout
