"""The zygote: imports torch once, then forks a fresh submission worker for each request.

Starting Python and importing torch takes seconds; forking a process that already did takes
milliseconds. The zygote starts the way a worker does (`python -I`, a scrubbed environment) and
imports only what a worker imports, so a forked worker holds nothing a fresh one would not. It
never runs learner code, and never initialises CUDA, which a forked child could not use.

Requests come over a SOCK_SEQPACKET socket (one message each, so several hosts can share it):
JSON `{"config": ..., "scratch": ..., "env": ...}` with five descriptors: the worker's stdin, its
output, the two call pipes, and a `link` socket whose other end the host keeps. For each, the
zygote forks a keeper, which forks the worker and answers on the link `{"pid": N}` (the worker's),
then `{"code": C}` when the worker ends (as `Popen.returncode`). The host closing its end of the
link kills the worker's process group.
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

MAX_MESSAGE = 1 << 16
DESCRIPTORS = 5


class Zygote:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def serve(self) -> None:
        self.control.send(b'{"op": "ready"}')
        while True:
            try:
                ready, _, _ = select.select([self.control.fileno(), self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in ready:
                self._reap()
            if self.control.fileno() in ready and not self._request():
                return

    def _request(self) -> bool:
        """Fork a keeper (which forks the worker) for one request; False when the grader left."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, DESCRIPTORS)
        except OSError:
            return False
        if not message:
            return False
        try:
            if len(fds) != DESCRIPTORS:
                return True
            request = json.loads(message)
            import torch

            if torch.cuda.is_initialized():
                raise RuntimeError("CUDA was initialised in the zygote; it must not fork")
            if os.fork() == 0:
                self._keep(request, fds)
        except Exception as exc:  # noqa: BLE001 - the host falls back to starting a worker itself
            _answer(socket.socket(fileno=os.dup(fds[-1])), {"error": str(exc)})
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def _keep(self, request: dict[str, Any], fds: list[int]) -> None:
        """The keeper: forks the worker, reports its pid and exit code, kills it if the host
        hangs up. A worker that kills its parent kills only its keeper, never the zygote that
        its neighbours' workers come from."""
        code = 1
        try:
            os.setsid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (self.control.fileno(), self.wake_r, self.wake_w):
                os.close(fd)
            link = socket.socket(fileno=fds[-1])
            pid = os.fork()
            if pid == 0:
                link.detach()
                _become_worker(request, fds)
            for fd in fds[:-1]:
                os.close(fd)
            _answer(link, {"pid": pid})
            watch = os.pidfd_open(pid)
            watched = [link.fileno(), watch]
            while True:
                ready, _, _ = select.select(watched, [], [])
                if watch in ready:
                    _, status = os.waitpid(pid, 0)
                    _answer(link, {"code": os.waitstatus_to_exitcode(status)})
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

    def _reap(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 4096):
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return


def _become_worker(request: dict[str, Any], fds: list[int]) -> None:
    code = 1
    try:
        os.setsid()
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


def _answer(link: socket.socket, message: dict[str, Any]) -> None:
    try:
        link.send(json.dumps(message).encode())
    except OSError:
        pass


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
    control = socket.socket(fileno=int(sys.argv[1]))
    from grader.sandbox.worker import _die_with_parent

    _die_with_parent()
    import numpy  # noqa: F401 - what every worker imports, once
    import torch  # noqa: F401

    preload()

    # The imported modules are never freed: keep the collector off them in every child too.
    gc.freeze()
    Zygote(control).serve()


if __name__ == "__main__":
    main()
