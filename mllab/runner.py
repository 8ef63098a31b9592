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
from typing import Any

from grader.report import Report, ReportError
from mllab.paths import COURSE_ENV, CourseDirs, course_dirs, grader_dir

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
    # More grader options (--mllab-isolation, --mllab-record) for batch grading and releases.
    extra_args: tuple[str, ...] = ()


class GraderFailed(RuntimeError):
    """The grader process itself failed (not the learner's code); the message says how."""


class GraderRun:
    """One grader subprocess. `events()` yields its events; `cancel()` stops it at once."""

    def __init__(self, request: RunRequest, dirs: CourseDirs | None = None) -> None:
        self.request = request
        self.dirs = dirs or course_dirs()
        self.report: Report | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def command(self, events_fd: int) -> list[str]:
        request = self.request
        command = [
            sys.executable, "-m", "pytest", str(self.dirs.checks),
            "-p", "grader.plugin", "-p", "pytest_timeout",
            "-q", "--no-header", "-rN",
            f"--mllab-workspace={request.workspace}",
            f"--mllab-device={request.device}",
            f"--mllab-events=fd:{events_fd}",
        ]  # fmt: skip
        if request.seed is not None:
            command.append(f"--mllab-seed={request.seed}")
        if request.timeout is not None:
            command.append(f"--mllab-timeout={request.timeout}")
        if request.memory_mb is not None:
            command.append(f"--mllab-memory-mb={request.memory_mb}")
        command += [f"--mllab-exercise={exercise}" for exercise in request.exercises]
        if not (self.dirs.checks / "pytest.ini").is_file():
            # A course's own checks folder still runs under the grader's pytest settings.
            default_ini = grader_dir() / "checks" / "pytest.ini"
            command += ["-c", str(default_ini), "--rootdir", str(self.dirs.checks)]
        return command + list(request.extra_args)

    def events(self) -> Any:
        """Start the grader and yield each event as a dict, ending with run_finished."""
        read_fd, write_fd = os.pipe()
        log = tempfile.TemporaryFile()
        env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTEST_ADDOPTS", None)
        # The grader finds the same course as this process, whatever folder it runs in.
        env[COURSE_ENV] = str(self.dirs.root)
        try:
            self.process = subprocess.Popen(
                self.command(write_fd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                cwd=self.dirs.checks,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
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
        code = self.process.wait()
        if self.cancelled:
            return
        if not finished:
            log.seek(0)
            tail = log.read()[-3000:].decode("utf-8", "replace")
            raise GraderFailed(f"the grader stopped without a report (exit code {code})\n{tail}")

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
