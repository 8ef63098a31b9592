"""The grading report: per-check results, per-exercise scores, and its strict JSON contract."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.sandbox.output import clean

SCHEMA = "mllab-report/1"

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
NOT_RUN = "not_run"
OUTCOMES: tuple[str, ...] = (PASSED, FAILED, ERROR, NOT_RUN)
_EXPECTED_OUTCOME = f"expected one of {', '.join(OUTCOMES)}"

# Float sums are recomputed on load; this only absorbs rounding, never a real mismatch.
_TOLERANCE = 1e-9


class ReportError(ValueError):
    """A report (or a dict claiming to be one) that breaks the schema; the message names the key."""


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _where(path: str) -> str:
    return path or "report"


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _object(data: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ReportError(f"{_where(path)}: expected an object, got {_type_name(data)}")
    return data


def _get(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise ReportError(f"{_join(path, key)}: missing")
    return data[key]


def _str(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str):
        raise ReportError(f"{_join(path, key)}: expected a string, got {_type_name(value)}")
    return value


def _optional_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    value = _get(data, key, path)
    if value is not None and not isinstance(value, str):
        raise ReportError(f"{_join(path, key)}: expected a string or null, got {_type_name(value)}")
    return value


def _number(data: Mapping[str, Any], key: str, path: str) -> float:
    value = _get(data, key, path)
    # bool is an int subclass, but true/false as a score is always a producer bug.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError(f"{_join(path, key)}: expected a number, got {_type_name(value)}")
    if not math.isfinite(value) or value < 0:
        raise ReportError(f"{_join(path, key)}: expected a finite number >= 0, got {value!r}")
    return float(value)


def _bool(data: Mapping[str, Any], key: str, path: str) -> bool:
    value = _get(data, key, path)
    if not isinstance(value, bool):
        raise ReportError(f"{_join(path, key)}: expected true or false, got {_type_name(value)}")
    return value


def _list(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = _get(data, key, path)
    if not isinstance(value, list):
        raise ReportError(f"{_join(path, key)}: expected a list, got {_type_name(value)}")
    return value


def _check_derived(path: str, key: str, stored: Any, actual: Any) -> None:
    """Reject stored summary values that disagree with what the checks add up to."""
    if isinstance(actual, bool):
        same = stored is actual
    else:
        same = math.isclose(stored, actual, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)
    if not same:
        raise ReportError(
            f"{_join(path, key)}: {stored!r} does not match the value computed from the checks "
            f"({actual!r})"
        )


def _fsum(values: Any) -> float:
    # fsum keeps totals of many fractional points exact enough to survive a round trip.
    return float(math.fsum(values))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check (one test, on one device) and the points it earned."""

    name: str
    outcome: str
    points: float
    max_points: float
    device: str | None
    message: str = ""
    title: str = ""
    nodeid: str = ""
    duration: float = 0.0
    output: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ReportError(f"outcome: {_EXPECTED_OUTCOME}, got {self.outcome!r}")
        # Messages and output quote the learner's text: whatever made this result, and whatever
        # file it was loaded from, none of it can reach a terminal or a page uncleaned.
        for key in ("name", "title", "message", "output"):
            value = getattr(self, key)
            if isinstance(value, str):
                object.__setattr__(self, key, clean(value))
        for key in ("points", "max_points", "duration"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ReportError(f"{key}: expected a number, got {_type_name(value)}")
            if not math.isfinite(value) or value < 0:
                raise ReportError(f"{key}: expected a finite number >= 0, got {value!r}")
            # Stored as float so that JSON always says 1.0, whatever the producer passed.
            object.__setattr__(self, key, float(value))
        if self.points > self.max_points + _TOLERANCE:
            raise ReportError(f"points: {self.points!r} exceeds max_points {self.max_points!r}")
        if self.outcome == NOT_RUN and self.points != 0:
            raise ReportError(f"points: a check that did not run earns 0, got {self.points!r}")

    @property
    def display_name(self) -> str:
        """The title if there is one, else the name, with the device in brackets."""
        base = self.title or self.name
        return f"{base} [{self.device}]" if self.device is not None else base

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "outcome": self.outcome,
            "points": self.points,
            "max_points": self.max_points,
            "device": self.device,
            "message": self.message,
            "nodeid": self.nodeid,
            "duration": self.duration,
            "output": self.output,
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CheckResult:
        """Validate and load one check; `path` prefixes the key path in error messages."""
        obj = _object(data, path)
        outcome = _str(obj, "outcome", path)
        if outcome not in OUTCOMES:
            raise ReportError(f"{_join(path, 'outcome')}: {_EXPECTED_OUTCOME}, got {outcome!r}")
        points = _number(obj, "points", path)
        max_points = _number(obj, "max_points", path)
        fields: dict[str, Any] = {
            "name": _str(obj, "name", path),
            "outcome": outcome,
            "points": points,
            "max_points": max_points,
            "device": _optional_str(obj, "device", path),
            "message": _str(obj, "message", path),
            "title": _str(obj, "title", path),
            "nodeid": _str(obj, "nodeid", path),
            "duration": _number(obj, "duration", path),
            "output": _str(obj, "output", path),
        }
        try:
            return cls(**fields)
        except ReportError as exc:
            raise ReportError(_join(path, str(exc))) from None


@dataclass(frozen=True)
class ExerciseResult:
    """All checks of one exercise; its score counts only the checks that could run."""

    id: str
    title: str
    checks: tuple[CheckResult, ...]

    def __post_init__(self) -> None:
        # A list passed by a producer would make the frozen result unhashable and mutable.
        object.__setattr__(self, "checks", tuple(self.checks))

    @property
    def score(self) -> float:
        return _fsum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        # A check that could not run (no CUDA, say) counts neither for nor against the learner.
        return _fsum(check.max_points for check in self.checks if check.outcome != NOT_RUN)

    @property
    def judged(self) -> bool:
        """Whether any check ran: one whose checks could not run at all (CUDA only, without
        CUDA) says nothing about the learner's code."""
        return _judged(self.checks)

    @property
    def passed(self) -> bool:
        ran = [check for check in self.checks if check.outcome != NOT_RUN]
        return bool(ran) and all(check.outcome == PASSED for check in ran)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "checks": [check.to_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ExerciseResult:
        """Validate and load one exercise; `path` prefixes the key path in error messages."""
        obj = _object(data, path)
        ident = _str(obj, "id", path)
        title = _str(obj, "title", path)
        checks_path = _join(path, "checks")
        checks = tuple(
            CheckResult.from_dict(item, _join(checks_path, i))
            for i, item in enumerate(_list(obj, "checks", path))
        )
        result = cls(id=ident, title=title, checks=checks)
        _check_derived(path, "score", _number(obj, "score", path), result.score)
        _check_derived(path, "max_score", _number(obj, "max_score", path), result.max_score)
        _check_derived(path, "passed", _bool(obj, "passed", path), result.passed)
        return result


@dataclass(frozen=True)
class Report:
    """The result of one grading run over one or more exercises."""

    exercises: tuple[ExerciseResult, ...]
    seed_kind: str = "public"
    # Problems outside any one check (collection failed, worker would not start, ...).
    errors: tuple[str, ...] = ()
    created: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "exercises", tuple(self.exercises))
        object.__setattr__(self, "errors", tuple(clean(str(error)) for error in self.errors))

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(check for exercise in self.exercises for check in exercise.checks)

    @property
    def score(self) -> float:
        return _fsum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        return _fsum(check.max_points for check in self.checks if check.outcome != NOT_RUN)

    @property
    def judged(self) -> bool:
        """Whether any check of the run ran (see ExerciseResult.judged)."""
        return _judged(self.checks)

    @property
    def all_passed(self) -> bool:
        if self.errors:
            return False
        return all(check.outcome in (PASSED, NOT_RUN) for check in self.checks)

    def counts(self) -> dict[str, int]:
        """Number of checks per outcome; every outcome is present, in OUTCOMES order."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for check in self.checks:
            counts[check.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "score": self.score,
            "max_score": self.max_score,
            "seed_kind": self.seed_kind,
            "errors": list(self.errors),
            "created": self.created,
            "exercises": [exercise.to_dict() for exercise in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Validate a decoded JSON report and load it; raises ReportError naming the bad key."""
        obj = _object(data, "")
        schema = _get(obj, "schema", "")
        if schema != SCHEMA:
            raise ReportError(f"schema: expected {SCHEMA!r}, got {schema!r}")
        errors_raw = _list(obj, "errors", "")
        for i, item in enumerate(errors_raw):
            if not isinstance(item, str):
                raise ReportError(f"errors[{i}]: expected a string, got {_type_name(item)}")
        exercises = tuple(
            ExerciseResult.from_dict(item, f"exercises[{i}]")
            for i, item in enumerate(_list(obj, "exercises", ""))
        )
        seen: set[str] = set()
        for i, exercise in enumerate(exercises):
            if exercise.id in seen:
                raise ReportError(f"exercises[{i}].id: duplicate exercise id {exercise.id!r}")
            seen.add(exercise.id)
        report = cls(
            exercises=exercises,
            seed_kind=_str(obj, "seed_kind", ""),
            errors=tuple(errors_raw),
            created=_str(obj, "created", ""),
        )
        _check_derived("", "score", _number(obj, "score", ""), report.score)
        _check_derived("", "max_score", _number(obj, "max_score", ""), report.max_score)
        return report


def _judged(checks: tuple[CheckResult, ...]) -> bool:
    return any(check.outcome != NOT_RUN for check in checks)
