"""Live values a learner's training code reports through `log` reach the grader while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.sandbox.host import Limits, Reporter, Worker

SOURCE = """
import time
kept = []

def train(n, log):
    kept.append(log)
    for step in range(n):
        log("loss", 1.0 / (step + 1), step)
    return n

def flood(n, log):
    for step in range(n):
        log("loss", float(step), step)
    return "done"

def late(log=None):
    kept[0]("stale", 1.0, 0)
    return "ok"

def bad(log):
    log(3, 1.0)

def far(log):
    log("loss", 1.0, 10**400)
    log("loss", 2.0, -(2**60))
    log("loss", 3.0, 2**53)
    return "far"

def slow(seconds):
    time.sleep(seconds)
    return seconds
"""


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory):
    source = Path(tmp_path_factory.mktemp("reporter"), "train.py")
    source.write_text(SOURCE, encoding="utf-8")
    running = Worker(source, "train.py", Limits(call_timeout=2))
    running.start()
    yield running
    running.close()


def test_reports_arrive_in_order_with_the_result(worker: Worker) -> None:
    seen: list[tuple[str, float, int | None]] = []
    reply = worker.call_full("train", (4,), {}, reporter=Reporter(lambda *v: seen.append(v)))
    assert reply["value"] == 4
    assert seen == [("loss", 1.0, 0), ("loss", 0.5, 1), ("loss", 1 / 3, 2), ("loss", 0.25, 3)]


def test_a_flood_of_reports_is_capped(worker: Worker) -> None:
    seen: list[object] = []
    reporter = Reporter(lambda *v: seen.append(v), cap=100)
    assert worker.call_full("flood", (1000,), {}, reporter=reporter)["value"] == "done"
    assert len(seen) == 100 and reporter.count == 1000


def test_a_kept_log_from_an_earlier_call_is_ignored(worker: Worker) -> None:
    seen: list[object] = []
    assert (
        worker.call_full("late", (), {}, reporter=Reporter(lambda *v: seen.append(v)))["value"]
        == "ok"
    )
    assert seen == []


def test_a_bad_report_fails_the_call_with_the_learners_error(worker: Worker) -> None:
    with pytest.raises(SubmissionError, match="name must be a str"):
        worker.call_full("bad", (), {}, reporter=Reporter(lambda *v: None))


def test_a_step_no_plot_can_place_is_dropped(worker: Worker) -> None:
    seen: list[object] = []
    reply = worker.call_full("far", (), {}, reporter=Reporter(lambda *v: seen.append(v)))
    assert reply["value"] == "far" and seen == [("loss", 3.0, 2**53)]


def test_a_longer_timeout_for_one_call(worker: Worker) -> None:
    assert worker.call_full("slow", (2.5,), {}, timeout=6)["value"] == 2.5
    with pytest.raises(SubmissionError, match="timed out after 0.5 s"):
        worker.call_full("slow", (2.0,), {}, timeout=0.5)
