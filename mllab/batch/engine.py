"""Grades submissions in parallel: each is staged, then graded by its own grader process.

Threads only wait here: every submission runs in a grader subprocess (and its sandboxed worker),
so one submission's crash, hang or attack cannot reach the others or this process.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllab.batch.records import ERROR, GRADED, Record
from mllab.batch.submissions import BadSubmission, Entry, stage
from mllab.paths import CourseDirs
from mllab.runner import GraderFailed, GraderRun, RunRequest
from mllab.warm import WarmGrader

SETTINGS_SCHEMA = "mllab-batch/1"


@dataclass(frozen=True)
class Settings:
    """How a class is graded; the same for every submission of a batch."""

    exercises: tuple[str, ...]
    paths: tuple[str, ...]  # the learner files of those exercises, from the catalog
    seed: int | None = None
    device: str = "cpu"
    timeout: float | None = None
    isolation: str = "process"
    max_time: float = 1800.0

    def describe(self) -> dict[str, Any]:
        """What must match for two runs to share a gradebook (the seed only as a digest)."""
        seed = "public"
        if self.seed not in (None, 0):
            seed = "secret:" + hashlib.sha256(f"mllab:{self.seed}".encode()).hexdigest()[:16]
        return {
            "schema": SETTINGS_SCHEMA,
            "exercises": list(self.exercises),
            "seed": seed,
            "device": self.device,
        }


def _parse_notes(folder: Path, paths: Sequence[str]) -> list[str]:
    notes = []
    for relative in paths:
        path = folder / relative
        if not path.is_file():
            continue
        try:  # compiling runs nothing; it only finds what the grader would fail to import
            compile(path.read_bytes(), relative, "exec", dont_inherit=True)
        except SyntaxError as exc:
            notes.append(f"{relative} does not parse (line {exc.lineno}: {exc.msg})")
        except (ValueError, MemoryError, RecursionError) as exc:
            notes.append(f"{relative} does not parse ({type(exc).__name__})")
    return notes


class Batch:
    """Grades entries with `jobs` grader processes at a time; `cancel()` stops them all."""

    def __init__(
        self, settings: Settings, dirs: CourseDirs, warm: WarmGrader | None = None
    ) -> None:
        self.settings = settings
        self.dirs = dirs
        self.warm = warm
        self.active: set[GraderRun] = set()
        self.lock = threading.Lock()
        self.stopped = False

    def grade_one(self, entry: Entry) -> Record:
        staging = Path(tempfile.mkdtemp(prefix="mllab-grade-"))
        try:
            try:
                notes, ignored = stage(entry, list(self.settings.paths), staging)
            except BadSubmission as exc:
                return Record(entry.student, ERROR, str(exc))
            notes += _parse_notes(staging, self.settings.paths)
            return self._run(
                entry,
                staging,
                Record(entry.student, GRADED, "", tuple(notes), ignored=tuple(ignored)),
            )
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
            return Record(entry.student, ERROR, f"mllab could not grade it: {exc!r}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _run(self, entry: Entry, staging: Path, staged: Record) -> Record:
        s = self.settings
        request = RunRequest(
            workspace=staging,
            exercises=s.exercises,
            device=s.device,
            seed=s.seed,
            timeout=s.timeout,
            extra_args=(f"--mllab-isolation={s.isolation}",),
        )
        run = GraderRun(request, self.dirs, warm=self.warm)
        timer = threading.Timer(s.max_time, run.cancel)
        timer.daemon = True
        with self.lock:
            if self.stopped:  # the batch was interrupted before this one started
                return dataclasses.replace(staged, status=ERROR, message="interrupted")
            self.active.add(run)
        timer.start()
        try:
            report = run.run()
        except GraderFailed as exc:
            if timer.finished.is_set() and run.cancelled:
                reason = f"grading took longer than {s.max_time:g} s in all and was stopped"
            else:
                reason = (
                    f"grading stopped without a result ({str(exc).splitlines()[0]}); the "
                    "submission may have killed its grader: look at it, or grade it with "
                    "--isolation bwrap"
                )
            return dataclasses.replace(staged, status=ERROR, message=reason)
        finally:
            timer.cancel()
            with self.lock:
                self.active.discard(run)
        return dataclasses.replace(staged, report=report)

    def run(self, entries: Sequence[Entry], jobs: int, done: Callable[[Record], None]) -> None:
        """Grade every entry; `done` gets each record, in this thread, as soon as it is ready."""
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = [pool.submit(self.grade_one, entry) for entry in entries]
            for future in concurrent.futures.as_completed(futures):
                done(future.result())
        except BaseException:
            self.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def cancel(self) -> None:
        with self.lock:
            self.stopped = True
            for run in list(self.active):
                run.cancel()
