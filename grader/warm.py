"""The warm grader: pytest, torch and the checks imported once, a fresh grader forked per run.

`mllab.warm.WarmGrader` starts `python -m grader.warm FD` with one end of a SOCK_SEQPACKET
socket pair. Once it has imported everything (by collecting the checks, as a run would) and its
zygote (grader/sandbox/zygote.py) is ready, it says `{"op": "ready"}`. Each request is one message,
JSON `{"args": [...]}` (pytest's arguments, without the event stream) with three descriptors: the
events pipe, the log file and a `reply` socket. A child forked ahead of time (the standby, in a
new session) takes it, runs `pytest.main` on those arguments and exits, and the next standby is
forked at once; on `reply` it answers `{"pid": N}`, then `{"code": C}`.

Every run starts from the same imported state and nothing of one run reaches the next. A forked
grader may use CUDA: it never forks again (its workers come from the zygote), and this process
never touches CUDA.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import socket
import subprocess
import sys

from grader.sandbox import forked, isolation, zygote
from grader.sandbox.children import Children, answer

MAX_MESSAGE = 1 << 20
DESCRIPTORS = 3
# Environment of the zygote: what a worker gets, before each worker's own settings.
ZYGOTE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


class WarmGrader:
    def __init__(self, control: socket.socket, warmup: list[str]) -> None:
        self.control = control
        self.warmup = warmup
        self.replies: dict[int, socket.socket] = {}
        self.standby: tuple[int, socket.socket] | None = None
        self.zygote: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        """Import what runs need by collecting every check once, and start the zygote."""
        self._start_zygote()
        import pytest

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            pytest.main([*self.warmup, "--collect-only", "-q"])
        zygote.preload()  # references and training checks use torch.optim here too
        assert forked.CONTROL is not None
        ready, _, _ = select.select([forked.CONTROL], [], [], 120)
        if not ready or b"ready" not in forked.CONTROL.recv(64):
            forked.CONTROL = None  # runs start their workers themselves
        # Imported modules live as long as the process: keep the collector off them in every
        # child, where pytest collects garbage several times per run.
        gc.freeze()

    def _start_zygote(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = dict(ZYGOTE_ENV)
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        self.zygote = subprocess.Popen(
            isolation.python_command("grader.sandbox.zygote", str(theirs.fileno())),
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            cwd="/",
            env=env,
        )
        theirs.close()
        forked.CONTROL = mine

    def serve(self) -> None:
        self.children = Children()
        self._new_standby()
        self.control.send(b'{"op": "ready"}')
        while True:
            try:
                ready, _, _ = select.select([self.control.fileno(), self.children.fd], [], [])
            except InterruptedError:
                continue
            if self.children.fd in ready:
                self._reap()
            if self.control.fileno() in ready and not self._request():
                break
        if self.zygote is not None:
            self.zygote.kill()

    def _request(self) -> bool:
        """Hand one run to the standby grader (forked ahead), and fork the next standby."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, DESCRIPTORS)
        except OSError:
            return False
        if not message:
            return False  # the lab has gone
        if len(fds) != DESCRIPTORS:
            for fd in fds:
                os.close(fd)
            return True
        events, log = fds[0], fds[1]
        reply = socket.socket(fileno=fds[2])
        pid = None
        for _ in range(2):  # a standby that has died is replaced once
            if self.standby is None:
                self._new_standby()
            if self.standby is None:
                break
            pid, standby = self.standby
            self.standby = None
            try:
                socket.send_fds(standby, [message], [events, log])
                break
            except OSError:
                pid = None
            finally:
                standby.close()
        os.close(events)
        os.close(log)
        if pid is None:
            answer(reply, {"error": "the warm grader could not fork"})  # the lab runs it cold
            reply.close()
            return True
        self.replies[pid] = reply
        answer(reply, {"pid": pid})
        self._new_standby()  # ready for the next run, while this one goes on
        return True

    def _new_standby(self) -> None:
        """Fork the grader for the next run now, so a request does not wait for the fork."""
        import torch

        if torch.cuda.is_initialized():
            return  # never fork a process that has initialised CUDA
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            # Its own session from the start: cancelling the run kills its process group.
            os.setsid()
            self.children.forget()
            for other in (mine, self.control, *self.replies.values()):
                other.close()
            try:
                message, fds, _, _ = socket.recv_fds(theirs, MAX_MESSAGE, 2)
                args = json.loads(message)["args"] if message and len(fds) == 2 else None
            except (OSError, ValueError, KeyError):
                args = None
            if args is None:
                os._exit(0)  # the warm grader has gone
            theirs.close()
            _run(args, fds[0], fds[1])
        theirs.close()
        self.standby = (pid, mine)

    def _reap(self) -> None:
        for pid, code in self.children.reaped():
            reply = self.replies.pop(pid, None)
            if reply is not None:
                answer(reply, {"code": code})
                reply.close()
            elif self.zygote is not None and pid == self.zygote.pid:
                # A submission may kill its zygote: later runs start their workers themselves.
                self.zygote.returncode = code
                forked.CONTROL = None


def _run(args: list[str], events: int, log: int) -> None:
    """The forked grader: one pytest run, then exit without the parent's cleanup."""
    code = 3
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        import pytest

        code = int(pytest.main([*args, f"--mllab-events=fd:{events}"]))
    except BaseException:  # noqa: BLE001 - the lab sees no report and runs this one cold
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main() -> None:
    # No parent-death signal here: the lab may start this from a thread that ends before it.
    # The lab's end of the control socket closing is what ends the warm grader.
    control = socket.socket(fileno=int(sys.argv[1]))
    warmup = sys.argv[2:]
    isolation.protect_process()  # no worker of the same user may ptrace it or open its fds
    server = WarmGrader(control, warmup)
    try:
        server.prepare()
    except Exception as exc:  # noqa: BLE001 - the lab goes on with cold runs
        answer(control, {"op": "failed", "error": str(exc)})
        return
    server.serve()


if __name__ == "__main__":
    main()
