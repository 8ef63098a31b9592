"""`mllab check`: grade exercises in a workspace and report in the format asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from grader import formats
from grader.report import CheckResult, ExerciseResult, Report
from mllab.catalog import Catalog
from mllab.cli import UsageError
from mllab.progress import Progress, ran_anything
from mllab.runner import GraderFailed, GraderRun, RunRequest
from mllab.summary import LiveLines, render_summary
from mllab.workspace import WorkspaceError, find_workspace


def select(args: argparse.Namespace, catalog: Catalog, progress: Progress | None) -> list[str]:
    unknown = [i for i in args.ids if i not in catalog.ids]
    if unknown:
        raise UsageError(
            f"unknown exercise {unknown[0]!r}; the course has: {', '.join(catalog.ids)} "
            "(see `mllab list`)"
        )
    if args.all:
        return catalog.ids
    if args.ids:
        return list(dict.fromkeys(args.ids))
    # The exercise you are on: the one last opened in the lab, else the first not passed.
    resumed = progress.resume(list(catalog.ids)) if progress else None
    return [resumed or catalog.ids[0]]


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
    ids = select(args, catalog, progress)
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
    status = 0
    try:
        report = GraderRun(request).run(live)
    except GraderFailed as exc:
        err.print(Text(f"mllab: {exc}", style="red"), soft_wrap=True)
        report = failed_report(ids, catalog, str(exc))
        status = 2
    if progress is not None and not status:
        # A run that judged nothing (no CUDA here, a grader that failed) leaves progress alone.
        for exercise in report.exercises:
            if ran_anything([c.outcome for c in exercise.checks]):
                progress.record(exercise.id, exercise.passed, exercise.score, exercise.max_score)
        progress.save()
    emit(report, args, out)
    if status:
        return status
    return 0 if report.all_passed else 1


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
