"""A stand-in for the grader run, for app tests: plays scripted events, can hang until cancelled."""

from __future__ import annotations

import threading
import time
from typing import Any

from grader.report import CheckResult, ExerciseResult, Report
from mllab.runner import GraderFailed, RunRequest


def check(name: str, outcome: str = "passed", device: str = "cpu", **extra: Any) -> dict:
    points = 1.0 if outcome == "passed" else 0.0
    return {
        "nodeid": f"test_x.py::test_{name}[{device}]",
        "name": name,
        "title": extra.pop("title", f"{name} works"),
        "device": device,
        "max_points": 1.0,
        "outcome": outcome,
        "points": points,
        "message": extra.pop("message", ""),
        **extra,
    }


def script(exercise: str, checks: list[dict], metrics: int = 0) -> list[dict]:
    """The events of a run whose checks end as given, with `metrics` loss values on the way."""
    events: list[dict] = [{"event": "run_started", "checks": checks}]
    for number, item in enumerate(checks):
        events.append({"event": "check_started", "check": item})
        if number == 0:
            for step in range(1, metrics + 1):
                events.append(
                    {"event": "metric", "check": item["nodeid"], "exercise": exercise,
                     "name": "loss", "step": step, "value": 1.0 / step}
                )  # fmt: skip
            events.append({"event": "output", "check": item["nodeid"], "text": "hello [/bold]\n"})
        events.append({"event": "check_finished", "exercise": exercise, "check": item})
    return events


def report_for(exercise: str, checks: list[dict]) -> Report:
    results = tuple(
        CheckResult(
            name=c["name"],
            outcome=c["outcome"],
            points=c["points"],
            max_points=c["max_points"],
            device=c["device"],
            message=c["message"],
            title=c["title"],
            nodeid=c["nodeid"],
        )  # fmt: skip
        for c in checks
    )
    return Report(exercises=(ExerciseResult(id=exercise, title=exercise, checks=results),))


class FakeRuns:
    """A runner factory: `FakeRuns(...)` is passed to the app as `runner=`; it counts runs."""

    def __init__(
        self, checks: list[dict], metrics: int = 0, hang: bool = False, fail: str = ""
    ) -> None:
        self.checks, self.metrics, self.hang, self.fail = checks, metrics, hang, fail
        self.requests: list[RunRequest] = []

    def __call__(self, request: RunRequest) -> FakeRun:
        self.requests.append(request)
        return FakeRun(self, request.exercises[0])


class FakeRun:
    def __init__(self, runs: FakeRuns, exercise: str) -> None:
        self.runs, self.exercise = runs, exercise
        self.report: Report | None = None
        self.cancelled = False
        self.stop = threading.Event()

    def events(self) -> Any:
        if self.runs.fail:
            raise GraderFailed(self.runs.fail)
        events = script(self.exercise, self.runs.checks, self.runs.metrics)
        yield events[0]
        if self.runs.hang:
            self.stop.wait(30)
            return
        for event in events[1:]:
            time.sleep(0.005)
            yield event
        self.report = report_for(self.exercise, self.runs.checks)
        yield {"event": "run_finished"}

    def cancel(self) -> None:
        self.cancelled = True
        self.stop.set()
