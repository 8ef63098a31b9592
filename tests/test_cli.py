"""The `mllab` command line as users run it: exit codes, report formats, workspaces, messages."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from grading import REPO, mllab, stubs_workspace

from mllab.course import load_course_catalog
from mllab.paths import course_dirs

SOLUTIONS, STUBS = REPO / "solutions", stubs_workspace()
CATALOG = load_course_catalog(course_dirs())
COURSE_POINTS = sum(e.points for e in CATALOG.exercises)


def test_help_lists_the_commands() -> None:
    result = mllab("--help")
    assert result.returncode == 0
    for command in ("check", "list", "hint", "doctor", "init", "dev"):
        assert command in result.stdout
    check_help = mllab("check", "--help").stdout
    for option in ("--all", "--workspace", "--device", "--seed", "--format", "--output"):
        assert option in check_help


def test_solutions_score_full_marks_as_json() -> None:
    result = mllab(
        "check", "perceptron", "evaluation", "--workspace", str(SOLUTIONS), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "mllab-report/1"
    assert report["score"] == report["max_score"] > 0
    outcomes = {c["outcome"] for e in report["exercises"] for c in e["checks"]}
    assert outcomes <= {"passed", "not_run"} and "passed" in outcomes


def test_stubs_score_zero_with_plain_text_summary() -> None:
    # Two exercises here: CI runs `mllab dev check`, which grades every stub.
    result = mllab(
        "check", "perceptron", "evaluation", "--workspace", str(STUBS), "--device", "cpu"
    )
    assert result.returncode == 1
    assert "perceptron" in result.stdout and "FAILED" in result.stdout
    assert "not implemented yet" in result.stdout
    points = sum(CATALOG.get(i).points for i in ("perceptron", "evaluation"))
    assert f"Total: 0/{points:g} points" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colours


def test_junit_report_written_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "junit.xml"
    result = mllab(
        "check", "perceptron", "--workspace", str(STUBS), "--device", "cpu",
        "--format", "junit", "--output", str(target),
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    root = ET.parse(target).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 7
    assert all(case.find("failure") is not None for case in cases)


def test_gradescope_with_a_secret_seed_still_passes_solutions() -> None:
    result = mllab(
        "check", "--all", "--workspace", str(SOLUTIONS), "--format", "gradescope", "--seed", "987"
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert results["score"] == COURSE_POINTS
    assert all(test["status"] == "passed" for test in results["tests"] if test["max_score"])


def test_cuda_only_run_without_cuda_is_not_a_failure() -> None:
    result = mllab(
        "check", "--all", "--workspace", str(STUBS), "--device", "cuda", "--format", "json"
    )
    report = json.loads(result.stdout)
    checks = [c for e in report["exercises"] for c in e["checks"]]
    assert checks and all(c["outcome"] == "not_run" for c in checks)
    assert all("CUDA" in c["message"] or "CPU only" in c["message"] for c in checks)
    assert report["max_score"] == 0
    assert result.returncode == 0


def test_user_mistakes_get_a_message_and_status_2(tmp_path: Path) -> None:
    unknown = mllab("check", "nonexistent", "--workspace", str(SOLUTIONS))
    assert unknown.returncode == 2
    assert "unknown exercise 'nonexistent'" in unknown.stderr and "Traceback" not in unknown.stderr
    missing = mllab("check", "--workspace", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    nowhere = mllab("check", cwd=tmp_path / "empty")
    assert nowhere.returncode == 2 and "mllab init" in nowhere.stderr
    bad_hint = mllab("hint", "nonexistent")
    assert bad_hint.returncode == 2 and "unknown exercise" in bad_hint.stderr


def test_init_then_check_records_progress(tmp_path: Path) -> None:
    course = tmp_path / "course"
    created = mllab("init", str(course))
    assert created.returncode == 0, created.stderr
    stub = course / "perceptron" / "perceptron.py"
    assert stub.read_text() == (STUBS / "perceptron" / "perceptron.py").read_text()
    assert (course / "perceptron" / "lesson.md").is_file()
    assert not any("solutions" in str(p) for p in course.rglob("*"))
    again = mllab("init", str(course))
    assert again.returncode == 2 and "already" in again.stderr

    stub.write_text((SOLUTIONS / "perceptron" / "perceptron.py").read_text())
    checked = mllab("check", "perceptron", "--device", "cpu", cwd=course / "perceptron")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    progress = json.loads((course / ".mllab" / "progress.json").read_text())
    assert progress["exercises"]["perceptron"]["status"] == "passed"
    listing = mllab("list", cwd=course)
    assert "passed" in listing.stdout

    first = mllab("hint", "perceptron", cwd=course).stdout
    second = mllab("hint", "perceptron", cwd=course).stdout
    assert "Hint 1/" in first and "Hint 2/" not in first
    assert "Hint 2/" in second


def test_doctor_reports_a_ready_machine() -> None:
    result = mllab("doctor")
    assert result.returncode == 0, result.stdout
    for item in ("python", "torch", "cuda", "course"):
        assert f"{item}:" in result.stdout


def test_dev_check_passes_on_the_course() -> None:
    # One exercise here: CI runs `mllab dev check` on the whole course before the tests.
    result = mllab("dev", "check", "perceptron")
    assert result.returncode == 0, result.stdout
    assert "stubs fail, solutions pass" in result.stdout


def test_interrupting_check_leaves_no_grader_behind(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    marker = f"mllab-interrupt-{tmp_path.name}"
    slow = tmp_path / "ws" / "perceptron" / "perceptron.py"
    slow.parent.mkdir(parents=True)
    slow.write_text(f"import time\n# {marker}\ntime.sleep(60)\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "mllab", "check", "perceptron", "--workspace", str(tmp_path / "ws")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the grader (named by our folder) is up
        grader = f"mllab-workspace={tmp_path}"
        found = subprocess.run(["pgrep", "-f", grader], capture_output=True, text=True)
        if found.stdout.strip():
            break
        time.sleep(0.2)
    time.sleep(3)  # let it start the worker, which then sleeps at import
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in stderr
    time.sleep(0.5)
    survivors = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert survivors.stdout.strip() == "", "grader or worker processes outlived mllab"
