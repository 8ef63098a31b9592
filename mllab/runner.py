"""Runs the grader in a subprocess and reads its event stream; never imports torch itself."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.report import Report, ReportError
from grader.sandbox.forked import ForkedProcess
from grader.sandbox.isolation import protect_process
from grader.sandbox.output import clean
from mllab.paths import COURSE_ENV, CourseDirs, course_dirs, grader_dir

if TYPE_CHECKING:
    from mllab.warm import WarmGrader

Event = dict[str, Any]


@dataclass(frozen=True)
class RunRequest:
    """What to grade and how; mirrors `mllab check`'s options."""

    workspace: Path
    exercises: Sequence[str] = ()
    device: str = "all"
    seed: int | None = None
    timeout: float | None = None
    memory_mb: int | None = None
    # process, bwrap, or None: the grader's default, `auto` (bwrap for a secret seed).
    isolation: str | None = None
    # Files and folders the learner's code must not see (output files, other submissions).
    hide: tuple[str, ...] = ()
    # More grader options (--mllab-record, --mllab-course-manifest) for batches and releases.
    extra_args: tuple[str, ...] = ()


class GraderFailed(RuntimeError):
    """The grader process itself failed (not the learner's code); the message says how."""


FALL_BACK = "fall back"


def base_args(dirs: CourseDirs) -> list[str]:
    """pytest's arguments common to every run of this course's checks."""
    args = [str(dirs.checks), "-p", "grader.plugin", "-p", "pytest_timeout"]
    args += ["-q", "--no-header", "-rN"]
    if not (dirs.checks / "pytest.ini").is_file():
        # A course's own checks folder still runs under the grader's pytest settings.
        default_ini = grader_dir() / "checks" / "pytest.ini"
        args += ["-c", str(default_ini), "--rootdir", str(dirs.checks)]
    return args


def grader_env(dirs: CourseDirs) -> dict[str, str]:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    # The grader finds the same course as this process, whatever folder it runs in.
    env[COURSE_ENV] = str(dirs.root)
    return env


class GraderRun:
    """One grader run. `events()` yields its events; `cancel()` stops it at once.

    The grader is a new process (cold), or a fork of a warm grader when one is given and ready.
    """

    def __init__(
        self, request: RunRequest, dirs: CourseDirs | None = None, warm: WarmGrader | None = None
    ) -> None:
        self.request = request
        self.dirs = dirs or course_dirs()
        self.report: Report | None = None
        self.warm = warm
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.cancelled = False

    def command(self, events_fd: int) -> list[str]:
        """The cold grader's command line: a new Python process running pytest."""
        args = [*self.pytest_args(), f"--mllab-events=fd:{events_fd}"]
        return [sys.executable, "-m", "pytest", *args]

    def pytest_args(self) -> list[str]:
        """pytest's arguments for this request, but for the event stream."""
        request = self.request
        args = [*base_args(self.dirs), f"--mllab-workspace={request.workspace}"]
        args.append(f"--mllab-device={request.device}")
        if request.seed is not None:
            args.append(f"--mllab-seed={request.seed}")
        if request.timeout is not None:
            args.append(f"--mllab-timeout={request.timeout}")
        if request.memory_mb is not None:
            args.append(f"--mllab-memory-mb={request.memory_mb}")
        if request.isolation is not None:
            args.append(f"--mllab-isolation={request.isolation}")
        args += [f"--mllab-hide={Path(path).absolute()}" for path in request.hide]
        args += [f"--mllab-exercise={exercise}" for exercise in request.exercises]
        return args + list(request.extra_args)

    def events(self) -> Any:
        """Start the grader and yield each event as a dict, ending with run_finished.

        With a warm grader that is ready, the run is a fork of it; if that fork cannot start or
        ends without a report (and was not cancelled), the run is done again by a cold grader.
        """
        if self.cancelled:  # cancelled before it began: nothing to start
            return
        if self.warm is not None and self.warm.ready:
            outcome = yield from self._stream(warm=True)
            if outcome != FALL_BACK:
                return
        yield from self._stream(warm=False)

    def _stream(self, warm: bool) -> Any:
        # This process reads the event stream: no worker of this user may open its pipe.
        protect_process()
        read_fd, write_fd = os.pipe()
        log = tempfile.TemporaryFile()
        try:
            start = self._start_warm if warm else self._start_cold
            self.process = start(write_fd, log)
            if self.cancelled:  # cancel() came while the process was starting, and found none
                self._kill()
        finally:
            os.close(write_fd)
        if self.process is None:
            os.close(read_fd)
            return FALL_BACK
        finished = False
        try:
            with os.fdopen(read_fd, "rb") as stream:
                for line in stream:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(event, dict):
                        continue
                    if event.get("event") == "run_finished":
                        self.report = _parse_report(event.get("report"))
                        finished = True
                    yield event
        finally:
            # Ctrl-C, or a reader that stops early: the grader (own session) must not outlive us.
            if not finished:
                self._kill()
                # Reap it now: mllab may be about to exit, and the grader must be gone by then.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
        if finished and isinstance(self.process, ForkedProcess):
            # The verdict is in; the warm grader reaps its fork, which only tidies up from here.
            self.process.close()
            return None
        code = self.process.wait()
        if finished or self.cancelled:
            return None
        if warm:
            return FALL_BACK
        log.seek(0)
        tail = clean(log.read()[-3000:].decode("utf-8", "replace"))
        raise GraderFailed(f"the grader stopped without a report (exit code {code})\n{tail}")

    def _start_cold(self, events_fd: int, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command(events_fd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(events_fd,),
            cwd=self.dirs.checks,
            env=grader_env(self.dirs),
            start_new_session=True,
        )

    def _start_warm(self, events_fd: int, log: Any) -> ForkedProcess | None:
        assert self.warm is not None
        return self.warm.launch(self.dirs, self.pytest_args(), events_fd, log.fileno())

    def run(self, on_event: Callable[[Event], None] | None = None) -> Report:
        for event in self.events():
            if on_event is not None:
                on_event(event)
        if self.report is None:
            raise GraderFailed("the run was cancelled")
        return self.report

    def cancel(self) -> None:
        """Kill the grader's process group; its workers die with it."""
        self.cancelled = True
        self._kill()

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _parse_report(data: Any) -> Report:
    try:
        return Report.from_dict(data)
    except ReportError as exc:
        raise GraderFailed(f"the grader sent a malformed report: {exc}") from None
