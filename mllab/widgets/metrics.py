"""A live plot of the training metrics a run streams (loss, accuracy, ...), one line each."""

from __future__ import annotations

import math
import re
from typing import Any

from rich.text import Text
from textual_plotext import PlotextPlot

MAX_POINTS = 2000  # per series; older points are thinned so a long run stays cheap to draw
DRAWN_POINTS = 400  # per series and frame: more than a terminal's columns can show
REDRAW_SECONDS = 0.1  # values arrive up to thousands a second; the plot is drawn 10 times


class MetricsPlot(PlotextPlot):
    """Series by name, each a list of (step, value); redrawn whenever a value arrives.

    Only the series of the check that reported last are kept: one check's curves share a scale,
    while a loss and another check's mistake count would squash each other.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.check = ""
        self.stale = False

    def on_mount(self) -> None:
        self.set_interval(REDRAW_SECONDS, self._redraw)

    def _redraw(self) -> None:
        if self.stale:
            self.stale = False
            self.refresh()

    def clear_series(self) -> None:
        self.series.clear()
        self.check = ""
        self.refresh()

    def add(self, name: str, value: float, step: int | None, check: str = "") -> None:
        if check != self.check:
            self.series.clear()
            self.check = check
        points = self.series.setdefault(name, [])
        try:
            x = float(step) if step is not None else float(len(points) + 1)
        except OverflowError:  # a learner's step beyond any float (10**400): count instead
            x = float(len(points) + 1)
        points.append((x, value))
        if len(points) > MAX_POINTS:
            del points[::2]
        self.stale = True

    def render(self) -> Any:
        draw(self.plt, self.series)
        try:
            return super().render()
        except Exception as exc:  # noqa: BLE001 - a plot must never take the lab down
            # plotext cannot scale an axis over some values a learner's run may log (a loss
            # below the smallest normal float, values spanning more than the largest one).
            latest = "  ".join(f"{name} {points[-1][1]:.3g}" for name, points in
                               self.series.items() if points)  # fmt: skip
            return Text(f"{latest}\ncannot draw these values: {exc}", style="red")


def draw(plt: Any, series: dict[str, list[tuple[float, float]]]) -> None:
    """The series on `plt` (a textual_plotext Plot), in panels side by side."""
    plt.clear_data()
    plt.clear_figure()
    panels = panel_groups(series)
    if not panels:
        plt.title("no training metrics yet")
        return
    # Side by side: a curve needs rows more than columns, and 80x24 has few rows to spare.
    plt.subplots(1, len(panels))
    for column, names in enumerate(panels, 1):
        # The panel's own figure: the Plot's title and plot would draw on every panel at once.
        panel = plt.subplot(1, column)
        panel.title("  ".join(f"{n} {series[n][-1][1]:.3g}" for n in names[:3]))
        for name in names:
            x, y = _drawn(series[name])
            if x:
                panel.plot(x, y, label=name[:24])


ACCURACY = re.compile(r"acc|f1|precision|recall|auc", re.IGNORECASE)
SCALE_RATIO = 20.0  # series whose sizes differ more than this get panels of their own
MAX_PANELS = 3


def panel_groups(series: dict[str, list[tuple[float, float]]]) -> list[list[str]]:
    """Series names grouped into panels: scores in [0, 1] (accuracy, F1) apart from losses, and
    series of very different size apart, so no curve is squashed flat by another's scale."""
    sized = []
    for name, points in series.items():
        finite = [abs(y) for _, y in points if math.isfinite(y)]
        if finite:
            sized.append((max(finite) or 1e-12, name))
    scores = [n for _, n in sized if ACCURACY.search(n)]
    others = sorted((size, n) for size, n in sized if n not in scores)
    groups: list[list[str]] = []
    low = 0.0
    for size, name in others:
        if groups and size <= low * SCALE_RATIO:
            groups[-1].append(name)
        else:
            groups.append([name])
            low = size
    groups.reverse()  # the largest (usually the loss) first
    room = MAX_PANELS - (1 if scores else 0)
    if len(groups) > room:  # the smallest share the last panel: more would be unreadable
        groups[room - 1 :] = [[n for group in groups[room - 1 :] for n in group]]
    if scores:
        groups.append(scores)
    return groups


def _drawn(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    stride = max(1, len(points) // DRAWN_POINTS)
    drawn = points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])
    finite = [(x, y) for x, y in drawn if math.isfinite(y)]
    return [x for x, _ in finite], [y for _, y in finite]
