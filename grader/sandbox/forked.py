"""The host's side of the zygote: ask it for a worker, and follow that worker like a Popen.

`CONTROL` is the zygote's control socket in a warm grader (grader/warm.py); when it is None,
or the zygote does not answer, the host starts its worker as a new process instead.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
from typing import Any

CONTROL: socket.socket | None = None
ANSWER_TIMEOUT = 30.0  # a fork takes milliseconds; only a machine under heavy load waits


class ForkedProcess:
    """A worker forked for the host: its pid, and its exit code once its keeper reports it."""

    def __init__(self, pid: int, link: socket.socket) -> None:
        self.pid = pid
        self.link = link
        self.returncode: int | None = None
        # The keeper (the worker's parent) died without telling: the learner's code killed it.
        self.lost = False

    def poll(self) -> int | None:
        if self.returncode is None and not self.lost:
            self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code; None when the keeper was killed before it could tell (`lost`)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None and not self.lost:
            remaining = None if end is None else end - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired("worker", timeout or 0)
            self._read(remaining)
        return self.returncode

    def _read(self, timeout: float | None) -> bool:
        if self.link.fileno() == -1:
            self.lost = self.returncode is None
            return False
        ready, _, _ = select.select([self.link], [], [], timeout)
        if not ready:
            return False
        data = self.link.recv(4096)
        if not data:
            self.link.close()
            self.lost = self.returncode is None
            return False
        code = json.loads(data).get("code")
        if isinstance(code, int):
            self.returncode = code
            self.link.close()
        return True

    def close(self) -> None:
        self.link.close()


def fork_worker(
    config: dict[str, Any], scratch: str, env: dict[str, str], output: int, pipes: tuple[int, int]
) -> ForkedProcess | None:
    """A worker forked by the zygote, or None when there is none or it cannot fork."""
    if CONTROL is None:
        return None
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        message = {"config": config, "scratch": scratch, "env": env}
        return ask_to_fork(CONTROL, message, [devnull, output, *pipes])
    finally:
        os.close(devnull)


def ask_to_fork(
    control: socket.socket, message: dict[str, Any], fds: list[int]
) -> ForkedProcess | None:
    """Send one fork request with `fds` and a new link socket (last); None if it is refused."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        socket.send_fds(control, [json.dumps(message).encode()], [*fds, theirs.fileno()])
        ready, _, _ = select.select([mine], [], [], ANSWER_TIMEOUT)
        answer = json.loads(mine.recv(4096) or b"{}") if ready else {}
    except (OSError, ValueError):
        answer = {}
    finally:
        theirs.close()
    pid = answer.get("pid") if isinstance(answer, dict) else None
    if not isinstance(pid, int):
        mine.close()
        return None
    return ForkedProcess(pid, mine)
