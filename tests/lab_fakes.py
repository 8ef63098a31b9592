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


# A figure of each kind, as a check would send it (see docs/events.md).
FIGURES: dict[str, dict] = {
    "scatter": {
        "x": [-1.0, -0.5, 0.2, 0.8, 1.0, None], "y": [0.3, -1.0, 0.9, -0.2, 1.0, 0.0],
        "group": [0, 0, 1, 1, 1, 0], "groups": ["Gentoo", "Adelie"],
        "lines": [{"label": "w.x + b = 0", "coef": [1.0, -1.0, 0.1], "side": "Adelie"}],
        "marks": [{"label": "centres", "x": [-0.5, 0.6], "y": [0.0, 0.5]}],
        "xlabel": "bill length", "ylabel": "bill depth", "caption": "epoch 3: 2 mistakes",
    },
    "heatmap": {
        "panels": [{"title": "attention", "values": [[(i * j) % 5 / 4 for j in range(8)]
                                                     for i in range(8)],
                    "xlabels": list("31415926"), "ylabels": list("62951413")},
                   {"title": "kernel", "values": [[-1.0, 0.0, 1.0]] * 3}],
        "caption": "after 200 steps",
    },
    "images": {
        "rows": [{"label": "originals", "images": [[[(i + j) / 16 for j in range(8)]
                                                     for i in range(8)]] * 6},
                 {"label": "decoded", "images": [[[None] * 8] * 8] * 6}],
        "range": [0, 1], "caption": "after 30 epochs",
    },
}  # fmt: skip


def figure_event(kind: str, nodeid: str, exercise: str, step: int | None = None) -> dict:
    return {
        "event": "figure", "check": nodeid, "exercise": exercise, "name": f"a {kind}",
        "kind": kind, "step": step, "schema": "mllab-figure/1", "data": FIGURES[kind],
    }  # fmt: skip


def script(
    exercise: str, checks: list[dict], metrics: int = 0, figures: tuple[str, ...] = ()
) -> list[dict]:
    """The events of a run whose checks end as given, with `metrics` loss values and a figure of
    each kind in `figures` on the way."""
    events: list[dict] = [{"event": "run_started", "checks": checks}]
    for number, item in enumerate(checks):
        events.append({"event": "check_started", "check": item})
        if number == 0:
            for step, kind in enumerate(figures, 1):
                events.append(figure_event(kind, item["nodeid"], exercise, step))
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
        self,
        checks: list[dict],
        metrics: int = 0,
        hang: bool = False,
        fail: str = "",
        figures: tuple[str, ...] = (),
        then: list[list[dict]] | None = None,
        held: int = 0,
        before: list[dict] | None = None,
    ) -> None:
        self.checks, self.metrics, self.hang, self.fail = checks, metrics, hang, fail
        self.figures = figures
        # Run n plays then[n - 1] when given (the first run plays `checks`); the first `held`
        # runs wait after run_started until `release` is set or they are cancelled.
        self.then = then or []
        self.held = held
        self.release = threading.Event()
        self.before = before or []  # events sent before run_started ("preparing")
        self.requests: list[RunRequest] = []
        self.runs: list[FakeRun] = []

    def __call__(self, request: RunRequest) -> FakeRun:
        self.requests.append(request)
        number = len(self.requests)
        later = self.then[min(number - 1, len(self.then)) - 1] if self.then else self.checks
        checks = self.checks if number == 1 else later
        run = FakeRun(self, request.exercises[0], checks, held=number <= self.held)
        self.runs.append(run)
        return run


class FakeRun:
    def __init__(self, runs: FakeRuns, exercise: str, checks: list[dict], held: bool) -> None:
        self.runs, self.exercise, self.checks, self.held = runs, exercise, checks, held
        self.report: Report | None = None
        self.cancelled = False
        self.stop = threading.Event()

    def events(self) -> Any:
        if self.runs.fail:
            raise GraderFailed(self.runs.fail)
        yield from self.runs.before
        events = script(self.exercise, self.checks, self.runs.metrics, self.runs.figures)
        yield events[0]
        if self.runs.hang:
            self.stop.wait(30)
            return
        if self.held:
            while not (self.stop.is_set() or self.runs.release.is_set()):
                time.sleep(0.01)
            if self.stop.is_set():
                return
        for event in events[1:]:
            time.sleep(0.005)
            yield event
        self.report = report_for(self.exercise, self.checks)
        yield {"event": "run_finished"}

    def cancel(self) -> None:
        self.cancelled = True
        self.stop.set()
