"""Bubblewrap isolation: what a worker may see, and a clear refusal where bwrap cannot run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from grading import REPO, mllab

from grader.sandbox import isolation


def test_missing_bwrap_is_refused_with_the_reason(tmp_path: Path) -> None:
    env_path = os.environ.get("PATH", "")
    os.environ["PATH"] = str(tmp_path)  # a PATH without bwrap
    try:
        problem = isolation.bwrap_problem()
        graded = mllab("grade", str(tmp_path), "--out", str(tmp_path / "o"),
                       "--isolation", "bwrap")  # fmt: skip
    finally:
        os.environ["PATH"] = env_path
    if not sys.platform.startswith("linux"):
        pytest.skip("bwrap isolation is for Linux only")
    assert problem is not None and problem.startswith("bubblewrap (bwrap) is not installed")
    assert graded.returncode == 2
    assert "mllab: --isolation bwrap: bubblewrap (bwrap) is not installed" in graded.stderr
    assert not (tmp_path / "o").exists()  # nothing graded with weaker isolation instead


def test_the_sandbox_shows_python_and_the_grader_but_never_the_solutions() -> None:
    solutions = str(REPO / "solutions")
    command = isolation.bwrap_command(["python"], "/tmp/scratch", "perceptron/perceptron.py",
                                      (solutions,), 64)  # fmt: skip
    binds = [command[i + 1] for i, arg in enumerate(command) if arg.startswith("--ro-bind")]
    assert str(REPO / "grader") in binds
    assert os.path.realpath(sys.base_prefix) in binds or any(
        os.path.realpath(sys.base_prefix).startswith(b + "/") for b in binds
    )
    assert not any(solutions == b or solutions.startswith(b + "/") for b in binds)
    assert "/tmp/scratch/perceptron/perceptron.py" in binds
    assert "--unshare-net" in command and "--unshare-pid" in command
    assert command[-1] == "python"


def test_signal_deaths_reported_by_bwrap_read_as_signals() -> None:
    assert isolation.signal_exit(137) == -9 and isolation.signal_exit(139) == -11
    assert isolation.signal_exit(0) == 0 and isolation.signal_exit(3) == 3
