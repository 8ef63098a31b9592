"""Recorded reference results: how a student release's checks run without the reference code.

At release time the `reference` fixture is a `RecordingReference`: every call runs the real
reference and is stored under the function's name and a digest of its codec-encoded arguments
(grader/codec.py), with its encoded result. What a call does besides returning is recorded too:
the calls it makes to a function passed in (a `log` callback), and what an iterable it returns
(a DataLoader) yields on each pass over it.

In a release (no solutions, a `replay/` folder) the fixture is a `ReplayReference` that answers
those calls from the recording. A call the recording cannot answer (one fed with the learner's own
results, or one returning a live object such as a model) goes to the exercise's stand-ins
(grader/stand_ins.py): its provided code, run from the pristine stub, or the course's oracle for
that function. Only when none can answer is the check `not_run`: a replay never decides a verdict
it cannot know.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import types
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from grader import codec
from grader.stand_ins import StandIns

SCHEMA = "mllab-replay/2"
NEEDS_REFERENCE = "needs the reference solution: graded by your instructor"
CALLBACK = "mllab-replay:callback"  # stands for a function argument in a call's key
_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial)


def _callbacks(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list, dict, list]:
    """The arguments with each function argument replaced by CALLBACK, and those functions."""
    found: list[Callable[..., Any]] = []

    def plain(value: Any) -> Any:
        if isinstance(value, _FUNCTIONS):
            found.append(value)
            return CALLBACK
        return value

    return [plain(a) for a in args], {k: plain(v) for k, v in kwargs.items()}, found


def call_key(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """`function:sha256` of the encoded arguments; None if an argument cannot be encoded exactly.

    A function passed as an argument (a callback) counts as CALLBACK: its calls are recorded.
    """
    plain_args, plain_kwargs, _ = _callbacks(args, kwargs)
    return _keyed(function, plain_args, plain_kwargs)[0]


def _keyed(function: str, plain_args: list, plain_kwargs: dict) -> tuple[str | None, bytes]:
    """The call's key (None where the arguments do not encode exactly) and their encoding."""
    data = codec.encode([plain_args, plain_kwargs])
    if not _exact(codec.decode(data), [plain_args, plain_kwargs]):
        return None, data
    return f"{function}:{hashlib.sha256(data).hexdigest()}", data


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


def _packed_exactly(value: Any) -> str | None:
    data = codec.encode(value)
    return _pack(data) if _exact(codec.decode(data), value) else None


# ----------------------------------------------------------------------------------- recording


def _is_iterable_object(value: Any) -> bool:
    """An object to record pass by pass: a DataLoader (or another torch.utils.data iterable)."""
    module = type(value).__module__ or ""
    return module.startswith("torch.utils.data") and hasattr(type(value), "__iter__")


class _RecordedPasses:
    """Stands for an iterable the reference returned: each pass over it is recorded as it goes."""

    def __init__(self, real: Any, log: dict[str, Any]) -> None:
        self._real = real
        self._log = log
        if hasattr(real, "__len__"):
            log["len"] = len(real)

    def __iter__(self) -> Iterator[Any]:
        items: list[str | None] = []
        self._log["passes"].append(items)
        for item in self._real:
            items.append(_packed_exactly(item))
            yield item

    def __len__(self) -> int:
        return len(self._real)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _watch(value: Any, path: list[int], logs: list[dict[str, Any]]) -> Any:
    """`value` with its iterable objects (in tuples and lists too) recorded pass by pass."""
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        return type(value)(_watch(item, [*path, i], logs) for i, item in enumerate(value))
    if _is_iterable_object(value):
        log: dict[str, Any] = {"path": path, "passes": []}
        logs.append(log)
        return _RecordedPasses(value, log)
    return value


def _skeleton(value: Any) -> Any:
    """The result with each recorded iterable replaced by None (they are stored apart)."""
    if isinstance(value, _RecordedPasses):
        return None
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        return type(value)(_skeleton(item) for item in value)
    return value


class Recording:
    """The calls recorded for one exercise: key -> {"result": packed, ...} or {"unreplayable": why}.

    An entry may also hold "callbacks" (what the call passed to its function arguments, in
    order) and "iterables" (for each iterable in the result: its length and each pass's items).
    """

    def __init__(self, exercise_id: str) -> None:
        self.exercise_id = exercise_id
        self.calls: dict[str, dict[str, Any]] = {}

    def add(self, key: str, real: Any, callbacks: list | None = None) -> Any:
        """Record a call's result; returns what the caller gets (iterables watched)."""
        logs: list[dict[str, Any]] = []
        given = _watch(real, [], logs)
        packed = _packed_exactly(_skeleton(given))
        entry: dict[str, Any] = {"result": packed} if packed is not None else {}
        if packed is None:
            entry = {"unreplayable": f"its result ({type(real).__name__}) cannot be recorded"}
        elif callbacks is not None and any(item is None for item in callbacks):
            entry = {"unreplayable": "what it passed to a function argument cannot be recorded"}
        else:
            if callbacks:
                entry["callbacks"] = callbacks
            if logs:
                entry["iterables"] = logs
        earlier = self.calls.get(key)
        if earlier is not None and (earlier != entry or logs or "iterables" in earlier):
            entry = {"unreplayable": "it gave different results for the same arguments"}
        self.calls[key] = entry
        return given

    def mark(self, key: str, why: str) -> None:
        self.calls[key] = {"unreplayable": why}

    def save(self, folder: Path, torch_version: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.exercise_id}.json"
        data = {"schema": SCHEMA, "exercise": self.exercise_id, "seed": 0, "torch": torch_version}
        data["calls"] = {key: _finished(entry) for key, entry in sorted(self.calls.items())}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return path


def _finished(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as saved: an iterable with an item that could not be recorded spoils it."""
    for log in entry.get("iterables", []):
        if any(item is None for items in log["passes"] for item in items):
            return {"unreplayable": "an item of the iterable it returned cannot be recorded"}
    return entry


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
            plain_args, plain_kwargs, _ = _callbacks(args, kwargs)
            key, before = _keyed(name, plain_args, plain_kwargs)
            if key is None:
                return value(*args, **kwargs)
            calls: list[Any] = []
            spoiled: list[str] = []
            count = iter(range(len(args) + len(kwargs)))

            def spy(function: Any) -> Any:
                if not isinstance(function, _FUNCTIONS):
                    return function
                index = next(count)

                def called(*inner: Any, **inner_kwargs: Any) -> Any:
                    calls.append([index, _packed_exactly([list(inner), inner_kwargs])])
                    returned = function(*inner, **inner_kwargs)
                    if returned is not None:
                        spoiled.append("it used what a function argument returned")
                    return returned

                return called

            call_args = [spy(a) for a in args]
            call_kwargs = {k: spy(v) for k, v in kwargs.items()}
            result = value(*call_args, **call_kwargs)
            if codec.encode([plain_args, plain_kwargs]) != before:
                self._recording.mark(key, "it changed its arguments in place")
                return result
            if spoiled:
                self._recording.mark(key, spoiled[0])
                return result
            return self._recording.add(key, result, calls)

        return record


# -------------------------------------------------------------------------------------- replay


def _not_run(detail: str) -> NoReturn:
    pytest.skip(f"{NEEDS_REFERENCE} ({detail})")


class _ReplayedPasses:
    """Yields, on its k-th pass, what the recorded iterable yielded on its k-th pass."""

    def __init__(self, log: dict[str, Any]) -> None:
        self._passes = log.get("passes", [])
        self._len = log.get("len")
        self._done = 0

    def __iter__(self) -> Iterator[Any]:
        if self._done >= len(self._passes):
            _not_run(f"an iterable was gone through more often than the {self._done} recorded")
        items = self._passes[self._done]
        self._done += 1
        for item in items:
            yield _unpack(item)

    def __len__(self) -> int:
        length = self._len
        if not isinstance(length, int):
            _not_run("the length of an iterable was not recorded")
        return length


def _place(value: Any, path: list[int], item: Any) -> Any:
    if not path:
        return item
    parts = list(value)
    parts[path[0]] = _place(parts[path[0]], path[1:], item)
    return type(value)(parts)


class ReplayReference:
    """Stands for the reference module in a release: answers the calls recorded at release time,
    and the others with the exercise's stand-ins where it has one."""

    def __init__(
        self,
        calls: dict[str, dict[str, Any]] | None,
        unavailable: str = "",
        stand_ins: StandIns | None = None,
    ) -> None:
        self._calls = calls or {}
        self._unavailable = unavailable
        self._stand_ins = stand_ins

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._unavailable:
            _not_run(self._unavailable)
        attribute = self._calls.get(f"{name}:attribute")
        if attribute is not None:
            try:
                return _unpack(attribute["result"])
            except (ValueError, KeyError, TypeError, zlib.error):
                _not_run(str(attribute.get("unreplayable") or "its recording is damaged"))

        def replay(*args: Any, **kwargs: Any) -> Any:
            key = call_key(name, args, kwargs)
            entry = self._calls.get(key) if key is not None else None
            return self._answer(entry, args, kwargs, name)

        return replay

    def _answer(self, entry: Any, args: tuple, kwargs: dict[str, Any], name: str) -> Any:
        if isinstance(entry, dict) and isinstance(entry.get("result"), str):
            try:
                result, calls = self._replayed(entry, args, kwargs)
            except (ValueError, KeyError, TypeError, IndexError, zlib.error):
                return self._stand_in(name, args, kwargs, "the recording of this call is damaged")
            for function, (inner, inner_kwargs) in calls:
                function(*inner, **inner_kwargs)
            return result
        if entry is None:
            why = f"{name}() was called with inputs that were not recorded"
        elif isinstance(entry, dict) and entry.get("unreplayable"):
            why = str(entry["unreplayable"])
        else:
            why = "the recording of this call is damaged"
        return self._stand_in(name, args, kwargs, why)

    def _replayed(self, entry: dict[str, Any], args: tuple, kwargs: dict[str, Any]) -> tuple:
        """The recorded result, and the calls to make to the function arguments first."""
        result = _unpack(entry["result"])
        for log in entry.get("iterables", []):
            result = _place(result, list(log["path"]), _ReplayedPasses(log))
        functions = _callbacks(args, kwargs)[2]
        calls = [
            (functions[index], _unpack(packed)) for index, packed in entry.get("callbacks", [])
        ]
        return result, calls

    def _stand_in(self, name: str, args: tuple, kwargs: dict[str, Any], why: str) -> Any:
        found = self._stand_ins.find(name) if self._stand_ins is not None else None
        if found is None:
            _not_run(why)
        return found(*args, **kwargs)


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
    return ReplayReference(calls, stand_ins=_stand_ins(folder.parent, exercise_id))


def _stand_ins(course: Path, exercise_id: str) -> StandIns:
    """The stand-ins of an exercise of the course at `course` (a release's course/ folder)."""
    stub = None
    try:
        from mllab.catalog import CatalogError, load_catalog

        stub = (
            course
            / "exercises"
            / load_catalog(course / "exercises" / "catalog.toml").get(exercise_id).path
        )
    except (CatalogError, KeyError, OSError):
        stub = None
    checks = course / "checks"
    if not checks.is_dir():
        from mllab.paths import grader_dir

        checks = grader_dir() / "checks"
    return StandIns(exercise_id, stub, checks)
