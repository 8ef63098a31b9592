"""The grader's event stream: one JSON object per line, documented in docs/events.md."""

from __future__ import annotations

import json
import math
import os
import time
from typing import IO, Any

SCHEMA = "mllab-events/1"


class EventWriter:
    """Writes events to a file, or to an inherited descriptor given as `fd:N`; flushed per line."""

    def __init__(self, target: str | None) -> None:
        self.stream: IO[str] | None = None
        if not target:
            return
        if target.startswith("fd:"):
            self.stream = os.fdopen(int(target[3:]), "w", buffering=1, encoding="utf-8")
        else:
            self.stream = open(target, "w", buffering=1, encoding="utf-8")  # noqa: SIM115

    def emit(self, event: str, encoded: dict[str, str] | None = None, **fields: Any) -> None:
        """Write one event; `encoded` holds fields already in JSON text (a figure's data)."""
        if self.stream is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        line = json.dumps(record, default=str)
        for key, text in (encoded or {}).items():
            line = f"{line[:-1]}, {json.dumps(key)}: {text}}}"
        try:
            self.stream.write(line + "\n")
        except OSError:
            # The reader went away (the app was closed): grading still finishes and reports.
            self.stream = None

    def close(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except OSError:
                pass
            self.stream = None


def finite(value: float) -> float | str:
    """JSON has no NaN or infinity; they travel as the strings "nan", "inf", "-inf"."""
    return value if math.isfinite(value) else str(value)


# ------------------------------------------------------------------------------------ figures

FIGURE_SCHEMA = "mllab-figure/1"
FIGURE_KINDS = ("scatter", "heatmap", "images")
MAX_FIGURE_BYTES = 64_000  # of a figure's data as compact JSON; a terminal shows far less
FIGURE_INTERVAL = 0.05  # seconds: a name sends at most 20 figures a second, the newest wins
MAX_TEXT = 120  # characters of a title, label or caption


class FigureError(ValueError):
    """A figure's data does not fit its kind, or is too large to send."""


class FigureWarning(UserWarning):
    """A figure was not sent; the check goes on exactly as without it."""


def figure_json(kind: str, data: Any) -> str:
    """The data of a figure as compact JSON text, checked and capped (see figure_data)."""
    text = json.dumps(figure_data(kind, data), separators=(",", ":"))
    if len(text) > MAX_FIGURE_BYTES:
        raise FigureError(
            f"the data takes {len(text)} bytes, more than the {MAX_FIGURE_BYTES} allowed"
        )
    return text


def figure_data(kind: str, data: Any) -> dict[str, Any]:
    """The data of a figure as small plain JSON, checked against its kind (docs/events.md).

    Arrays may be tensors or NumPy arrays (anything with `tolist`); numbers are rounded to four
    significant digits, and non-finite ones become null. Raises FigureError.
    """
    if kind not in FIGURE_KINDS:
        raise FigureError(f"unknown figure kind {kind!r}; the kinds are {', '.join(FIGURE_KINDS)}")
    plain = _plain(data)
    if not isinstance(plain, dict):
        raise FigureError("a figure's data is a dict")
    _check_text(plain, "caption", "xlabel", "ylabel")
    _SHAPES[kind](plain)
    return plain


def _plain(value: Any) -> Any:
    if hasattr(value, "detach"):  # a tensor: to NumPy, in float64 if it holds floats
        value = value.detach().cpu()
        value = (value.double() if value.is_floating_point() else value).numpy()
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a NumPy array or number
        return _rounded(value) if getattr(value.dtype, "kind", "") == "f" else value.tolist()
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        value = value.tolist()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise FigureError("a figure's dict keys are strings")
        return {key: _plain(item) for key, item in value.items()}
    raise FigureError(
        f"a figure holds numbers, strings, lists and dicts, not {type(value).__name__}"
    )


def _rounded(array: Any) -> Any:
    """An array's values to four significant digits (as `f"{v:.4g}"`), NaN and inf as None.

    Vectorized: a per-number Python loop costs more than a fast check's whole step. NumPy is
    imported here only: the app imports this module and must stay free of it.
    """
    import numpy as np

    a = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(a)
    with np.errstate(all="ignore"):
        digits = np.where(finite & (a != 0), np.floor(np.log10(np.abs(a))), 0.0)
        # Scale by an exact power of ten, so that 0.3333 comes back as the float 0.3333.
        scale = 10.0 ** np.abs(3 - digits)
        rounded = np.where(digits <= 3, np.round(a * scale) / scale, np.round(a / scale) * scale)
    # Subnormal numbers overflow the scale; they are kept as they are.
    plain: Any = np.where(np.isfinite(rounded), rounded, a)
    if not finite.all():
        plain = np.where(finite, plain, None)
    return plain.tolist()


def _check_text(data: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key in data and not isinstance(data[key], str):
            raise FigureError(f"{key!r} is a string")


_NUMBER_TYPES = {int, float, type(None)}  # after _plain: exact types, bool excluded


def _numbers(value: Any, what: str, length: int | None = None) -> None:
    if not isinstance(value, list) or not set(map(type, value)) <= _NUMBER_TYPES:
        raise FigureError(f"{what} is a list of numbers")
    if length is not None and len(value) != length:
        raise FigureError(f"{what} has {len(value)} entries, expected {length}")


def _grid(value: Any, what: str) -> None:
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        raise FigureError(f"{what} is a non-empty 2-D list of numbers")
    for row in value:
        _numbers(row, what, len(value[0]))


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FigureError(f"{key!r} is a list of dicts")
    for entry in entries:
        _check_text(entry, "label", "title", "side")
    return entries


def _scatter(data: dict[str, Any]) -> None:
    _numbers(data.get("x"), "'x'")
    _numbers(data.get("y"), "'y'", len(data["x"]))
    if "group" in data:
        _numbers(data["group"], "'group'", len(data["x"]))
    groups = data.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise FigureError("'groups' is a list of names")
    for line in _entries(data, "lines"):
        if "coef" in line:
            _numbers(line["coef"], "a line's 'coef' (a, b, c of a*x + b*y + c = 0)", 3)
        else:
            _numbers(line.get("x"), "a line's 'x'")
            _numbers(line.get("y"), "a line's 'y'", len(line["x"]))
    for mark in _entries(data, "marks"):
        _numbers(mark.get("x"), "a mark's 'x'")
        _numbers(mark.get("y"), "a mark's 'y'", len(mark["x"]))


def _heatmap(data: dict[str, Any]) -> None:
    panels = _entries(data, "panels")
    if not panels:
        raise FigureError("a heatmap has at least one panel")
    for panel in panels:
        _grid(panel.get("values"), "a panel's 'values'")
        for key, size in (("xlabels", len(panel["values"][0])), ("ylabels", len(panel["values"]))):
            labels = panel.get(key, [""] * size)
            if not isinstance(labels, list) or len(labels) != size:
                raise FigureError(f"a panel's {key!r} has one label per {key[0]} cell")


def _images(data: dict[str, Any]) -> None:
    rows = _entries(data, "rows")
    if not rows:
        raise FigureError("an image grid has at least one row")
    for row in rows:
        images = row.get("images")
        if not isinstance(images, list):
            raise FigureError("a row's 'images' is a list of 2-D lists")
        for image in images:
            _grid(image, "an image")
    if "range" in data:
        _numbers(data["range"], "'range' (low, high)", 2)


_SHAPES = {"scatter": _scatter, "heatmap": _heatmap, "images": _images}
