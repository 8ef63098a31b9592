"""Recorded reference results: how a student release's checks run without the reference code.

At release time the `reference` fixture is a `RecordingReference`: every call runs the real
reference and is stored under the function's name and a digest of its codec-encoded arguments
(grader/codec.py), with its encoded result. In a release (no solutions, a `replay/` folder) the
fixture is a `ReplayReference` that answers those calls from the recording. A call that was not
recorded, such as one fed with the learner's own results, or one whose result cannot cross the
codec faithfully (a model object), makes its check `not_run`: a replay must never decide a verdict
it cannot know.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from grader import codec

SCHEMA = "mllab-replay/1"
NEEDS_REFERENCE = "needs the reference solution: graded by your instructor"


def call_key(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """`function:sha256` of the encoded arguments; None if an argument cannot be encoded exactly."""
    data = codec.encode([list(args), kwargs])
    if not _exact(codec.decode(data), [list(args), kwargs]):
        return None
    return f"{function}:{hashlib.sha256(data).hexdigest()}"


def _exact(copy: Any, real: Any) -> bool:
    """True if `copy` (decoded) stands for `real` exactly: same types, no autograd graph lost."""
    if type(copy) is not type(real):
        return False
    if isinstance(real, (list, tuple)):
        return len(copy) == len(real) and all(map(_exact, copy, real))
    if isinstance(real, dict):
        return list(copy) == list(real) and all(_exact(copy[k], real[k]) for k in real)
    return not getattr(real, "requires_grad", False)


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def _unpack(text: str) -> Any:
    return codec.decode(zlib.decompress(base64.b64decode(text)))


class Recording:
    """The calls recorded for one exercise: key -> {"result": packed} or {"unreplayable": why}."""

    def __init__(self, exercise_id: str) -> None:
        self.exercise_id = exercise_id
        self.calls: dict[str, dict[str, str]] = {}

    def add(self, key: str, real: Any) -> None:
        data = codec.encode(real)
        entry = {"result": _pack(data)}
        if not _exact(codec.decode(data), real):
            entry = {"unreplayable": f"its result ({type(real).__name__}) cannot be recorded"}
        earlier = self.calls.get(key)
        if earlier is not None and earlier != entry:
            entry = {"unreplayable": "it gave different results for the same arguments"}
        self.calls[key] = entry

    def save(self, folder: Path, torch_version: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.exercise_id}.json"
        data = {"schema": SCHEMA, "exercise": self.exercise_id, "seed": 0, "torch": torch_version}
        data["calls"] = dict(sorted(self.calls.items()))
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return path


class RecordingReference:
    """Stands for the reference module at release time: runs it and records every call."""

    def __init__(self, module: Any, recording: Recording) -> None:
        self._module = module
        self._recording = recording

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if not callable(value):
            self._recording.add(f"{name}:attribute", value)
            return value

        def record(*args: Any, **kwargs: Any) -> Any:
            key = call_key(name, args, kwargs)
            before = codec.encode([list(args), kwargs]) if key else b""
            result = value(*args, **kwargs)
            if key is not None and codec.encode([list(args), kwargs]) != before:
                self._recording.calls[key] = {"unreplayable": "it changed its arguments in place"}
            elif key is not None:
                self._recording.add(key, result)
            return result

        return record


def _not_run(detail: str) -> Any:
    pytest.skip(f"{NEEDS_REFERENCE} ({detail})")


class ReplayReference:
    """Stands for the reference module in a release: answers the calls recorded at release time."""

    def __init__(self, calls: dict[str, dict[str, str]] | None, unavailable: str = "") -> None:
        self._calls = calls or {}
        self._unavailable = unavailable

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._unavailable:
            _not_run(self._unavailable)
        if f"{name}:attribute" in self._calls:
            return self._answer(self._calls[f"{name}:attribute"])

        def replay(*args: Any, **kwargs: Any) -> Any:
            key = call_key(name, args, kwargs)
            entry = self._calls.get(key) if key is not None else None
            if entry is None:
                _not_run(f"{name}() was called with inputs that were not recorded")
            return self._answer(entry)

        return replay

    def _answer(self, entry: Any) -> Any:
        if not isinstance(entry, dict) or not isinstance(entry.get("result"), str):
            reason = entry.get("unreplayable") if isinstance(entry, dict) else None
            _not_run(str(reason or "the recording of this call is damaged"))
        try:
            return _unpack(entry["result"])
        except (ValueError, zlib.error):
            _not_run("the recording of this call is damaged")


def open_replay(folder: Path, exercise_id: str, public_seed: bool) -> ReplayReference:
    """The recorded reference of one exercise; every use is not_run when it cannot answer."""
    if not public_seed:
        return ReplayReference(None, "recorded reference results exist for the public seed only")
    path = folder / f"{exercise_id}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ReplayReference(None, f"no recorded reference results for {exercise_id}")
    except (OSError, ValueError) as exc:
        return ReplayReference(None, f"cannot read {path.name}: {exc}")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return ReplayReference(None, f"{path.name} is not a {SCHEMA} recording")
    calls = data.get("calls")
    if not isinstance(calls, dict):
        return ReplayReference(None, f"{path.name} has no recorded calls")
    return ReplayReference(calls)
