"""Workspaces: folders of learner files at the catalog's paths, found, created and described."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mllab.catalog import Catalog
from mllab.course import StubError, write_stubs
from mllab.paths import CourseDirs

MARKER = ".mllab"


class WorkspaceError(RuntimeError):
    """No usable workspace; the message says what to do."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / MARKER

    @property
    def managed(self) -> bool:
        """True for a workspace made by `mllab init`: it keeps progress."""
        return self.state_dir.is_dir()

    def file(self, relative: str) -> Path:
        return self.root / relative


def find_workspace(explicit: str | None, catalog: Catalog, start: Path | None = None) -> Workspace:
    """The workspace named by --workspace, or the nearest one at or above the current folder."""
    if explicit is not None:
        root = Path(explicit).expanduser()
        if not root.is_dir():
            raise WorkspaceError(f"--workspace {explicit}: no such folder")
        return Workspace(root.resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return Workspace(folder)
    if any((here / exercise.path).is_file() for exercise in catalog.exercises):
        return Workspace(here)
    raise WorkspaceError(
        "no mllab workspace here. Create one with `mllab init DIR` and cd into it, "
        "or pass --workspace DIR"
    )


def init_workspace(target: Path, catalog: Catalog, dirs: CourseDirs) -> list[Path]:
    """Write the stubs, lessons and catalog into `target`, never overwriting; returns new files."""
    if (target / MARKER).is_dir():
        raise WorkspaceError(f"{target} is already an mllab workspace; nothing was changed")
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} exists and is not a folder")
    try:
        created = write_stubs(dirs, catalog.exercises, target)
    except StubError as exc:
        raise WorkspaceError(f"the course is broken: {exc}") from None
    wanted = [dirs.catalog.name]
    for exercise in catalog.exercises:
        wanted.append(exercise.lesson)
    for relative in wanted:
        source, destination = dirs.exercises / relative, target / relative
        if destination.exists() or not source.is_file():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        created.append(destination)
    (target / MARKER).mkdir(parents=True, exist_ok=True)
    return created
