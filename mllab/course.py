"""The course's files as learners get them: the catalog with points, stubs, lessons, references.

Stubs are generated from the marked reference solutions (`mllab.stubs`). An installed wheel or a
student release ships them ready under `exercises/`; a checkout generates them when asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mllab.catalog import Catalog, Exercise, load_catalog
from mllab.files import write_atomic
from mllab.paths import CourseDirs
from mllab.stubs import StubError, clean_solution, make_stub

__all__ = ["StubError", "load_course_catalog", "reference_text", "stub_text", "write_stubs"]


def load_course_catalog(dirs: CourseDirs) -> Catalog:
    """The course's catalog, each exercise worth the points its checks declare."""
    return load_catalog(dirs.catalog, dirs.checks)


def stub_text(dirs: CourseDirs, exercise: Exercise) -> str:
    """The learner's starting file for `exercise`. Raises StubError when it cannot be made."""
    shipped = dirs.exercises / exercise.path
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    source = dirs.solutions / exercise.path
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StubError(
            f"{exercise.id}: no stub at {shipped} and no marked solution at {source} to make "
            "one from; reinstall mllab"
        ) from None
    return make_stub(text, exercise.id, where=str(source))


def write_stubs(
    dirs: CourseDirs, exercises: Iterable[Exercise], target: Path, overwrite: bool = False
) -> list[Path]:
    """Write each exercise's stub under `target` at its catalog path; returns the files written.

    Every stub is made before any is written, so a broken solution leaves `target` untouched.
    """
    texts = {exercise.path: stub_text(dirs, exercise) for exercise in exercises}
    written = []
    for relative, text in texts.items():
        destination = target / relative
        if destination.exists() and not overwrite:
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(destination, text)
        written.append(destination)
    return written


def reference_text(dirs: CourseDirs, exercise: Exercise) -> str | None:
    """The reference solution as a learner sees it after a pass, or None when not installed."""
    path = dirs.solutions / exercise.path
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return clean_solution(text)
    except StubError:
        return text
