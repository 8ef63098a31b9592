"""`mllab check`: grade exercises in a workspace and report in the format asked for."""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.text import Text

from grader import formats
from grader.report import CheckResult, ExerciseResult, Report
from mllab.catalog import Catalog
from mllab.cli import UsageError, unknown_exercise
from mllab.progress import Progress, fingerprint, record_report, unsaved
from mllab.runner import GraderFailed, GraderRun, RunRequest
from mllab.summary import LiveLines, render_summary
from mllab.workspace import Workspace, WorkspaceError, find_workspace


def select(
    args: argparse.Namespace,
    catalog: Catalog,
    progress: Progress | None,
    here: str | None = None,
) -> list[str]:
    """The exercises to check: those named, all of them, else the one the learner is on.

    `here` is the exercise whose folder the learner runs mllab in (see `exercise_here`).
    """
    unknown = [i for i in args.ids if i not in catalog.ids]
    if unknown:
        raise unknown_exercise(unknown[0], catalog, listing=True)
    if args.all:
        return catalog.ids
    if args.ids:
        return list(dict.fromkeys(args.ids))
    if here is not None:
        return [here]
    # The exercise you are on: the one last opened in the lab, else the first not passed.
    resumed = progress.resume(list(catalog.ids)) if progress else None
    return [resumed or catalog.ids[0]]


def exercise_here(catalog: Catalog, workspace: Workspace) -> str | None:
    """The exercise whose folder the current folder is (or is inside), when only one lives there.

    A learner who cds into perceptron/ to edit it means that exercise by a bare `mllab check`.
    """
    try:
        relative = Path.cwd().resolve().relative_to(workspace.root)
    except (OSError, ValueError):  # the folder is gone, or outside the workspace
        return None
    inside = (relative, *relative.parents)
    found = [
        exercise.id
        for exercise in catalog.exercises
        if PurePosixPath(exercise.path).parent.parts  # one at the top lives in every folder
        and Path(PurePosixPath(exercise.path).parent) in inside
    ]
    return found[0] if len(found) == 1 else None


def choose_isolation(args: argparse.Namespace) -> str:
    """bwrap for a secret seed unless --isolation says otherwise; refused where it cannot run."""
    from grader.sandbox.isolation import IsolationUnavailable, resolve

    asked = getattr(args, "isolation", None) or "auto"
    try:
        return resolve(asked, args.seed not in (None, 0))
    except IsolationUnavailable as exc:
        raise UsageError(str(exc)) from None


def run_check(args: argparse.Namespace, catalog: Catalog, out: Console, err: Console) -> int:
    try:
        workspace = find_workspace(args.workspace, catalog)
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    progress = Progress(workspace.state_dir) if workspace.managed else None
    if progress and progress.notice:
        err.print(Text(f"note: {progress.notice}", style="yellow"))
    ids = select(args, catalog, progress, exercise_here(catalog, workspace))
    if args.output:
        check_output(Path(args.output), workspace, catalog)
    machine = args.format != "text"
    # Live lines go to the terminal only; machine formats keep stdout clean for the report.
    live_console = err if machine or args.output else out
    if not args.ids and not args.all and live_console.is_terminal:
        live_console.print(
            Text(f"Checking {ids[0]} (name exercises or use --all for more)", style="dim")
        )
    request = RunRequest(
        workspace=workspace.root, exercises=ids, device=args.device, seed=args.seed,
        timeout=args.timeout, isolation=choose_isolation(args),
        hide=(args.output,) if args.output else (),
    )  # fmt: skip
    live = LiveLines(live_console) if live_console.is_terminal else None
    judged = {i: fingerprint(workspace.file(catalog.get(i).path)) for i in ids}
    status = 0
    try:
        report = GraderRun(request).run(live)
    except GraderFailed as exc:
        err.print(Text(f"mllab: {exc}", style="red"), soft_wrap=True)
        report = failed_report(ids, catalog, str(exc))
        status = 2
    if progress is not None and not status:
        record(progress, report, workspace, catalog, judged, err)
    emit(report, args, out)
    if status:
        return status
    return 0 if report.all_passed else 1


def record(
    progress: Progress,
    report: Report,
    workspace: Workspace,
    catalog: Catalog,
    judged: dict[str, str | None],
    err: Console,
) -> None:
    """Record each exercise the run judged, if its file is still the one judged, and save.

    A run that judged nothing (no CUDA here) leaves progress alone, and so does a file saved
    again during the run: progress only ever holds the verdict on the file that is on disk.
    """
    _, changed = record_report(
        progress, report, judged, lambda i: workspace.file(catalog.get(i).path)
    )
    for exercise_id in changed:
        path = catalog.get(exercise_id).path
        err.print(
            Text(
                f"note: {path} changed during the run, so this result was not recorded; "
                f"run `mllab check {exercise_id}` again",
                style="yellow",
            ),
            soft_wrap=True,
        )
    try:
        progress.save()
    except OSError as exc:
        # A read-only workspace still gets its report; only the progress is not kept.
        err.print(
            Text(f"note: {unsaved(progress, exc)}", style="yellow"),
            soft_wrap=True,
        )


def check_output(target: Path, workspace: Workspace, catalog: Catalog) -> None:
    """Refuse an --output the report cannot be written to, or that is one of the learner's own
    files, before a run that may take minutes rather than after it."""
    if target.is_dir():
        raise UsageError(f"--output {target}: is a folder; name a file to write the report to")
    if not target.parent.is_dir():
        raise UsageError(f"--output {target}: there is no folder {target.parent}")
    learner = {
        workspace.file(relative).resolve()
        for exercise in catalog.exercises
        for relative in (exercise.path, exercise.lesson)
    }
    if target.resolve() in learner:
        raise UsageError(f"--output {target}: that is one of your exercise files; name another")


def emit(report: Report, args: argparse.Namespace, out: Console) -> None:
    if args.format == "text" and not args.output and out.is_terminal:
        render_summary(out, report)
        return
    text = formats.FORMATS[args.format](report)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report to {args.output}: {exc.strerror}") from None
    else:
        out.file.write(text if text.endswith("\n") else text + "\n")
        out.file.flush()


def failed_report(ids: list[str], catalog: Catalog, reason: str) -> Report:
    """Every run has a report: when the grader itself fails, each exercise gets an error."""
    exercises = tuple(
        ExerciseResult(
            id=i,
            title=catalog.get(i).title,
            checks=(
                CheckResult(
                    name="grader",
                    outcome="error",
                    points=0.0,
                    max_points=catalog.get(i).points,
                    device=None,
                    message=reason,
                ),
            ),
        )  # fmt: skip
        for i in ids
    )
    return Report(exercises=exercises, errors=(reason,))
