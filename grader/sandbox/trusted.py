"""What the trusted side reads, and when: once, before any learner code of a run.

A worker may write to disk (as the grader's user, under process isolation). So the grader reads
the learner's files and the reference solutions into memory before it starts the first worker of
a run, runs and parses those bytes, and never reads them again. Batch grading also compares the
course with digests taken before the first submission (`course_manifest`), so that a submission
graded earlier cannot have rewritten a check or a solution that a later one is graded with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MAX_LEARNER_FILE = 8 * 2**20  # larger than any exercise file; a bigger one is not read at all


@dataclass
class Snapshot:
    """The learner's files (by catalog path) and the references (by the same path)."""

    learner: dict[str, bytes] = field(default_factory=dict)
    references: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def take(cls, workspace: Path, paths: Iterable[str], solutions: Path) -> Snapshot:
        """The learner's files at `paths` and every reference file in their exercises' folders."""
        snapshot, paths = cls(), list(paths)
        for relative in paths:
            data = _read(workspace / relative, MAX_LEARNER_FILE)
            if data is not None:
                snapshot.learner[relative] = data
        for folder in sorted(_exercise_folders(("", relative) for relative in paths)):
            for relative, path in _files(solutions / folder):
                data = _read(path)
                if data is not None:
                    snapshot.references[f"{folder}/{relative}"] = data
        return snapshot


def _read(path: Path, limit: int | None = None) -> bytes | None:
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError:
        return None
    return data if limit is None or len(data) <= limit else None


def _files(folder: Path, suffix: str = "") -> list[tuple[str, Path]]:
    """Every file under `folder` (not in __pycache__), by its path relative to it, sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(suffix) and not name.endswith(".pyc"):
                path = Path(root, name)
                found.append((path.relative_to(folder).as_posix(), path))
    return found


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


def _exercise_folders(exercises: Iterable[tuple[str, str]]) -> set[str]:
    return {PurePosixPath(path).parts[0] for _, path in exercises}


def course_manifest(
    checks: Path, references: Mapping[str, bytes] | Path, exercises: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """A digest of every check module (*.py) and of the reference solutions of `exercises`
    (id, learner path: their folders), taken by batch grading before the first submission."""
    manifest = {f"checks/{rel}": _sha(_read(path) or b"") for rel, path in _files(checks, ".py")}
    if isinstance(references, Path):
        references = {rel: _read(path) or b"" for rel, path in _files(references)}
    folders = _exercise_folders(exercises)
    for relative, data in references.items():
        if PurePosixPath(relative).parts[0] in folders:
            manifest[f"solutions/{relative}"] = _sha(data)
    return manifest


def changed_since(
    manifest: Mapping[str, str],
    checks: Path,
    used_checks: Iterable[Path],
    references: Mapping[str, bytes],
    exercises: Iterable[tuple[str, str]],
) -> list[str]:
    """What this run executes that differs from `manifest`: the check modules it imported and
    the references it read (as read before any learner code ran)."""
    now: dict[str, str] = {}
    for path in used_checks:
        relative = path.resolve().relative_to(checks.resolve()).as_posix()
        now[f"checks/{relative}"] = _sha(_read(path) or b"")
    folders = _exercise_folders(exercises)
    now.update({f"solutions/{rel}": _sha(data) for rel, data in references.items()
                if PurePosixPath(rel).parts[0] in folders})  # fmt: skip
    expected = {k: v for k, v in manifest.items() if k.startswith("solutions/")}
    expected = {k: v for k, v in expected.items() if PurePosixPath(k).parts[1] in folders}
    changed = [name for name, digest in now.items() if manifest.get(name) != digest]
    changed += [name for name in expected if name not in now]  # a reference that went away
    return sorted(set(changed))


def probe_files(folders: Iterable[Path], limit: int) -> list[str]:
    """Files a sandboxed worker must not see, to check at its boot: those of `folders`."""
    found: list[str] = []
    for folder in folders:
        found += [str(path) for _, path in _files(folder)][: limit - len(found)]
    return found


def mllab_package() -> Path | None:
    """The mllab package's folder, found without importing it (its course may be inside)."""
    spec = importlib.util.find_spec("mllab")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def course_copies(path: Iterable[str]) -> list[Path]:
    """On an import path: checkouts of a course (their roots), and mllab or grader packages,
    wherever they are; a worker must see none of them, whichever copy this run grades with."""
    found = []
    for entry in path:
        if not entry or not os.path.isabs(entry) or not os.path.isdir(entry):
            continue
        folder = Path(entry)
        if (folder / "exercises" / "catalog.toml").is_file() or (folder / "solutions").is_dir():
            found.append(folder)
        found += [folder / name for name in ("mllab", "grader") if (folder / name).is_dir()]
    return found


def option_list(value: Any) -> list[str]:
    """A repeatable option's values (a list, one string, or nothing)."""
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]
