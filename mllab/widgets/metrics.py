"""A live plot of the training metrics a run streams (loss, accuracy, ...), one line each."""

from __future__ import annotations

from typing import Any

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
        x = float(step) if step is not None else float(len(points) + 1)
        points.append((x, value))
        if len(points) > MAX_POINTS:
            del points[::2]
        self.stale = True

    def render(self) -> Any:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        latest = "  ".join(f"{n} {p[-1][1]:.4g}" for n, p in list(self.series.items())[:4] if p)
        plt.title(latest or "no training metrics yet")
        plt.xlabel("step")
        for name, points in self.series.items():
            stride = max(1, len(points) // DRAWN_POINTS)
            drawn = points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])
            finite = [(x, y) for x, y in drawn if y == y and abs(y) != float("inf")]
            if finite:
                plt.plot([x for x, _ in finite], [y for _, y in finite], label=name[:24])
        return super().render()
