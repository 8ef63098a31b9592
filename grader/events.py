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

    def emit(self, event: str, **fields: Any) -> None:
        if self.stream is None:
            return
        record = {"event": event, "time": round(time.time(), 3), **fields}
        try:
            self.stream.write(json.dumps(record, default=str) + "\n")
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
