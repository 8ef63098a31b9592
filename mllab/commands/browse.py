"""`mllab list`, `mllab hint`, `mllab init` and the welcome shown by a bare `mllab`."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mllab.catalog import Catalog
from mllab.cli import UsageError, unknown_exercise
from mllab.paths import course_dirs
from mllab.progress import STATUS_STYLE, Progress, unsaved
from mllab.workspace import Workspace, WorkspaceError, find_workspace, init_workspace


def _workspace(catalog: Catalog) -> Workspace | None:
    try:
        return find_workspace(None, catalog)
    except WorkspaceError:
        return None


def _progress(workspace: Workspace | None, out: Console) -> Progress | None:
    if workspace is None or not workspace.managed:
        return None
    progress = Progress(workspace.state_dir)
    if progress.notice:
        out.print(Text(f"note: {progress.notice}", style="yellow"))
    return progress


def run_list(catalog: Catalog, out: Console) -> int:
    progress = _progress(_workspace(catalog), out)
    # A narrow terminal gets the track as a heading row instead of a column, so nothing is cut.
    track_column = out.width >= 110
    table = Table(title=catalog.title, title_justify="left", expand=not track_column)
    # Below this the heading rows leave no room for titles; the ids say what each one is.
    title_column = out.width >= 78
    columns = ("#", "id", *(("title",) if title_column else ()),
               *(("track",) if track_column else ()), "points", "status")  # fmt: skip
    longest_id = max((len(exercise.id) for exercise in catalog.exercises), default=2)
    for column in columns:
        # Ids are what the other commands take: never cut (the id column is as wide as the
        # longest, and only a track heading in it may wrap); titles wrap instead.
        table.add_column(
            column,
            justify="right" if column in ("#", "points") else "left",
            no_wrap=column not in ("title", "id"),
            min_width=len("not started") if column == "status" else None,
            width=longest_id if column == "id" else None,
            ratio=1 if column == "title" else None,  # the title takes what is left
        )
    track = None
    for number, exercise in enumerate(catalog.exercises, start=1):
        status = progress.status(exercise.id) if progress else "-"
        if not track_column and exercise.track != track:
            table.add_row("", Text(exercise.track, style="bold"), *[""] * (len(columns) - 2))
        track = exercise.track
        table.add_row(
            str(number), exercise.id, *((exercise.title,) if title_column else ()),
            *((exercise.track,) if track_column else ()), f"{exercise.points:g}",
            Text(status, style=STATUS_STYLE.get(status, "")),
        )  # fmt: skip
    out.print(table)
    return 0


def run_hint(args: argparse.Namespace, catalog: Catalog, out: Console) -> int:
    try:
        exercise = catalog.get(args.id)
    except KeyError:
        raise unknown_exercise(args.id, catalog) from None
    if not exercise.hints:
        out.print(f"{exercise.id} has no hints; its lesson is in {exercise.lesson}")
        return 0
    progress = _progress(_workspace(catalog), out)
    remembered = progress is not None
    if args.all:
        shown = len(exercise.hints)
    elif progress is not None:
        shown = progress.reveal_hint(exercise.id, len(exercise.hints))
        try:
            progress.save()
        except OSError as exc:
            out.print(Text(f"note: {unsaved(progress, exc)}", style="yellow"))
            remembered = False
    else:
        shown = 1
    for number, hint in enumerate(exercise.hints[:shown], start=1):
        out.print(Text(f"Hint {number}/{len(exercise.hints)}: ", style="bold"), Text(hint))
    if shown < len(exercise.hints):
        # Where nothing remembers the hints shown, asking again gives the same one.
        again = (
            f"Run `mllab hint {exercise.id}` again for the next one."
            if remembered
            else f"`mllab hint {exercise.id} --all` shows the others."
        )
        out.print(Text(again, style="dim"))
    return 0


def run_init(target: Path, catalog: Catalog, out: Console) -> int:
    try:
        created = init_workspace(target, catalog, course_dirs())
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    out.print(Text(f"Created the workspace {target} ({len(created)} files).", style="green"))
    first = catalog.exercises[0]
    # Quoted so that the command can be pasted whatever the folder's name holds (spaces, say).
    where = shlex.quote(str(target))
    out.print(f"Next: cd {where}, read {first.lesson}, edit {first.path}, then `mllab check`.")
    return 0


def run_welcome(catalog: Catalog, out: Console) -> int:
    workspace = _workspace(catalog)
    if workspace is None:
        out.print(Text(catalog.title, style="bold"))
        out.print("There is no workspace here yet. Create one and step in:")
        out.print("  mllab init mllab-course && cd mllab-course && mllab")
        return 0
    progress = _progress(workspace, out)
    run_list(catalog, out)
    pending = progress.next_pending(catalog.ids) if progress else catalog.ids[0]
    if pending is None:
        out.print(Text("Every exercise passes. Well done!", style="bold green"))
        return 0
    exercise = catalog.get(pending)
    lesson = workspace.file(exercise.lesson)
    if not lesson.is_file():  # a folder of learner files only, or a lesson the learner removed
        lesson = course_dirs().exercises / exercise.lesson
    out.print(Text(f"Next: {exercise.title}", style="bold"))
    out.print(f"  lesson: {lesson}")
    out.print(f"  edit:   {workspace.file(exercise.path)}")
    out.print(f"  then:   mllab check {exercise.id}    (mllab hint {exercise.id} if stuck)")
    return 0
