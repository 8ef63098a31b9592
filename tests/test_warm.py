"""The warm grader: the same verdicts as a cold run, always on the newest code, nothing carried
from one run to the next, and a cold run whenever the warm one cannot give a report."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from grading import REPO, SOLUTION, Graded, solution_with, workspace_with
from test_hostile import (
    CALL_CASES,
    IMPORT_CASES,
    ONLY_IN_PREDICT_STEP,
    STUB,
    only_its_check_failed,
    says,
)

from grader.sandbox.forked import ForkedProcess
from mllab.runner import GraderRun, RunRequest
from mllab.warm import WarmGrader


def run(
    warm: WarmGrader | None, workspace: Path, *, timeout: float | None = None, **kwargs: Any
) -> tuple[Graded, GraderRun]:
    request = RunRequest(workspace, ("perceptron",), "cpu", timeout=timeout)
    runner = GraderRun(request, warm=warm)
    report = runner.run(**kwargs)
    return Graded(0 if report.score == report.max_score else 1, report.to_dict(), ""), runner


def warm_run(warm: WarmGrader, workspace: Path, **kwargs: Any) -> Graded:
    graded, runner = run(warm, workspace, **kwargs)
    assert isinstance(runner.process, ForkedProcess), "the run was not warm"
    return graded


def outcomes(graded: Graded) -> dict[str, str]:
    return {name: check["outcome"] for name, check in graded.checks().items()}


def test_warm_verdicts_equal_cold_ones(tmp_path: Path, warm: WarmGrader) -> None:
    wrong = (REPO / "tests" / "wrong" / "perceptron" / "sign_flipped_error.py").read_text()
    source = SOLUTION.read_text() + "\n" + wrong
    workspace = workspace_with(tmp_path, source)
    cold, runner = run(None, workspace)
    assert not isinstance(runner.process, ForkedProcess)
    hot = warm_run(warm, workspace)
    assert outcomes(hot) == outcomes(cold)
    assert "failed" in outcomes(hot).values() and "passed" in outcomes(hot).values()
    assert hot.report["score"] == cold.report["score"]


def test_each_run_takes_the_newest_file(tmp_path: Path, warm: WarmGrader) -> None:
    workspace = workspace_with(tmp_path, STUB)
    target = workspace / "perceptron" / "perceptron.py"
    assert warm_run(warm, workspace).report["score"] == 0.0
    target.write_text(SOLUTION.read_text())
    assert warm_run(warm, workspace).report["score"] == 10.0
    target.write_text(STUB)
    assert warm_run(warm, workspace).report["score"] == 0.0


def test_nothing_survives_from_one_run_to_the_next(tmp_path: Path, warm: WarmGrader) -> None:
    # Patches every module it can reach, at import; the next, honest run must not notice.
    patch = (
        "import sys, torch\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.Tensor.__add__ = lambda *a, **k: 0\n"
        "for name in list(sys.modules):\n"
        "    if name.startswith('grader'):\n"
        "        sys.modules[name].__dict__.clear()\n"
    )
    hostile = warm_run(warm, workspace_with(tmp_path / "a", STUB.replace("import torch\n", patch)))
    assert hostile.report["score"] == 0.0
    honest = warm_run(warm, workspace_with(tmp_path / "b", SOLUTION.read_text()))
    assert set(outcomes(honest).values()) == {"passed"}


@pytest.mark.parametrize("case", sorted(CALL_CASES))
def test_bad_call_fails_only_its_check_when_warm(
    tmp_path: Path, warm: WarmGrader, case: str
) -> None:
    body, expected = CALL_CASES[case]
    inner = "".join(f"    {line}\n" for line in body.splitlines())
    source = solution_with(predict_prefix=ONLY_IN_PREDICT_STEP + inner)
    graded = warm_run(warm, workspace_with(tmp_path, source), timeout=3)
    checks = graded.checks()
    assert checks["predict_step"]["outcome"] == "failed"
    assert expected in checks["predict_step"]["message"]
    lost = only_its_check_failed(checks)
    assert graded.report["score"] == 8.0 - lost


@pytest.mark.parametrize("case", sorted(IMPORT_CASES))
def test_bad_import_fails_every_check_when_warm(
    tmp_path: Path, warm: WarmGrader, case: str
) -> None:
    prefix, expected = IMPORT_CASES[case]
    graded = warm_run(warm, workspace_with(tmp_path, solution_with(module_prefix=prefix)))
    says(list(graded.checks().values()), expected)


def test_a_submission_that_kills_its_parent_hurts_only_itself(
    tmp_path: Path, warm: WarmGrader
) -> None:
    # A forked worker's parent is its own keeper, not the zygote its neighbours come from.
    killer = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(1)"
    graded = warm_run(warm, workspace_with(tmp_path / "a", solution_with(module_prefix=killer)))
    assert graded.report["score"] == 0.0
    for check in graded.checks().values():
        assert "killed the process that started it" in check["message"], check["message"]
    workspace = workspace_with(tmp_path / "b", SOLUTION.read_text())
    for _ in range(2):
        assert warm_run(warm, workspace).report["score"] == 10.0


def test_a_grader_that_dies_mid_run_is_run_again_cold(tmp_path: Path, warm: WarmGrader) -> None:
    runner: GraderRun | None = None
    starts: list[str] = []

    def kill_first_grader(event: dict[str, Any]) -> None:
        if event.get("event") == "run_started":
            starts.append("warm" if isinstance(runner.process, ForkedProcess) else "cold")
        if event.get("event") == "check_finished" and starts == ["warm"]:
            assert isinstance(runner.process, ForkedProcess)
            os.kill(runner.process.pid, signal.SIGKILL)

    request = RunRequest(workspace_with(tmp_path, SOLUTION.read_text()), ("perceptron",), "cpu")
    runner = GraderRun(request, warm=warm)
    report = runner.run(kill_first_grader)
    assert starts == ["warm", "cold"]
    assert report.score == 10.0 and report.max_score == 10.0


def test_cancel_kills_the_forked_grader_and_its_worker(tmp_path: Path, warm: WarmGrader) -> None:
    pid_file = tmp_path / "worker.pid"
    sleeper = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
    source = solution_with(predict_prefix="time.sleep(60)", module_prefix=sleeper)
    request = RunRequest(workspace_with(tmp_path, source), ("perceptron",), "cpu", timeout=120)
    runner = GraderRun(request, warm=warm)

    def cancel_once_the_worker_runs() -> None:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        runner.cancel()

    canceller = threading.Thread(target=cancel_once_the_worker_runs)
    canceller.start()
    started = time.monotonic()
    for _ in runner.events():
        pass
    canceller.join()
    assert time.monotonic() - started < 30, "the run went on after cancel()"
    assert runner.cancelled and runner.report is None
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the submission worker outlived its cancelled run"


def test_a_cancel_while_the_grader_starts_stops_it(tmp_path: Path, monkeypatch) -> None:
    runner = GraderRun(RunRequest(workspace_with(tmp_path, SOLUTION.read_text()), ("perceptron",)))
    start = GraderRun._start_cold

    def cancelled_while_starting(self: GraderRun, events_fd: int, log: Any) -> Any:
        self.cancel()  # lands before there is a process to kill
        return start(self, events_fd, log)

    monkeypatch.setattr(GraderRun, "_start_cold", cancelled_while_starting)
    events = list(runner.events())
    assert runner.report is None, "the run went on to its verdict after cancel()"
    assert all(event.get("event") != "run_finished" for event in events)
    runner.process.wait(timeout=10)
    # A run cancelled before it began starts nothing at all.
    early = GraderRun(RunRequest(tmp_path, ("perceptron",)))
    early.cancel()
    assert list(early.events()) == [] and early.process is None


def test_a_dead_warm_grader_means_cold_runs_then_a_new_one(tmp_path: Path) -> None:
    grader = WarmGrader().start()
    try:
        assert grader.wait_ready(180)
        assert grader.process is not None
        grader.process.kill()
        grader.process.wait()
        workspace = workspace_with(tmp_path, SOLUTION.read_text())
        graded, runner = run(grader, workspace)
        assert not isinstance(runner.process, ForkedProcess)
        assert graded.report["score"] == 10.0
        runner = grader.runner(RunRequest(workspace, ("perceptron",), "cpu"))
        assert grader.wait_ready(180), "a new warm grader was not started"
    finally:
        grader.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
