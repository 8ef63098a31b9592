"""The zygote: imports torch once, then forks a fresh submission worker for each request.

Starting Python and importing torch takes seconds; forking a process that already did takes
milliseconds. The zygote starts the way a worker does (`python -I`, a scrubbed environment) and
imports only what a worker imports, so a forked worker holds nothing a fresh one would not. It
never runs learner code, and never initialises CUDA, which a forked child could not use.

Requests come over a SOCK_SEQPACKET socket (one message each, so several hosts can share it):
JSON `{"config": ..., "scratch": ..., "env": ...}` with five descriptors: the worker's stdin, its
output, the two call pipes, and a `link` socket whose other end the host keeps. For each, the
zygote hands it to a keeper forked ahead of time, whose worker (also forked ahead, waiting in its
own session) takes it; the keeper answers on the link `{"pid": N}` (the worker's), then
`{"code": C}` when the worker ends (as `Popen.returncode`), and the zygote forks the next pair.
The host closing its end of the link kills the worker's process group.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import random
import select
import signal
import socket
import sys
import traceback
from typing import Any

from grader.sandbox.children import Children, answer

MAX_MESSAGE = 1 << 16
DESCRIPTORS = 5


class Zygote:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.children = Children()
        self.standby: socket.socket | None = None

    def serve(self) -> None:
        self._new_standby()
        self.control.send(b'{"op": "ready"}')
        while True:
            try:
                ready, _, _ = select.select([self.control.fileno(), self.children.fd], [], [])
            except InterruptedError:
                continue
            if self.children.fd in ready:
                for _ in self.children.reaped():
                    pass  # keepers report their workers' ends themselves
            if self.control.fileno() in ready and not self._request():
                return

    def _request(self) -> bool:
        """Hand one request to the standby keeper, then fork the next; False when the grader
        has gone."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, DESCRIPTORS)
        except OSError:
            return False
        if not message:
            return False
        try:
            if len(fds) != DESCRIPTORS:
                return True
            for _ in range(2):  # a standby that has died is replaced once
                if self.standby is None:
                    self._new_standby()
                standby, self.standby = self.standby, None
                if standby is None:
                    break
                try:
                    socket.send_fds(standby, [message], fds)
                    return True
                except OSError:
                    continue
                finally:
                    standby.close()
            answer(socket.socket(fileno=os.dup(fds[-1])), {"error": "the zygote cannot fork"})
        finally:
            for fd in fds:
                os.close(fd)
            if self.standby is None:
                self._new_standby()  # ready for the next worker, while this one starts
        return True

    def _new_standby(self) -> None:
        """Fork a keeper and its worker ahead of the next request (no fork when it comes)."""
        import torch

        if torch.cuda.is_initialized():
            return  # never fork a process that has initialised CUDA: hosts start workers cold
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            mine.close()
            self._keep(theirs)
        theirs.close()
        self.standby = mine

    def _keep(self, requests: socket.socket) -> None:
        """The keeper: forks the worker, passes it its request, reports the worker's pid and
        exit code, and kills it if the host hangs up. A worker that kills its parent kills only
        its keeper, never the zygote that its neighbours' workers come from."""
        code = 1
        try:
            os.setsid()
            self.children.forget()
            self.control.close()
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            pid = os.fork()
            if pid == 0:
                mine.close()
                requests.close()
                _await_request(theirs)
            theirs.close()
            message, fds, _, _ = socket.recv_fds(requests, MAX_MESSAGE, DESCRIPTORS)
            if not message or len(fds) != DESCRIPTORS:
                return  # the zygote has gone: so does the waiting worker, at end of file
            link = socket.socket(fileno=fds[-1])
            watch = os.pidfd_open(pid)
            # The pid goes out before the worker gets its request: once the learner's code runs,
            # it may kill this keeper, and the host must know its worker by then.
            answer(link, {"pid": pid})
            socket.send_fds(mine, [message], fds[:-1])
            for fd in fds[:-1]:
                os.close(fd)
            watched = [link.fileno(), watch]
            while True:
                ready, _, _ = select.select(watched, [], [])
                if watch in ready:
                    _, status = os.waitpid(pid, 0)
                    answer(link, {"code": os.waitstatus_to_exitcode(status)})
                    code = 0
                    return
                if not link.recv(64):
                    # The host is gone or gave up on this worker: it must not live on.
                    watched = [watch]
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGKILL)
        except BaseException:  # noqa: BLE001 - leave without the zygote's cleanup
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        finally:
            os._exit(code)


def _await_request(keeper: socket.socket) -> None:
    """A standby worker: in its own session at once, it waits for its request from the keeper."""
    os.setsid()
    try:
        message, fds, _, _ = socket.recv_fds(keeper, MAX_MESSAGE, DESCRIPTORS - 1)
        request = json.loads(message) if message and len(fds) == DESCRIPTORS - 1 else None
    except (OSError, ValueError):
        request = None
    if request is None:
        os._exit(0)  # its keeper has gone
    _become_worker(request, fds)


def _become_worker(request: dict[str, Any], fds: list[int]) -> None:
    code = 1
    try:
        stdin, output, to_worker, from_worker = fds[:4]
        # Lift the four above any target number first, so no dup2 below overwrites another.
        high = [
            fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in (stdin, output, to_worker, from_worker)
        ]
        for target, fd in enumerate((high[0], high[1], high[1], high[2], high[3])):
            os.dup2(fd, target)
        # Nothing of the zygote's or the keeper's (control socket, link) stays open.
        os.closerange(5, os.sysconf("SC_OPEN_MAX"))
        os.chdir(request["scratch"])
        os.environ.clear()
        os.environ.update(request["env"])
        # A fresh interpreter would seed these from the system; forked ones would share them.
        random.seed()
        import numpy

        numpy.random.seed()
        from grader.sandbox import worker

        worker.serve(dict(request["config"], fd_in=3, fd_out=4))
        code = 0
    except BaseException:  # noqa: BLE001 - report, then leave without the zygote's cleanup
        with contextlib.suppress(BaseException):
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)


def preload() -> None:
    """Pay once for what a first optimizer step imports: hundreds of torch modules, about 1 s.

    Two numbers on one thread: no thread pool is started, so forking stays safe.
    """
    import torch

    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.Adam([weight])
    weight.sum().backward()
    optimizer.step()


def main() -> None:
    # Started as `python -I -c BOOT PATH grader.sandbox.zygote FD` (isolation.python_command).
    control = socket.socket(fileno=int(sys.argv[-1]))
    from grader.sandbox.isolation import protect_process
    from grader.sandbox.worker import _die_with_parent

    _die_with_parent()
    protect_process()  # its children's workers may not ptrace it, nor open its sockets
    import numpy  # noqa: F401 - what every worker imports, once
    import torch  # noqa: F401

    preload()

    # The imported modules are never freed: keep the collector off them in every child too.
    gc.freeze()
    Zygote(control).serve()


if __name__ == "__main__":
    main()
