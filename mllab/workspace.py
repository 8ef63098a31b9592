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
    try:
        here = (start or Path.cwd()).resolve()
    except OSError:  # the current folder was deleted (or its drive is gone) under the shell
        raise WorkspaceError(
            "the current folder no longer exists; cd into your workspace again "
            "or pass --workspace DIR"
        ) from None
    for folder in (here, *here.parents):
        if (folder / MARKER).is_dir():
            return Workspace(folder)
    if any((here / exercise.path).is_file() for exercise in catalog.exercises):
        return Workspace(here)
    # A folder of learner files without the marker (a clone, a submission), from inside one of
    # its exercise folders: only there, so that a folder above an unrelated project that happens
    # to hold an evaluation/metrics.py is not taken for a workspace.
    for folder in here.parents:
        for exercise in catalog.exercises:
            learner = folder / exercise.path
            if learner.is_file() and here.is_relative_to(learner.parent):
                return Workspace(folder)
    raise WorkspaceError(
        "no mllab workspace here. Create one with `mllab init DIR` and cd into it, "
        "or pass --workspace DIR"
    )


def init_workspace(target: Path, catalog: Catalog, dirs: CourseDirs) -> list[Path]:
    """Write the stubs, lessons and catalog into `target`, never overwriting; returns new files."""
    try:
        return _write_workspace(target, catalog, dirs)
    except OSError as exc:
        # A file where a folder should be, a name too long, a read-only or vanished folder.
        where = f" ({exc.filename})" if exc.filename else ""
        raise WorkspaceError(
            f"cannot create the workspace {target}: {exc.strerror or exc}{where}"
        ) from None


def _write_workspace(target: Path, catalog: Catalog, dirs: CourseDirs) -> list[Path]:
    if (target / MARKER).is_dir():
        raise WorkspaceError(f"{target} is already an mllab workspace; nothing was changed")
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} exists and is not a folder")
    outer = enclosing_workspace(target)
    if outer is not None:
        # Found from inside, the new workspace would hide the learner's own from mllab.
        raise WorkspaceError(
            f"{target} is inside your mllab workspace {outer}; nothing was changed. For a fresh "
            "copy of a file, create a workspace outside it (`mllab init /tmp/fresh-course`) and "
            "copy the file from there"
        )
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


def enclosing_workspace(target: Path) -> Path | None:
    """The workspace made by `mllab init` that `target` would lie inside, if any."""
    for folder in target.resolve().parents:
        if (folder / MARKER).is_dir():
            return folder
    return None
