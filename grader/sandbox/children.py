"""What the two forking servers (grader/warm.py and grader/sandbox/zygote.py) share: a select
loop woken when a child ends, the reaping that follows, and one-message answers on a socket."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
from collections.abc import Iterator
from typing import Any


class Children:
    """SIGCHLD turned into a readable pipe (`fd`), so a select loop hears of ended children."""

    def __init__(self) -> None:
        self.fd, self._write = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write, False)
        signal.set_wakeup_fd(self._write)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def reaped(self) -> Iterator[tuple[int, int]]:
        """Each child that has ended, as (pid, exit code as `Popen.returncode`)."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self.fd, 4096):
                pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            yield pid, os.waitstatus_to_exitcode(status)

    def forget(self) -> None:
        """In a forked child: stop listening for the parent's children, and close the pipe."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self.fd)
        os.close(self._write)


def answer(link: socket.socket, message: dict[str, Any]) -> None:
    """Send one JSON message; a peer that has gone is not an error here."""
    with contextlib.suppress(OSError):
        link.send(json.dumps(message).encode())
