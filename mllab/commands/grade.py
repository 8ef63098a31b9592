"""`mllab grade` and `mllab grade-merge`: grade a class into a folder of results and a gradebook."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mllab.batch import records
from mllab.batch.engine import Batch, Settings
from mllab.batch.gradebook import points, publish
from mllab.batch.submissions import Entry, collect
from mllab.catalog import Catalog
from mllab.cli import UsageError
from mllab.files import write_atomic
from mllab.paths import course_dirs
from mllab.warm import WarmGrader

SETTINGS_FILE = "batch.json"
WARM_START_TIMEOUT = 120.0  # seconds; without it ready by then, submissions start cold


def parse_shard(text: str | None) -> tuple[int, int]:
    if text is None:
        return 1, 1
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text}: expected K/N, such as 3/10") from None
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: K must be between 1 and N")
    return index, count


def settings_for(args: argparse.Namespace, catalog: Catalog) -> Settings:
    unknown = [i for i in args.exercise if i not in catalog.ids]
    if unknown:
        raise UsageError(
            f"unknown exercise {unknown[0]!r}; the course has: {', '.join(catalog.ids)}"
        )
    ids = list(dict.fromkeys(args.exercise)) or catalog.ids
    solutions = course_dirs().solutions
    if not solutions.is_dir():
        raise UsageError(
            f"grading needs the reference solutions, and {solutions} is missing "
            "(is this a student release?); run it from the instructors' course"
        )
    if args.isolation == "bwrap":
        from grader.sandbox.isolation import bwrap_problem

        problem = bwrap_problem()
        if problem:
            raise UsageError(f"--isolation bwrap: {problem}")
    return Settings(
        exercises=tuple(ids),
        paths=tuple(catalog.get(i).path for i in ids),
        seed=args.seed,
        device=args.device,
        timeout=args.timeout,
        isolation=args.isolation,
        max_time=args.max_time,
    )


def prepare_out(out: Path, settings: Settings, resume: bool) -> None:
    """Refuse to mix batches: a folder with results is continued only with --resume and the
    same settings."""
    marker = out / SETTINGS_FILE
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if marker.is_file():
        try:
            earlier = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if not resume:
            raise UsageError(
                f"{out} already holds a graded batch; add --resume to continue it, "
                "or choose another --out folder"
            )
        now = settings.describe()
        if earlier != now:
            differ = [k for k in now if not isinstance(earlier, dict) or earlier.get(k) != now[k]]
            raise UsageError(
                f"{out} was graded with another {', '.join(differ) or 'settings file'} than "
                "asked for now; use the same settings, or another --out folder"
            )
    elif out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the folder is not empty and holds no batch; choose a new one"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, json.dumps(settings.describe(), indent=1) + "\n")


def run_grade(args: argparse.Namespace, catalog: Catalog, out: Console, err: Console) -> int:
    settings = settings_for(args, catalog)
    index, count = parse_shard(args.shard)
    entries = collect(args.submissions)[index - 1 :: count]
    folder = Path(args.out)
    prepare_out(folder, settings, args.resume)
    todo = [e for e in entries if not (args.resume and records.load(folder, e.student))]
    if settings.isolation == "process":
        err.print(
            "note: --isolation process: submissions can read files this user can read; "
            "for a class you do not trust, grade with --isolation bwrap (Linux)"
        )
    if settings.seed in (None, 0):
        err.print(
            "note: grading with the public seed; pass --seed SECRET so answers hard-coded "
            "for the public inputs fail"
        )
    skipped = len(entries) - len(todo)
    if skipped:
        err.print(f"resuming: {skipped} of {len(entries)} submissions were already graded")
    jobs = args.jobs or os.cpu_count() or 1
    dirs = course_dirs()
    # One warm grader forks a run per submission: no Python and torch start-up for each one.
    warm = WarmGrader(dirs).start() if len(todo) > 1 else None
    if warm is not None:
        with err.status("starting the grader"):
            warm.wait_ready(WARM_START_TIMEOUT)
    try:
        batch = Batch(settings, dirs, warm)
        grade_all(batch, todo, jobs, folder, err)
    finally:
        if warm is not None:
            warm.close()
    return finish(folder, list(settings.exercises), out)


def grade_all(batch: Batch, todo: list[Entry], jobs: int, folder: Path, err: Console) -> None:
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("grading", total=len(todo))

        def done(record: records.Record) -> None:
            records.save(folder, record)
            bar.advance(task)
            result = (
                record.message
                if record.report is None
                else (f"{points(record.report.score)}/{points(record.report.max_score)}")
            )
            bar.console.print(f"{record.student}: {record.status}, {result}", soft_wrap=True)

        batch.run(todo, jobs, done)


def finish(folder: Path, exercises: list[str], out: Console) -> int:
    graded = records.load_all(folder)
    summary = publish(folder, graded, exercises)
    out.print(summary.rstrip(), soft_wrap=True)
    out.print(f"Results: {folder / 'gradebook.csv'} (and students/, junit.xml, checks.csv)")
    return 0 if all(r.status == records.GRADED for r in graded) else 1


def run_merge(args: argparse.Namespace, out: Console) -> int:
    """Copy the shards' student records into one folder and build its gradebook."""
    shards = [Path(folder) for folder in args.shards]
    settings = []
    for shard in shards:
        try:
            settings.append(json.loads((shard / SETTINGS_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            raise UsageError(f"{shard} is not a folder written by `mllab grade`") from None
    if any(s != settings[0] for s in settings):
        raise UsageError(
            "the shards were graded with different settings (exercises, seed or "
            "device); they cannot share a gradebook"
        )
    target = Path(args.out)
    seen: dict[str, Path] = {}
    for shard in shards:
        for record in records.load_all(shard):
            if record.student in seen and seen[record.student] != shard:
                raise UsageError(
                    f"{record.student} was graded in both {seen[record.student]} "
                    f"and {shard}; each student belongs to one shard"
                )
            seen[record.student] = shard
    target.mkdir(parents=True, exist_ok=True)
    write_atomic(target / SETTINGS_FILE, json.dumps(settings[0], indent=1) + "\n")
    for student, shard in seen.items():
        source = records.student_folder(shard, student)
        destination = records.student_folder(target, student)
        if source.resolve() != destination.resolve():
            shutil.copytree(source, destination, dirs_exist_ok=True)
    return finish(target, settings[0]["exercises"], out)
