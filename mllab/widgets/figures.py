"""The latest figure a check sent (`figure` events): a scatter with lines, a heat map, images.

Scatters are drawn by plotext; heat maps and images with half blocks (mllab.widgets.cells), so
a plain terminal shows them without any graphics protocol.
"""

from __future__ import annotations

import math
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from mllab.widgets import cells

REDRAW_SECONDS = 0.1  # figures may arrive faster; like the metrics plot, draw 10 times a second
# Terminal colour numbers, shared by plotext and rich so the legend matches the plot.
GROUP_COLOURS = (4, 3, 2, 5, 6, 1, 12, 11, 10, 13)
LINE_COLOURS = (1, 5, 6)
MARKS = (("o", 7), ("x", 15), ("+", 13))  # symbol and colour of each kind of mark
FULL_AXES_HEIGHT = 12  # rows: a smaller scatter leaves out its frame, ticks and axis names


def _number(value: Any) -> float | None:
    return float(value) if cells.finite(value) else None


def _points(xs: Any, ys: Any) -> list[tuple[float, float]]:
    if not isinstance(xs, list) or not isinstance(ys, list):
        return []
    pairs = ((_number(x), _number(y)) for x, y in zip(xs, ys, strict=False))
    return [(x, y) for x, y in pairs if x is not None and y is not None]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _columns(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [x for x, _ in points], [y for _, y in points]


def clip_line(coef: Any, box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """The part of the line a*x + b*y + c = 0 inside the box (x0, x1, y0, y1), as two points."""
    if not isinstance(coef, list) or len(coef) != 3:
        return []
    a, b, c = (_number(v) for v in coef)
    if a is None or b is None or c is None or (a == 0 and b == 0):
        return []
    x0, x1, y0, y1 = box
    found = []
    if b != 0:
        found += [(x, -(a * x + c) / b) for x in (x0, x1)]
    if a != 0:
        found += [(-(b * y + c) / a, y) for y in (y0, y1)]
    eps = 1e-9 * max(x1 - x0, y1 - y0, 1.0)
    inside = sorted(
        {(x, y) for x, y in found if x0 - eps <= x <= x1 + eps and y0 - eps <= y <= y1 + eps}
    )
    return [inside[0], inside[-1]] if len(inside) >= 2 else []


def side_tick(
    coef: list[Any], segment: list[tuple[float, float]], box: tuple[float, float, float, float]
) -> list[tuple[float, float]]:
    """A short stroke from the middle of a line a*x + b*y + c = 0 towards where it is > 0."""
    (x0, y0), (x1, y1) = segment
    a, b = float(coef[0]), float(coef[1])
    width, height = box[1] - box[0], box[3] - box[2]
    # In the plot's own proportions, so the stroke looks the same length at any slope.
    u, v = a * width, b * height
    norm = math.hypot(u, v) or 1.0
    mid = ((x0 + x1) / 2, (y0 + y1) / 2)
    return [mid, (mid[0] + 0.12 * width * u / norm, mid[1] + 0.12 * height * v / norm)]


def _box(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points] or [0.0], [y for _, y in points] or [0.0]
    dx, dy = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    return min(xs) - 0.05 * dx, max(xs) + 0.05 * dx, min(ys) - 0.05 * dy, max(ys) + 0.05 * dy


def _swatch(text: Text, symbol: str, colour: int, label: str) -> None:
    text.append(symbol, Style(color=Color.from_ansi(colour), bold=True))
    text.append(f" {label}  ")


class ScatterFigure(PlotextPlot):
    """Points coloured by group, lines across the plot, and marks (k-means centres)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: dict[str, Any] = {}

    def show(self, data: dict[str, Any]) -> Text:
        """Draw `data` from the next frame on; returns the legend."""
        self.data = data
        self.refresh()
        return scatter_legend(data)

    def render(self) -> Any:
        try:
            self._draw()
        except Exception as exc:  # noqa: BLE001 - a figure must never take the lab down
            return Text(f"cannot draw this figure: {exc}", style="red")
        return super().render()

    def _draw(self) -> None:
        plt, data = self.plt, self.data
        plt.clear_data()
        plt.clear_figure()
        xs, ys = data.get("x"), data.get("y")
        marks = cells.dicts(data.get("marks"))
        box = _box(_points(xs, ys) + [p for m in marks for p in _points(m.get("x"), m.get("y"))])
        groups: list[Any] = data["group"] if isinstance(data.get("group"), list) else []
        by_group: dict[int, list[tuple[float, float]]] = {}
        for n, (x, y) in enumerate(zip(_list(xs), _list(ys), strict=False)):
            key = _number(groups[n]) if n < len(groups) else None
            by_group.setdefault(-1 if key is None else int(key), []).extend(_points([x], [y]))
        for key, points in sorted((k, v) for k, v in by_group.items() if v):
            colour = GROUP_COLOURS[key % len(GROUP_COLOURS)] if key >= 0 else 8
            plt.scatter(*_columns(points), marker="braille", color=colour)
        for line, colour in zip(cells.dicts(data.get("lines")), line_colours(data), strict=True):
            if "coef" in line:
                drawn = clip_line(line["coef"], box)
            else:
                drawn = _points(line.get("x"), line.get("y"))
            if len(drawn) >= 2:
                plt.plot(*_columns(drawn), marker="braille", color=colour)
            if "coef" in line and line.get("side") and len(drawn) == 2:
                plt.plot(*_columns(side_tick(line["coef"], drawn, box)), color=colour)
        for n, mark in enumerate(marks):
            symbol, colour = MARKS[n % len(MARKS)]
            points = _points(mark.get("x"), mark.get("y"))
            if points:
                plt.scatter(*_columns(points), marker=symbol, color=colour)
        plt.xlim(box[0], box[1])
        plt.ylim(box[2], box[3])
        if self.size.height < FULL_AXES_HEIGHT:
            # Small: every row for the data; the axes come back when zoomed (z).
            plt.frame(False)
            plt.xticks([])
            plt.yticks([])
        else:
            # One line for both axes' names: plotext drops an x label that meets the y label.
            names = [f"{arrow} {str(data[key])[:30]}" for arrow, key in
                     (("→", "xlabel"), ("↑", "ylabel")) if data.get(key)]  # fmt: skip
            plt.xlabel("   ".join(names))


def line_colours(data: dict[str, Any]) -> list[int]:
    """A colour per line: a new one for each label, the previous one for a line without."""
    colours, n = [], -1
    for line in cells.dicts(data.get("lines")):
        if line.get("label") or n < 0:
            n += 1
        colours.append(LINE_COLOURS[n % len(LINE_COLOURS)])
    return colours


def scatter_legend(data: dict[str, Any]) -> Text:
    legend = Text(no_wrap=True, overflow="ellipsis")
    if isinstance(data.get("group"), list):
        for n, name in enumerate(data.get("groups", [])[: len(GROUP_COLOURS)]):
            _swatch(legend, "●", GROUP_COLOURS[n], str(name))
    for line, colour in zip(cells.dicts(data.get("lines")), line_colours(data), strict=True):
        if line.get("label"):
            side = f" ▸ {line['side']}" if "coef" in line and line.get("side") else ""
            _swatch(legend, "─", colour, f"{line['label']}{side}")
    for n, mark in enumerate(cells.dicts(data.get("marks"))):
        if mark.get("label"):
            _swatch(legend, *MARKS[n % len(MARKS)], str(mark["label"]))
    return legend


class CellFigure(Widget):
    """A heat map or an image grid, laid out anew for whatever size the widget has."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = "heatmap"
        self.data: dict[str, Any] = {}

    def show(self, kind: str, data: dict[str, Any]) -> Text:
        self.kind, self.data = kind, data
        self.refresh()
        return Text()

    def render(self) -> Any:
        width, height = max(1, self.size.width), max(1, self.size.height)
        draw = cells.images if self.kind == "images" else cells.heatmap
        try:
            text, legend = draw(self.data, width, height)
        except Exception as exc:  # noqa: BLE001 - a figure must never take the lab down
            return Text(f"cannot draw this figure: {exc}", style="red")
        if legend and len(text.split()) < height:
            legend.truncate(width, overflow="ellipsis")
            text.append("\n")
            text.append_text(legend)
        return text


class FigurePanel(Vertical):
    """A run's figures by name; shows the one updated last, redrawn at most 10 times a second."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.figures: dict[str, dict[str, Any]] = {}
        self.latest = ""
        self.stale = False

    def compose(self) -> ComposeResult:
        yield Static(id="figure-title")
        yield Static(id="figure-legend")
        yield ScatterFigure(id="figure-scatter")
        yield CellFigure(id="figure-cells")

    def on_mount(self) -> None:
        self.set_interval(REDRAW_SECONDS, self._redraw)

    def clear(self) -> None:
        self.figures.clear()
        self.latest = ""
        self.stale = False

    def add(self, event: dict[str, Any]) -> bool:
        """Keep a figure event (the newest of a name replaces the older); False if unusable."""
        data, kind = event.get("data"), event.get("kind")
        if not isinstance(data, dict) or kind not in ("scatter", "heatmap", "images"):
            return False
        name = str(event.get("name") or "figure")
        self.figures[name] = {"name": name, "kind": kind, "data": data, "step": event.get("step")}
        self.latest = name
        self.stale = True
        return True

    def _redraw(self) -> None:
        if not self.stale or not self.latest:
            return
        self.stale = False
        figure = self.figures[self.latest]
        data, kind = figure["data"], figure["kind"]
        title = Text(figure["name"], style="bold", no_wrap=True, overflow="ellipsis")
        caption = data.get("caption") or (
            f"step {figure['step']}" if figure.get("step") is not None else ""
        )
        if caption:
            title.append(f" · {caption}", style="")
        scatter, grid = self.query_one(ScatterFigure), self.query_one(CellFigure)
        scatter.display, grid.display = kind == "scatter", kind != "scatter"
        try:
            legend = scatter.show(data) if kind == "scatter" else grid.show(kind, data)
        except Exception as exc:  # noqa: BLE001 - a figure must never take the lab down
            legend = Text(f"cannot draw this figure: {exc}", style="red")
        self.query_one("#figure-title", Static).update(title)
        self.query_one("#figure-legend", Static).update(legend)
        self.query_one("#figure-legend").display = bool(legend)
