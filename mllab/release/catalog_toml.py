"""Writes a catalog back to TOML, for a release that holds only some of a course's exercises."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from mllab.catalog import Catalog, CatalogError, parse_catalog

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def _string(text: str) -> str:
    # A JSON string is a TOML basic string: the same quotes and the same escapes.
    return json.dumps(text, ensure_ascii=False)


def _strings(items: tuple[str, ...]) -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"    {_string(item)},\n" for item in items) + "]"


def catalog_toml(catalog: Catalog, ids: list[str]) -> str:
    """The catalog with only `ids`, in course order; checked by parsing it back."""
    lines = ["[course]", f"title = {_string(catalog.title)}"]
    for exercise in catalog.exercises:
        if exercise.id not in ids:
            continue
        lines += [
            "",
            "[[exercise]]",
            f"id = {_string(exercise.id)}",
            f"title = {_string(exercise.title)}",
            f"path = {_string(exercise.path)}",
            f"lesson = {_string(exercise.lesson)}",
            f"track = {_string(exercise.track)}",
            f"requires = {_strings(tuple(r for r in exercise.requires if r in ids))}",
            f"trains = {'true' if exercise.trains else 'false'}",
            f"summary = {_string(exercise.summary)}",
            f"hints = {_strings(exercise.hints)}",
        ]
    text = "\n".join(lines) + "\n"
    # Points are not written: the release ships the checks, which declare them.
    wanted = tuple(
        dataclasses.replace(
            exercise, requires=tuple(r for r in exercise.requires if r in ids), points=0.0
        )
        for exercise in catalog.exercises
        if exercise.id in ids
    )
    try:
        written = parse_catalog(tomllib.loads(text), catalog.source)
    except (CatalogError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot write the catalog for the release: {exc}") from None
    if written.exercises != wanted or written.title != catalog.title:
        raise CatalogError("the catalog written for the release does not read back the same")
    return text


def write_catalog(catalog: Catalog, ids: list[str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(catalog_toml(catalog, ids), encoding="utf-8")
