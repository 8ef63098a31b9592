"""The course catalog: `exercises/catalog.toml` parsed into frozen dataclasses.

An exercise's points are not in the catalog: they are the sum of its checks' points, declared
once with `@pytest.mark.points(n)` on each check and read here from the check modules' source,
without importing them (the app never imports pytest or torch).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, replace
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
    points: float = 0.0
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


def load_catalog(path: Path, checks: Path | None = None, *, allow_empty: bool = False) -> Catalog:
    """Read and validate a catalog file. Raises CatalogError with a message a person can act on.

    With `checks` (a folder of check modules), each exercise's points are its checks' total.
    `allow_empty` accepts a course without exercises yet (for `mllab dev new`, which adds one).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    catalog = parse_catalog(data, path, allow_empty=allow_empty)
    if checks is None:
        return catalog
    points = check_points(checks)
    exercises = tuple(replace(e, points=points.get(e.id, 0.0)) for e in catalog.exercises)
    return replace(catalog, exercises=exercises)


def parse_catalog(data: dict[str, Any], source: Path, *, allow_empty: bool = False) -> Catalog:
    course = data.get("course", {})
    if not isinstance(course, dict):
        raise CatalogError(f"{source}: [course] must be a table")
    title = course.get("title", "mllab course")
    if not isinstance(title, str):
        raise CatalogError(f"{source}: [course] key 'title': expected a string")
    entries = data.get("exercise", [] if allow_empty else None)
    if not isinstance(entries, list) or not (entries or allow_empty):
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

    unknown = sorted(set(entry) - _KEYS - {"points"})
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
    if "points" in entry:
        raise fail(
            "points",
            "points are declared on the checks (@pytest.mark.points(n)); remove this key",
        )
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


def check_points(checks: Path) -> dict[str, float]:
    """Points per exercise, summed over the `test_*` functions of the check modules in `checks`.

    A module names its exercise with `pytestmark = pytest.mark.exercise("id")`; a check is worth
    the literal in its `@pytest.mark.points(n)` decorator, or 1.
    """
    totals: dict[str, float] = {}
    for module in sorted(checks.glob("test_*.py")):
        try:
            tree = ast.parse(module.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue  # the grader reports a broken check module when it collects it
        exercise = _module_exercise(tree)
        if exercise is None:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                totals[exercise] = totals.get(exercise, 0.0) + _points(node)
    return totals


def _mark_call(node: ast.expr, name: str) -> ast.Call | None:
    """`pytest.mark.NAME(...)` (or `mark.NAME(...)`) as a call node, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == name:
            return node
    return None


def _module_exercise(tree: ast.Module) -> str | None:
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            continue
        values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
        for value in values:
            call = _mark_call(value, "exercise")
            if call and call.args and isinstance(call.args[0], ast.Constant):
                return str(call.args[0].value)
    return None


def _points(function: ast.FunctionDef | ast.AsyncFunctionDef) -> float:
    for decorator in function.decorator_list:
        call = _mark_call(decorator, "points")
        if call and call.args and isinstance(call.args[0], ast.Constant):
            value = call.args[0].value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return 1.0
