"""Two waits of a learner in the lab: the first verdict after launch, and an infinite loop."""

from __future__ import annotations

import time
from pathlib import Path

from mllab.catalog import load_catalog
from mllab.paths import course_dirs
from mllab.runner import GraderRun, RunRequest
from mllab.warm import WarmGrader

HUNG_TIMEOUT = 2.0  # seconds per call in the hung-function run


def first_verdict(workspace: Path, exercise: str) -> tuple[float, float]:
    """Seconds to the first verdict when the lab starts and the learner runs the checks at once
    (the warm grader starting beside the run, as in the lab), and for a cold `mllab check`
    alone."""
    request = RunRequest(workspace=workspace, exercises=(exercise,), device="cpu")
    started = time.perf_counter()
    warm = WarmGrader(course_dirs()).start()
    try:
        warm.runner(request).run()
        lab = time.perf_counter() - started
    finally:
        warm.close()
    started = time.perf_counter()
    GraderRun(request).run()
    return lab, time.perf_counter() - started


def hung_function(workspace: Path) -> tuple[float, int, int]:
    """A perceptron whose `predict` never returns: seconds for the run, the checks that failed
    with the timeout's message, and the checks that waited out a limit (the others failed at once,
    their function having timed out earlier in the run)."""
    relative = load_catalog(course_dirs().catalog).get("perceptron").path
    target = workspace / relative
    source = target.read_text(encoding="utf-8")
    target.write_text(
        source + "\n\ndef predict(w, b, X):\n    while True:\n        pass\n", encoding="utf-8"
    )
    try:
        request = RunRequest(
            workspace=workspace, exercises=("perceptron",), device="cpu", timeout=HUNG_TIMEOUT
        )
        started = time.perf_counter()
        report = GraderRun(request).run()
        seconds = time.perf_counter() - started
    finally:
        target.write_text(source, encoding="utf-8")
    timed_out = sum("timed out after" in c.message for c in report.checks)
    return seconds, timed_out, sum(c.duration >= HUNG_TIMEOUT for c in report.checks)
