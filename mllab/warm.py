"""The lab's warm grader: started once, it runs every check run as a fork of a process that has
pytest, torch and the checks imported already (grader/warm.py), so a save gets its verdict in a
fraction of the time a new grader process needs. Never imports torch itself.

Until it is ready, or after it has died, `launch` returns None and runs start cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from grader.sandbox.forked import ForkedProcess, ask_to_fork
from mllab.paths import CourseDirs, course_dirs
from mllab.runner import GraderRun, RunRequest, base_args, grader_env

PREPARING = (
    "Starting the grader for this first run: Python, torch and the checks load once per "
    "session (seconds on a small machine). Later runs reuse a warm grader: a second or two."
)
QUIT_GRACE = 0.05  # seconds the warm grader gets to exit by itself when the lab closes


class WarmGrader:
    """A warm grader process for one course; `close()` ends it (it also ends with this one)."""

    def __init__(self, dirs: CourseDirs | None = None) -> None:
        self.dirs = dirs or course_dirs()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self._ready = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> WarmGrader:
        """Start it in the background; runs go cold until it says it is ready."""
        with self.lock:
            if self.process is not None and self.process.poll() is None:
                return self
            self._ready.clear()
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            command = [sys.executable, "-m", "grader.warm", str(theirs.fileno())]
            try:
                self.process = subprocess.Popen(
                    [*command, *base_args(self.dirs)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),),
                    cwd=self.dirs.checks,
                    env=grader_env(self.dirs),
                    start_new_session=True,
                )
            except OSError:
                mine.close()
                return self
            finally:
                theirs.close()
            self.control = mine
        threading.Thread(target=self._await_ready, args=(mine,), daemon=True).start()
        return self

    def _await_ready(self, control: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            message = json.loads(control.recv(4096) or b"{}")
            if message.get("op") == "ready" and control is self.control:
                self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until it is ready (for tools and benchmarks); False if it is not by then."""
        self._ready.wait(timeout)
        return self.ready

    def launch(
        self, dirs: CourseDirs, args: list[str], events_fd: int, log_fd: int
    ) -> ForkedProcess | None:
        """Start one run as a fork; None when the warm grader cannot take it (run it cold)."""
        control = self.control
        if not self.ready or control is None or dirs.root != self.dirs.root:
            return None
        return ask_to_fork(control, {"args": args}, [events_fd, log_fd])

    def runner(self, request: RunRequest) -> GraderRun:
        """A run for the lab: warm when it can be (a dead warm grader is started again)."""
        self.start()
        return WarmRun(request, self.dirs, warm=self)

    def close(self) -> None:
        """End the warm grader (closing its control socket is what ends it) and its zygote."""
        with self.lock:
            self._ready.clear()
            if self.control is not None:
                self.control.close()
                self.control = None
            if self.process is not None:
                # It holds nothing worth a clean exit (torch's teardown takes seconds): a learner
                # quitting the lab should not wait for it.
                try:
                    self.process.wait(timeout=QUIT_GRACE)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
                self.process = None


class WarmRun(GraderRun):
    """A lab run that says why it is slow while the warm grader is still starting.

    It does not wait for the warm grader: collecting every check and starting the zygote takes
    longer than one exercise's cold run (bench/bench.py, "first verdict after launch": about
    twice as long on two busy cores), so the first run goes cold at once and says so.
    """

    def events(self) -> Any:
        if self.warm is not None and not self.warm.ready:
            yield {"event": "preparing", "text": PREPARING}
        yield from super().events()
