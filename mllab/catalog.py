"""The course catalog: `exercises/catalog.toml` parsed into frozen dataclasses."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {
    "id",
    "title",
    "path",
    "lesson",
    "track",
    "points",
    "requires",
    "trains",
    "summary",
    "hints",
}


class CatalogError(ValueError):
    """A catalog that cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    path: str
    lesson: str
    track: str
    points: float
    requires: tuple[str, ...] = ()
    trains: bool = False
    summary: str = ""
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    title: str
    exercises: tuple[Exercise, ...]
    source: Path

    @property
    def ids(self) -> list[str]:
        return [exercise.id for exercise in self.exercises]

    def get(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    def tracks(self) -> list[str]:
        seen: dict[str, None] = {}
        for exercise in self.exercises:
            seen.setdefault(exercise.track, None)
        return list(seen)


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog file. Raises CatalogError with a message a person can act on."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    return parse_catalog(data, path)


def parse_catalog(data: dict[str, Any], source: Path) -> Catalog:
    course = data.get("course", {})
    if not isinstance(course, dict):
        raise CatalogError(f"{source}: [course] must be a table")
    title = course.get("title", "mllab course")
    if not isinstance(title, str):
        raise CatalogError(f"{source}: [course] key 'title': expected a string")
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{source}: no [[exercise]] entries; add at least one")
    exercises: list[Exercise] = []
    for number, entry in enumerate(entries, start=1):
        exercises.append(_parse_entry(entry, number, source, exercises))
    return Catalog(title=title, exercises=tuple(exercises), source=source)


def _parse_entry(entry: Any, number: int, source: Path, before: list[Exercise]) -> Exercise:
    where = f"{source}: exercise {number}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a table")
    if isinstance(entry.get("id"), str):
        where += f" ({entry['id']!r})"

    def fail(key: str, problem: str) -> CatalogError:
        return CatalogError(f"{where}: key '{key}': {problem}")

    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known keys: {', '.join(sorted(_KEYS))})")

    def text(key: str, default: str | None = None) -> str:
        value = entry.get(key, default)
        if value is None:
            raise fail(key, "missing")
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"expected a non-empty string, got {value!r}")
        return value

    exercise_id = text("id")
    if not _ID.fullmatch(exercise_id):
        raise fail("id", "use lowercase letters, digits and underscores, starting with a letter")
    if any(other.id == exercise_id for other in before):
        raise fail("id", f"duplicate id {exercise_id!r}")
    path = _relative_path(text("path"), ".py", fail, "path")
    lesson = _relative_path(
        text("lesson", str(PurePosixPath(path).parent / "lesson.md")), ".md", fail, "lesson"
    )
    points = entry.get("points", 1)
    if (
        isinstance(points, bool)
        or not isinstance(points, (int, float))
        or not math.isfinite(points)
        or points <= 0
    ):
        raise fail("points", f"expected a positive number, got {points!r}")
    requires = entry.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise fail("requires", "expected a list of exercise ids")
    known = {other.id for other in before}
    for required in requires:
        if required not in known:
            raise fail("requires", f"{required!r} is not an exercise listed before this one")
    hints = entry.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
        raise fail("hints", "expected a list of non-empty strings")
    trains = entry.get("trains", False)
    if not isinstance(trains, bool):
        raise fail("trains", f"expected true or false, got {trains!r}")
    summary = entry.get("summary", "")
    if not isinstance(summary, str):
        raise fail("summary", "expected a string")
    return Exercise(
        id=exercise_id,
        title=text("title"),
        path=path,
        lesson=lesson,
        track=text("track", "Course"),
        points=float(points),
        requires=tuple(requires),
        trains=trains,
        summary=summary.strip(),
        hints=tuple(h.strip() for h in hints),
    )


def _relative_path(value: str, suffix: str, fail: Any, key: str) -> str:
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts or "\\" in value:
        raise fail(key, f"must be a relative path inside the course folder, got {value!r}")
    if pure.suffix != suffix:
        raise fail(key, f"must name a {suffix} file, got {value!r}")
    return str(pure)
