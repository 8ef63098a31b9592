"""Heat maps and image grids drawn with half blocks, for any terminal with colours.

Each character cell shows two pixels: "▀" in the upper pixel's colour over a background in the
lower pixel's colour. A value becomes a block of `sx` columns by `sy` pixel rows, chosen as large
as the space allows (a pixel row is half a character high, so sx == sy looks square).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text

RGB = tuple[int, int, int]
MISSING: RGB = (255, 0, 255)  # a value that is not a number (a NaN) shows in magenta
SEQUENTIAL: tuple[RGB, ...] = (
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
)
DIVERGING: tuple[RGB, ...] = ((59, 76, 192), (221, 221, 221), (180, 4, 38))
GRAY: tuple[RGB, ...] = ((0, 0, 0), (255, 255, 255))
MAX_SCALE = 8  # pixels per value at most: a 3x3 kernel should not fill a whole screen


def _mix(stops: Sequence[RGB], t: float) -> RGB:
    t = min(1.0, max(0.0, t)) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    a, b, f = stops[i], stops[i + 1], t - i
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f),
            round(a[2] + (b[2] - a[2]) * f))  # fmt: skip


def finite(value: Any) -> bool:
    """A real number (not a bool), neither inf nor nan: what a figure can place."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def colour_scale(grids: list[list[list[Any]]], low: float | None = None,
                 high: float | None = None, stops: Sequence[RGB] | None = None
                 ) -> tuple[Callable[[Any], RGB], float, float]:  # fmt: skip
    """A value -> colour map over all the grids, and the values at its ends: diverging around 0
    when the values have both signs, sequential otherwise, or the given stops from low to high."""
    values = [v for grid in grids for row in grid for v in row if finite(v)]
    low = min(values, default=0.0) if low is None else low
    high = max(values, default=1.0) if high is None else high
    if stops is None and low < 0 < high:
        bound = max(-low, high)
        low, high, stops = -bound, bound, DIVERGING
    stops = stops or SEQUENTIAL
    span = high - low if high > low else 1.0

    def colour(value: Any) -> RGB:
        return _mix(stops, (value - low) / span) if finite(value) else MISSING

    return colour, low, high


@dataclass
class Tile:
    """One grid of values: a heat map panel or an image."""

    values: list[list[Any]]
    colour: Callable[[Any], RGB]
    title: str = ""
    xlabels: list[str] | None = None
    ylabels: list[str] | None = None

    @property
    def rows(self) -> int:
        return len(self.values)

    @property
    def cols(self) -> int:
        return max((len(row) for row in self.values), default=0)

    def label_width(self, sy: int) -> int:
        return max(len(s) for s in self.ylabels) + 1 if self.ylabels and sy % 2 == 0 else 0

    def width(self, sx: int, sy: int) -> int:
        return self.label_width(sy) + self.cols * sx

    def height(self, sx: int, sy: int) -> int:
        return math.ceil(self.rows * sy / 2) + (1 if self._shows_xlabels(sx) else 0)

    def _shows_xlabels(self, sx: int) -> bool:
        return bool(self.xlabels) and max(len(s) for s in self.xlabels or [""]) <= sx

    def lines(self, sx: int, sy: int, title_width: int) -> list[Text]:
        """The tile as lines of text: its title (when any), pixels, then column labels."""
        width = self.width(sx, sy)
        out = [_cut(self.title, title_width)] if self.title else []
        pad = self.label_width(sy)
        for r in range(math.ceil(self.rows * sy / 2)):
            line = Text()
            if pad:
                labels, index = self.ylabels or [], (2 * r) // sy
                label = labels[index] if (2 * r) % sy == 0 and index < len(labels) else ""
                line.append(label.rjust(pad - 1)[: pad - 1] + " ", style="dim")
            top, bottom = self._row((2 * r) // sy), self._row((2 * r + 1) // sy)
            if (2 * r + 1) >= self.rows * sy:
                bottom = None
            for c in range(self.cols):
                line.append("▀" * sx, _style(self._at(top, c), self._at(bottom, c)))
            out.append(line)
        if self._shows_xlabels(sx):
            under = "".join(s.center(sx) for s in self.xlabels or [])
            out.append(Text(" " * pad + under, style="dim"))
        return [line if line.cell_len >= width else line + " " * (width - line.cell_len)
                for line in out]  # fmt: skip

    def _row(self, index: int) -> list[Any] | None:
        return self.values[index] if index < self.rows else None

    def _at(self, row: list[Any] | None, col: int) -> RGB | None:
        if row is None:
            return None
        return self.colour(row[col] if col < len(row) else None)


_STYLES: dict[tuple[RGB | None, RGB | None], Style] = {}


def _style(top: RGB | None, bottom: RGB | None) -> Style:
    key = (top, bottom)
    if key not in _STYLES:
        fg = Color.from_rgb(*top) if top else None
        bg = Color.from_rgb(*bottom) if bottom else None
        _STYLES[key] = Style(color=fg, bgcolor=bg)
    return _STYLES[key]


def _cut(text: str, width: int) -> Text:
    return Text(text if len(text) <= width else text[: max(0, width - 1)] + "…", style="bold")


def layout(
    tiles: list[Tile], width: int, height: int, gap: int = 2
) -> tuple[int, int, list[list[int]]]:
    """The largest scale (sx, sy) at which the tiles, flowed into lines, fit the space."""
    # Row labels need whole text rows per value row: an even sy (or none at sy == 1).
    labelled = any(t.ylabels for t in tiles)
    for sy in range(MAX_SCALE, 0, -1):
        if labelled and sy % 2 and sy > 1:
            continue
        for sx in range(min(2 * sy, MAX_SCALE), sy - 1, -1):
            lines = _flow([t.width(sx, sy) for t in tiles], width, gap)
            if lines is None:
                continue
            used = sum(_line_height(tiles, line, sx, sy) for line in lines)
            if used <= height:
                return sx, sy, lines
    return 1, 1, _flow([t.width(1, 1) for t in tiles], width, gap) or [list(range(len(tiles)))]


def _flow(widths: list[int], width: int, gap: int) -> list[list[int]] | None:
    lines: list[list[int]] = []
    used = width + 1
    for index, w in enumerate(widths):
        if w > width:
            return None
        if used + gap + w > width:
            lines.append([])
            used = -gap
        lines[-1].append(index)
        used += gap + w
    return lines


def _line_height(tiles: list[Tile], line: list[int], sx: int, sy: int) -> int:
    titled = any(tiles[i].title for i in line)
    return int(titled) + max(tiles[i].height(sx, sy) for i in line)


def draw(tiles: list[Tile], width: int, height: int, gap: int = 2) -> Text:
    """Tiles side by side, wrapped onto more lines when they do not fit across."""
    sx, sy, lines = layout(tiles, width, height, gap)
    out = Text()
    for line in lines:
        titled = any(tiles[i].title for i in line)
        blocks = []
        for i in line:
            tile = tiles[i]
            title_width = width if len(tiles) == 1 else tile.width(sx, sy)
            block = tile.lines(sx, sy, title_width)
            if titled and not tile.title:
                block.insert(0, Text(" " * tile.width(sx, sy)))
            blocks.append((block, tile.width(sx, sy)))
        for r in range(max(len(b) for b, _ in blocks)):
            row = Text()
            for n, (block, w) in enumerate(blocks):
                row.append(" " * gap if n else "")
                row.append_text(block[r] if r < len(block) else Text(" " * w))
            row.rstrip()
            out.append_text(row)
            out.append("\n")
    out.rstrip()
    return out


def heatmap(data: dict[str, Any], width: int, height: int) -> tuple[Text, Text]:
    """A heat map figure, each panel on its own colour scale; and the scales' legend."""
    tiles: list[Tile] = []
    legend = Text(no_wrap=True, overflow="ellipsis")
    for panel in dicts(data.get("panels")):
        values = _grid(panel.get("values"))
        colour, low, high = colour_scale([values])
        title = str(panel.get("title", ""))
        if len(tiles) < 2:
            named = title and len(dicts(data.get("panels"))) > 1
            legend.append(f"{title} {low:.3g} " if named else f"{low:.3g} ")
            for step in range(6):
                legend.append(
                    "█", Style(color=Color.from_rgb(*colour(low + (high - low) * step / 5)))
                )
            legend.append(f" {high:.3g}  ")
        tiles.append(Tile(values, colour, title, _labels(panel.get("xlabels")),
                          _labels(panel.get("ylabels"))))  # fmt: skip
    if len(tiles) > 2:
        legend = Text("each panel on its own colour scale", no_wrap=True)
    return draw(tiles, width, height), legend


def images(data: dict[str, Any], width: int, height: int) -> tuple[Text, Text]:
    """An image grid: one line of images per row, all on one grey scale; and the rows' legend."""
    rows = dicts(data.get("rows"))
    grids = [[_grid(image) for image in row.get("images", [])] for row in rows]
    bounds: list[Any] = data["range"] if isinstance(data.get("range"), list) else []
    low, high = (b if finite(b) else None for b in (*bounds, None, None)[:2])
    colour, _, _ = colour_scale([g for row in grids for g in row], low, high, GRAY)
    tiles = [[Tile(g, colour) for g in row] for row in grids]
    labels = [str(row.get("label", "")) for row in rows]
    named = " · ".join(
        f"{where}: {label}" for where, label in zip(("top", "bottom"), labels, strict=False)
    )
    legend = Text(
        named if len(labels) == 2 else "rows: " + " / ".join(labels),
        no_wrap=True,
        overflow="ellipsis",
    )
    # The largest scale at which all images fit across (at scale 1 those that do not are left
    # out), with the row labels above each row if there is room, else in a legend below.
    for s in range(MAX_SCALE, 0, -1):
        if s > 1 and any(sum(t.width(s, s) + 1 for t in row) - 1 > width for row in tiles):
            continue
        used = sum(max((t.height(s, s) for t in row), default=0) for row in tiles)
        for labelled, spare in ((True, len(tiles)), (False, 1), (False, 0)):
            if used + spare <= height or (s == 1 and not spare):
                text = _image_rows(tiles, labels if labelled else None, s, width)
                return text, Text() if labelled else legend
    return Text(), legend


def _image_rows(rows: list[list[Tile]], labels: list[str] | None, s: int, width: int) -> Text:
    out = Text()
    for n, row in enumerate(rows):
        if labels:
            out.append_text(_cut(labels[n], width))
            out.append("\n")
        shown = [
            t
            for i, t in enumerate(row)
            if sum(u.width(s, s) + 1 for u in row[: i + 1]) - 1 <= width
        ]
        if shown:
            out.append_text(_fixed(shown, s))
        out.append("\n")
    out.rstrip()
    return out


def _fixed(tiles: list[Tile], s: int) -> Text:
    blocks = [t.lines(s, s, t.width(s, s)) for t in tiles]
    out = Text()
    for r in range(max(len(b) for b in blocks)):
        for n, block in enumerate(blocks):
            out.append(" " if n else "")
            out.append_text(block[r] if r < len(block) else Text(" " * tiles[n].width(s, s)))
        out.append("\n")
    out.rstrip()
    return out


def _grid(value: Any) -> list[list[Any]]:
    if not isinstance(value, list):
        return []
    return [row if isinstance(row, list) else [] for row in value]


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dicts of a list (nothing for anything else): the entries a figure can read."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _labels(value: Any) -> list[str] | None:
    return [str(v)[:4] for v in value] if isinstance(value, list) and value else None
