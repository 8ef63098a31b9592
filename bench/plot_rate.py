"""Does the live plot keep up with 1,000 metrics a second, and does drawing it slow training?

A stand-in for a learner's training runs in its own process, as in a real run: a fixed amount of
torch work per step and one metric per step, about 1,000 steps a second, written as JSON lines.
It runs three times each way, alternating: with its metrics read and dropped, and with them
drawn by the lab's MetricsPlot in a headless Textual app. The slowdown compares the median
training times.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from textual.app import App, ComposeResult
from textual.message import Message

from mllab.widgets.metrics import MetricsPlot

STEPS = 5000
RATE = 1000  # metrics a second to reach
ROUNDS = 3  # each setting runs this often, alternating, and the medians are compared
TRAINING = """
import json, sys, time, torch
torch.set_num_threads(1)
steps, size = int(sys.argv[1]), int(sys.argv[2])
a, b = torch.randn(size, size), torch.randn(size, size)
started = time.perf_counter()
for step in range(steps):
    for _ in range(4):
        c = a @ b
    print(json.dumps({"event": "metric", "name": "loss", "value": 1 / (step + 1), "step": step}),
          flush=True)
print(json.dumps({"event": "done", "seconds": time.perf_counter() - started}), flush=True)
"""


@dataclass
class PlotRate:
    sent: int
    shown: int
    lag: float
    rate: float
    slowdown: float


class Metric(Message):
    def __init__(self, event: dict[str, Any], sent_at: float) -> None:
        super().__init__()
        self.event = event
        self.sent_at = sent_at


class PlotApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.shown = 0
        self.last_shown = 0.0

    def compose(self) -> ComposeResult:
        yield MetricsPlot(id="plot")

    def on_metric(self, message: Metric) -> None:
        event = message.event
        self.query_one(MetricsPlot).add(event["name"], event["value"], event["step"], "bench")
        self.shown += 1
        self.last_shown = time.perf_counter()


def calibrate() -> int:
    """The largest matrix size at which the stand-in still logs 1,000 metrics a second."""
    best = 16
    for size in range(32, 321, 16):
        seconds, count = train(size, lambda event: None, steps=1000)
        if count / seconds < RATE:
            break
        best = size
    return best


def train(size: int, each: Any, steps: int = STEPS) -> tuple[float, int]:
    """Run the stand-in training; `each(event)` gets every metric. Its seconds and metric count."""
    process = subprocess.Popen(
        [sys.executable, "-c", TRAINING, str(steps), str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seconds, count = 0.0, 0
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "done":
            seconds = event["seconds"]
        else:
            count += 1
            each(event)
    process.wait()
    return seconds, count


def plot_rate() -> PlotRate:
    size = calibrate()

    async def plotted() -> tuple[float, int, float]:
        app = PlotApp()
        async with app.run_test(size=(100, 30)) as pilot:
            result: dict[str, float] = {}

            def feed() -> None:
                def send(event: dict[str, Any]) -> None:
                    result["last_sent"] = time.perf_counter()
                    app.post_message(Metric(event, result["last_sent"]))

                result["seconds"], _ = train(size, send)

            thread = threading.Thread(target=feed)
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.05)
            deadline = time.perf_counter() + 10
            while app.shown < STEPS and time.perf_counter() < deadline:
                await pilot.pause(0.05)
            return result["seconds"], app.shown, max(0.0, app.last_shown - result["last_sent"])

    alone, drawn, shown, lags = [], [], [], []
    for _ in range(ROUNDS):
        alone.append(train(size, lambda event: None)[0])
        seconds, count, lag = asyncio.run(plotted())
        drawn.append(seconds)
        shown.append(count)
        lags.append(lag)
    base = statistics.median(alone)
    return PlotRate(
        STEPS * ROUNDS, sum(shown), max(lags), STEPS / base, statistics.median(drawn) / base - 1
    )


if __name__ == "__main__":
    print(plot_rate())
