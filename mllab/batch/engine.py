"""Grades submissions in parallel: each is staged, then graded by its own grader process.

Threads only wait here: every submission runs in a grader subprocess (and its sandboxed worker),
so one submission's crash, hang or attack cannot reach the others or this process.

Students' files are staged under one folder per batch process, `<tmp>/mllab-grade-<pid>-*`,
holding a lock file the process keeps locked while it lives. `close()` removes it (an interrupt
or SIGTERM reaches it); after a SIGKILL the kernel drops the lock, and the next batch to start
removes every such folder whose lock it can take.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fcntl
import hashlib
import os
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
STAGING_PREFIX = "mllab-grade-"
LOCK_NAME = ".lock"
INTERRUPT_WAIT = 20.0  # seconds an interrupted batch waits for its runs to stop


def sweep_staging(parent: Path | None = None) -> list[Path]:
    """Remove the staging folders of batch processes that are gone; returns what was removed."""
    parent = parent or Path(tempfile.gettempdir())
    removed = []
    for folder in sorted(parent.glob(f"{STAGING_PREFIX}*")):
        lock = folder / LOCK_NAME
        if not folder.is_dir() or folder.is_symlink() or not lock.is_file():
            continue
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process still runs
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


class Staging:
    """This process's staging folder, locked while it lives; `close()` removes it."""

    def __init__(self, parent: Path | None = None) -> None:
        prefix = f"{STAGING_PREFIX}{os.getpid()}-"
        self.folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._fd: int | None = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def new(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.folder))

    def close(self) -> None:
        if self._fd is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            os.close(self._fd)
            self._fd = None


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
    # Not part of `describe`: what workers must not see, and the course every run must match
    # (JSON, grader/sandbox/trusted.py's course_manifest).
    hide: tuple[str, ...] = ()
    course_manifest: str = ""

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
        sweep_staging()
        self.staging = Staging()

    def close(self) -> None:
        """Remove every staged submission (after `run`, or once it was interrupted)."""
        self.staging.close()

    def grade_one(self, entry: Entry) -> Record:
        try:
            staging = self.staging.new()
        except OSError as exc:
            return Record(entry.student, ERROR, f"mllab could not stage it: {exc}")
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
            isolation=s.isolation,
            hide=s.hide,
            extra_args=(f"--mllab-course-manifest={s.course_manifest}",)
            if s.course_manifest
            else (),
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
        if report.errors:
            # The grader's own trouble (a worker that could not start in its sandbox, checks
            # that would not load): an error row, never a 0 for an honest student.
            reason = report.errors[0].strip().splitlines()[0] if report.errors[0].strip() else ""
            return dataclasses.replace(
                staged, status=ERROR, message=f"could not be graded: {reason or 'grader error'}"
            )
        if report.checks and not report.judged:
            # 0 out of 0 is no grade: nothing could run here (--device cuda without CUDA).
            why = report.checks[0].message.strip().splitlines()
            return dataclasses.replace(
                staged, status=ERROR, message=f"no check could run: {why[0] if why else 'not run'}"
            )
        return dataclasses.replace(staged, report=report)

    def run(self, entries: Sequence[Entry], jobs: int, done: Callable[[Record], None]) -> None:
        """Grade every entry; `done` gets each record, in this thread, as soon as it is ready."""
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
        futures = []
        try:
            futures = [pool.submit(self.grade_one, entry) for entry in entries]
            for future in concurrent.futures.as_completed(futures):
                done(future.result())
        except BaseException:
            self.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            # The cancelled runs end at once; wait for them so that nothing is staged after
            # close() removes the staging folder.
            concurrent.futures.wait(futures, timeout=INTERRUPT_WAIT)
            raise
        pool.shutdown(wait=True)

    def cancel(self) -> None:
        with self.lock:
            self.stopped = True
            for run in list(self.active):
                run.cancel()
