"""Captured learner output: capped (head and tail kept) and stripped of terminal control codes.

`clean` is the one cleaning for every piece of learner text that is shown anywhere (output,
exception messages, names): escape sequences, C0 and C1 controls (8-bit CSI and OSC too), and the
invisible bidirectional and line-separator characters that make text read differently than it is.
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard (52)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]+[0-~]"  # nF escapes such as ESC ( B (character sets)
    r"|\x1b[0-~]"  # other two-character escapes (ESC 7, ESC c, ...)
    r"|\x1b"
)
# C0 but tab and newline, DEL, C1 (8-bit CSI, OSC, ...), and the bidirectional embeddings,
# overrides and isolates, marks, and line/paragraph separators (U+2028, U+2029).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)


def clean(text: str) -> str:
    """Text safe to show in a terminal: no escape sequences, no control characters but \\n, \\t."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def clean_line(text: str, cap: int = 200) -> str:
    """A learner-chosen name (a type, a metric) as one short line of clean text."""
    return " ".join(clean(text).split())[:cap]


class CappedOutput:
    """Keeps the first and last `cap` bytes of a stream and counts what was dropped between."""

    def __init__(self, cap: int = 16_384) -> None:
        self.cap = max(1, cap)
        self.head = bytearray()
        self.tail = bytearray()
        self.elided = 0

    def write(self, data: bytes) -> None:
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        if len(data) > self.cap:
            self.elided += len(data) - self.cap
            data = data[-self.cap :]
        self.tail += data
        if len(self.tail) > self.cap:
            drop = len(self.tail) - self.cap
            self.elided += drop
            del self.tail[:drop]

    def take_raw(self) -> bytes:
        """The bytes so far (with the elision marker), and reset for what comes next."""
        raw = bytes(self.head)
        if self.elided:
            raw += f"\n... [{self.elided} bytes of output elided] ...\n".encode()
        raw += bytes(self.tail)
        self.head, self.tail, self.elided = bytearray(), bytearray(), 0
        return raw

    def take(self) -> str:
        """The text so far, cleaned, and reset for what comes next."""
        return clean(self.take_raw().decode("utf-8", "replace"))
