"""`mllab grade` and `mllab grade-merge`: grade a class into a folder of results and a gradebook."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader.formats import GradescopeOptions
from grader.sandbox.trusted import course_manifest
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
    isolation = isolation_for(args)
    return Settings(
        exercises=tuple(ids),
        paths=tuple(catalog.get(i).path for i in ids),
        seed=args.seed,
        device=args.device,
        timeout=args.timeout,
        isolation=isolation,
        max_time=args.max_time,
        hide=hidden_for(args),
        course_manifest=manifest_of(catalog, ids),
    )


def manifest_of(catalog: Catalog, ids: list[str]) -> str:
    """The checks and solutions as they are before the first submission runs (JSON): every
    grader run compares what it uses with it (grader/sandbox/trusted.py)."""
    dirs = course_dirs()
    chosen = [(i, catalog.get(i).path) for i in ids]
    manifest = course_manifest(dirs.checks, dirs.solutions, chosen)
    return json.dumps(manifest, separators=(",", ":"))


def isolation_for(args: argparse.Namespace) -> str:
    """bwrap unless the instructor chose process: a class is never graded with weaker isolation
    than asked, and never with process isolation without being asked."""
    from grader.sandbox.isolation import bwrap_problem

    isolation = args.isolation or "bwrap"
    problem = bwrap_problem() if isolation == "bwrap" else None
    if problem and args.isolation is None:
        raise UsageError(
            f"mllab grade runs each submission in the bwrap sandbox, and it cannot run here: "
            f"{problem}. To grade anyway with process isolation (a submission can then read "
            "the solutions and the seed, and write what this user can write), pass "
            "--isolation process; see docs/instructors.md"
        )
    if problem:
        raise UsageError(f"--isolation bwrap: {problem}")
    return isolation


def hidden_for(args: argparse.Namespace) -> tuple[str, ...]:
    """What no submission may see besides the course: the results, and the class's folders."""
    folders = {str(Path(args.out).absolute())}
    folders |= {str(Path(s).absolute().parent) for s in args.submissions}
    return tuple(sorted(folders))


def batch_info(
    settings: Settings,
    shard: tuple[int, int],
    students: list[str],
    everyone: list[str],
    options: GradescopeOptions | None = None,
) -> dict:
    """What OUT/batch.json holds: the settings that must match to share a gradebook (isolation
    too, and what students' results.json show: a resume or a merge must not show one student
    the expected values that another's hide), which shard of which class (`everyone`, all
    shards' students) this folder grades, and its students."""
    options = options or GradescopeOptions()
    return {
        **settings.describe(),
        "isolation": settings.isolation,
        "visibility": options.visibility,
        "hide_expected": not options.show_expected,
        "shard": list(shard),
        "class": hashlib.sha256("\n".join(sorted(everyone)).encode()).hexdigest()[:16],
        "students": students,
    }


# What batch.json says of one shard alone; every other key is a setting all shards must share.
PER_SHARD = ("shard", "class", "students", "merged", "shards", "partial")


# How the messages name a setting whose key does not read as one.
_LABELS = {"hide_expected": "--hide-expected choice"}
_DEFAULTS = {
    "visibility": GradescopeOptions().visibility,
    "hide_expected": not GradescopeOptions().show_expected,
}


def _differences(earlier: Any, now: dict, also: tuple[str, ...] = ()) -> list[str]:
    """The settings (and `also`) in which two batch.json files differ."""
    if not isinstance(earlier, dict):
        return ["settings file"]
    # A batch.json written before these settings were kept was graded with their defaults.
    earlier = {**_DEFAULTS, **earlier}
    keys = [k for k in dict.fromkeys([*now, *earlier]) if k not in PER_SHARD] + list(also)
    return [_LABELS.get(k, k) for k in keys if earlier.get(k) != now.get(k)]


def read_batch(folder: Path) -> dict | None:
    """A folder's batch.json, or None when it has none (or one that cannot be read)."""
    try:
        data = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def prepare_out(out: Path, info: dict, resume: bool) -> None:
    """Refuse to mix batches: a folder with results is continued only with --resume, the same
    settings (isolation included) and the same shard."""
    marker = out / SETTINGS_FILE
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    if marker.is_file():
        earlier = read_batch(out)
        if not resume:
            raise UsageError(
                f"{out} already holds a graded batch; add --resume to continue it, "
                "or choose another --out folder"
            )
        differ = _differences(earlier, info, ("shard",))
        if earlier is not None and earlier.get("merged"):
            differ = ["kind of folder (it holds a merged class, not a batch to resume)"]
        if differ:
            raise UsageError(
                f"{out} was graded with another {', '.join(differ)} than "
                "asked for now; use the same settings, or another --out folder"
            )
    elif out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out}: the folder is not empty and holds no batch; choose a new one"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, json.dumps(info, indent=1) + "\n")


def run_grade(args: argparse.Namespace, catalog: Catalog, out: Console, err: Console) -> int:
    settings = settings_for(args, catalog)
    index, count = parse_shard(args.shard)
    everyone = collect(args.submissions)
    entries = everyone[index - 1 :: count]
    folder = Path(args.out)
    students = [e.student for e in entries]
    options = gradescope_options(args)
    info = batch_info(settings, (index, count), students, [e.student for e in everyone], options)
    prepare_out(folder, info, args.resume)
    todo = [e for e in entries if not (args.resume and _graded(folder, e.student))]
    if settings.isolation == "process":
        err.print(
            "note: --isolation process: submissions run as this user, without a sandbox: they "
            "can read the solutions and the seed and write what this user can write; grade a "
            "class you do not trust with the default, bwrap"
        )
    if settings.seed in (None, 0):
        err.print(
            "note: grading with the public seed; pass --seed SECRET so answers hard-coded "
            "for the public inputs fail"
        )
    skipped = len(entries) - len(todo)
    if skipped:
        err.print(f"resuming: {skipped} of {len(entries)} submissions were already graded")
    _note_left_out(folder, students, err)
    jobs = args.jobs or os.cpu_count() or 1
    dirs = course_dirs()
    # One warm grader forks a run per submission: no Python and torch start-up for each one.
    warm = WarmGrader(dirs).start() if len(todo) > 1 else None
    if warm is not None:
        with err.status("starting the grader"):
            warm.wait_ready(WARM_START_TIMEOUT)
    try:
        with _terminate_as_interrupt():
            batch = Batch(settings, dirs, warm)
            try:
                grade_all(batch, todo, jobs, folder, err, options)
            finally:
                batch.close()
    finally:
        if warm is not None:
            warm.close()
    return finish(folder, list(settings.exercises), out, students)


def _graded(folder: Path, student: str) -> bool:
    """Whether --resume may skip a student: graded already. An error row is graded again, so
    that a submission fixed since (a duplicate removed, a broken zip replaced) gets its grade."""
    record = records.load(folder, student)
    return record is not None and record.status == records.GRADED


def _note_left_out(folder: Path, students: list[str], err: Console) -> None:
    """Say which earlier records of OUT belong to no submission of this run: the gradebook, like
    that of a run on a new folder, leaves them out (their files stay in students/)."""
    wanted = set(students)
    gone = [record.student for record in records.load_all(folder) if record.student not in wanted]
    if gone:
        shown = ", ".join(gone[:10]) + (" ..." if len(gone) > 10 else "")
        err.print(
            f"note: {len(gone)} student(s) graded earlier in {folder} are not among the "
            f"submissions now and are left out of the gradebook: {shown}",
            soft_wrap=True,
        )


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler cancelling the job) stops grading as Ctrl-C does, so that the runs
    are stopped and the staged submissions removed before mllab exits."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def gradescope_options(args: argparse.Namespace) -> GradescopeOptions:
    """What the students' results.json let them see (--visibility, --hide-expected)."""
    visibility = getattr(args, "visibility", None) or "visible"
    return GradescopeOptions(visibility, show_expected=not getattr(args, "hide_expected", False))


def grade_all(
    batch: Batch,
    todo: list[Entry],
    jobs: int,
    folder: Path,
    err: Console,
    options: GradescopeOptions | None = None,
) -> None:
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("grading", total=len(todo))

        def done(record: records.Record) -> None:
            records.save(folder, record, options)
            bar.advance(task)
            result = (
                record.message
                if record.report is None
                else (f"{points(record.report.score)}/{points(record.report.max_score)}")
            )
            bar.console.print(f"{record.student}: {record.status}, {result}", soft_wrap=True)

        batch.run(todo, jobs, done)


def finish(
    folder: Path, exercises: list[str], out: Console, students: list[str] | None = None
) -> int:
    """Build the class files from the records of `students` (default: every record in folder);
    the exit status: 0 when each of them was graded, 1 when some are error rows."""
    graded = records.load_all(folder)
    if students is not None:
        wanted = set(students)
        graded = [record for record in graded if record.student in wanted]
    summary = publish(folder, graded, exercises)
    out.print(summary.rstrip(), soft_wrap=True)
    out.print(f"Results: {folder / 'gradebook.csv'} (and students/, junit.xml, checks.csv)")
    return 0 if all(r.status == records.GRADED for r in graded) else 1


def run_merge(args: argparse.Namespace, out: Console, err: Console | None = None) -> int:
    """Copy the shards' student records into one folder and build its gradebook.

    Refuses shards graded with other settings or of another class, a target holding another
    batch, and (unless --partial) a class with shards or students missing.
    """
    err = err or Console(stderr=True, markup=False, highlight=False)
    shards = [Path(folder) for folder in args.shards]
    infos = []
    for shard in shards:
        info = read_batch(shard)
        if info is None:
            raise UsageError(f"{shard} is not a folder written by `mllab grade`")
        if info.get("merged"):
            raise UsageError(f"{shard} holds a merged class, not a shard; merge the shards")
        infos.append(info)
    first = infos[0]
    for shard, info in zip(shards, infos, strict=True):
        differ = _differences(info, first)
        if differ:
            raise UsageError(
                f"{shard} was graded with another {', '.join(differ)} than {shards[0]}; "
                "shards graded with different settings cannot share a gradebook"
            )
        if info.get("class") != first.get("class") or _shard(info)[1] != _shard(first)[1]:
            raise UsageError(
                f"{shard} and {shards[0]} graded different classes (another list of "
                "submissions, or another number of shards); every shard must get the same list"
            )
    target = Path(args.out)
    _prepare_merge(target, first, shards)
    seen: dict[str, Path] = {}
    for shard, info in zip(shards, infos, strict=True):
        # Only the shard's own students: a record left from an earlier list of submissions
        # (a --resume after the list changed) is in no gradebook.
        own = {str(s) for s in info["students"]} if "students" in info else None
        for record in records.load_all(shard):
            if own is not None and record.student not in own:
                continue
            if record.student in seen and seen[record.student] != shard:
                raise UsageError(
                    f"{record.student} was graded in both {seen[record.student]} "
                    f"and {shard}; each student belongs to one shard"
                )
            seen[record.student] = shard
    gaps = _missing(shards, infos, seen)
    if gaps and not args.partial:
        raise UsageError(
            "the class is incomplete: " + "; ".join(gaps) + ". Grade what is missing (the same "
            "command with --resume), or pass --partial to merge a partial class"
        )
    for gap in gaps:
        err.print(f"note: --partial: {gap}", soft_wrap=True)
    target.mkdir(parents=True, exist_ok=True)
    merged = {key: value for key, value in first.items() if key not in PER_SHARD}
    merged["class"] = first.get("class")
    merged.update(merged=True, shards=[_shard(i) for i in infos], partial=bool(gaps))
    write_atomic(target / SETTINGS_FILE, json.dumps(merged, indent=1) + "\n")
    for student, shard in seen.items():
        source = records.student_folder(shard, student)
        destination = records.student_folder(target, student)
        if source.resolve() != destination.resolve():
            shutil.copytree(source, destination, dirs_exist_ok=True)
    return finish(target, first["exercises"], out)


def _shard(info: dict) -> list[int]:
    shard = info.get("shard")
    return [int(shard[0]), int(shard[1])] if isinstance(shard, list) and len(shard) == 2 else [1, 1]


def _prepare_merge(target: Path, first: dict, shards: list[Path]) -> None:
    """The merge target is new, empty, or an earlier merge of this class, which is rebuilt."""
    if any(target.resolve() == shard.resolve() for shard in shards):
        raise UsageError(f"--out {target} is one of the shards; merge into a new folder")
    earlier = read_batch(target)
    if earlier is not None:
        if not earlier.get("merged"):
            raise UsageError(
                f"--out {target} holds a graded batch; merge into a new folder, never into a batch"
            )
        if _differences(earlier, first) or earlier.get("class") != first.get("class"):
            raise UsageError(
                f"--out {target} holds a merge of another class or with other settings; "
                "choose a new folder"
            )
        shutil.rmtree(target / "students", ignore_errors=True)
    elif target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"--out {target}: the folder is not empty and holds no batch")


def _missing(shards: list[Path], infos: list[dict], seen: dict[str, Path]) -> list[str]:
    """What a merge of these shards lacks: whole shards, and students a shard has not graded."""
    count = _shard(infos[0])[1]
    present = {_shard(info)[0] for info in infos}
    gaps = []
    absent = [str(k) for k in range(1, count + 1) if k not in present]
    if absent:
        gaps.append(f"shard{'s' if len(absent) > 1 else ''} {', '.join(absent)} of {count} missing")
    for shard, info in zip(shards, infos, strict=True):
        wanted = [str(s) for s in info.get("students", [])]
        lacking = [s for s in wanted if seen.get(s) != shard]
        if lacking:
            shown = ", ".join(lacking[:10]) + (" ..." if len(lacking) > 10 else "")
            gaps.append(
                f"shard {_shard(info)[0]}/{count} ({shard}) has not graded {len(lacking)} of its "
                f"students: {shown}"
            )
    return gaps
