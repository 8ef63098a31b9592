"""The trusted side of the sandbox: starts a submission worker, sends calls, enforces limits.

The worker runs in its own session and process group, with stdin from /dev/null, a scrubbed
environment and a scratch folder holding only the learner's file; under `bwrap` it also runs in
namespaces of its own as an unprivileged user (grader/sandbox/isolation.py), and the host checks
where it booted before letting it import the learner's file. Deadlines are enforced here, by
SIGKILL of the whole group (under bwrap: of the namespace's init, which takes every process in it
along), so nothing inside the worker can swallow them. A reply larger than `Limits.reply_mb` is
refused as soon as its length is announced; it never reaches the grader's memory.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from grader import codec
from grader.errors import CallTimedOut, SubmissionError
from grader.sandbox import forked, isolation, protocol
from grader.sandbox.output import CappedOutput, clean, clean_line

BLOCKED_NAMES = ["mllab", "grader", "solutions", "exercises", "tests"]
MiB = 2**20
MAX_STEP = 2**53  # steps beyond this are no longer exact floats


class WorkerStartError(RuntimeError):
    """The worker could not be started, or not as isolated as asked: the grader's problem, never
    the learner's; the run reports it as an error, and batch grading as an error row."""


@dataclass(frozen=True)
class Limits:
    """What one worker may use. Times in seconds, sizes in MiB."""

    call_timeout: float = 10.0
    boot_timeout: float = 120.0
    memory_mb: int = 4096
    file_mb: int = 64
    processes: int = 256
    threads: int = 1
    output_cap: int = 16_384
    # Folders and files a worker must neither import from nor (under bwrap) see: the course's
    # solutions and checks, the workspace, output files, the mllab and grader packages.
    hidden: tuple[str, ...] = field(default_factory=tuple)
    # Files whose absence the worker reports at boot: under bwrap, the proof that `hidden` holds.
    probe: tuple[str, ...] = field(default_factory=tuple)
    # Folders the worker's import blocker refuses to import from (solutions, checks), in every
    # isolation; `hidden` is for the sandbox's mounts, and may hold the learner's own venv.
    blocked: tuple[str, ...] = field(default_factory=tuple)
    isolation: str = "process"  # or "bwrap": see grader/sandbox/isolation.py
    disk_mb: int = 256  # the scratch folder's size under bwrap
    # The largest reply the grader accepts, far below `memory_mb`: a reply costs the grader its
    # size about twice (the message, then the values built from it) while a check holds it.
    reply_mb: int = 256


def _widen(fd: int) -> None:
    # A 1 MiB pipe lets a flood of learner output drain in few reads.
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Reporter:
    """Receives the live values a learner's code reports through its `log` argument.

    At most `cap` values per call are passed on, so a flood of reports cannot flood the app.
    """

    def __init__(
        self,
        receive: Callable[[str, float, int | None], None],
        argument: str = "log",
        cap: int = 5000,
    ) -> None:
        self.receive = receive
        self.argument = argument
        self.cap = cap
        self.count = 0

    def take(self, message: dict[str, Any]) -> None:
        name, value, step = message.get("name"), message.get("value"), message.get("step")
        if not isinstance(name, str) or type(value) is not float:
            return
        if step is not None and (type(step) is not int or abs(step) > MAX_STEP):
            return  # a step no plot can place (10**400 is no float)
        self.count += 1
        if self.count <= self.cap:
            self.receive(clean_line(name, 80) or "value", value, step)


class Worker:
    """One running submission worker for one learner file."""

    def __init__(
        self, source: Path, relative: str, limits: Limits, content: bytes | None = None
    ) -> None:
        self.source = source
        self.relative = relative
        self.limits = limits
        # The bytes to run, read before any learner code ran (else read from `source` at start).
        self.content = content
        self.output = CappedOutput(limits.output_cap)
        self.process: subprocess.Popen[bytes] | forked.ForkedProcess | None = None
        self.scratch: str | None = None
        self.frames = protocol.FrameReader(limits.reply_mb * MiB)
        self.next_id = 0
        self.dead_reason: str | None = None
        self.uid: int | None = None  # the worker's own user, under bwrap as root
        self.sandbox: int | None = None  # a pidfd of the sandbox's init, under bwrap

    # ----------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Boot the worker and import the learner's file; SubmissionError if that fails.

        WorkerStartError when the worker cannot start, or (under bwrap) when it did not boot in
        the sandbox it was given.
        """
        self.scratch = tempfile.mkdtemp(prefix="mllab-worker-")
        target = Path(self.scratch, self.relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = self.content if self.content is not None else self.source.read_bytes()
        target.write_bytes(content)
        target.chmod(0o644)  # readable by a sandboxed worker's own user
        Path(self.scratch, "tmp").mkdir()
        self.process = None
        if self.limits.isolation == "process":
            # In a warm grader, a fork of the zygote: the same start, without importing torch.
            self._spawn(self._fork)
        if self.process is None:
            # Fresh pipes: a zygote that answered late must not share them with this worker.
            self._spawn(self._popen)
        self.out_open = True
        booted = self._receive(time.monotonic() + self.limits.boot_timeout, phase="starting")
        self._check_boot(booted)
        try:
            assert self.to_worker is not None
            protocol.write_frame(self.to_worker, codec.encode({"op": "import"}))
        except OSError:
            self._died("import")
        message = self._receive(time.monotonic() + self.limits.call_timeout, phase="import")
        if message.get("op") == "import_error":
            self.close()
            raise SubmissionError(self._import_message(message.get("error")))
        if message.get("op") != "ready":
            self._fail_protocol("import")

    def _check_boot(self, booted: dict[str, Any]) -> None:
        """Before any learner code runs, the worker's own account of where it is must match the
        isolation asked for; otherwise nothing of the learner's is run at all."""
        if booted.get("op") != "booted":
            self._fail_protocol("starting")
        if self.limits.isolation != "bwrap":
            return
        problems = []
        if booted.get("pid") != 2 or booted.get("ppid") != 1:
            problems.append("it is not alone in a PID namespace of its own")
        if self.uid is not None and booted.get("uid") != self.uid:
            problems.append(f"it runs as user {booted.get('uid')}, not {self.uid}")
        seen = booted.get("seen")
        if seen:
            shown = ", ".join(str(path) for path in list(seen)[:3])
            problems.append(f"it can see what must be hidden ({shown})")
        if problems:
            self._stop("the sandbox is not in effect")
            raise WorkerStartError(
                "the submission worker did not start in its sandbox: " + "; ".join(problems)
            )

    def _spawn(self, start: Callable[..., Any]) -> None:
        """Make the worker's pipes and start it with `start(config, output, pipes)`."""
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        _widen(out_r)
        sandboxed = self.limits.isolation == "bwrap"
        self.uid = isolation.sandbox_uid() if sandboxed else None
        config = {
            "file": self.relative,
            "fd_in": to_worker_r,
            "fd_out": from_worker_w,
            "isolation": self.limits.isolation,
            "memory_mb": self.limits.memory_mb,
            "file_mb": self.limits.file_mb,
            "nproc": self._process_limit(),
            "threads": self.limits.threads,
            "reply_bytes": self.limits.reply_mb * MiB,
            "blocked_names": BLOCKED_NAMES,
            "blocked_folders": list(self.limits.blocked),
            "probe": list(self.limits.probe) if sandboxed else [],
        }
        try:
            self.process = start(config, out_w, (to_worker_r, from_worker_w))
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        if self.process is None:
            for fd in (to_worker_w, from_worker_r, out_r):
                os.close(fd)
            return
        self.to_worker, self.from_worker, self.out_fd = to_worker_w, from_worker_r, out_r

    def _fork(
        self, config: dict[str, Any], output: int, pipes: tuple[int, int]
    ) -> forked.ForkedProcess | None:
        assert self.scratch is not None
        return forked.fork_worker(config, self.scratch, self._environment(), output, pipes)

    def _process_limit(self) -> int | None:
        """RLIMIT_NPROC for the worker: its headroom, on top of what its user already runs."""
        if self.uid is not None:
            return self.limits.processes  # a user of its own: it runs nothing yet
        uid = os.getuid()
        if uid == 0:
            return None  # root ignores the limit; only the sandbox bounds processes then
        return isolation.user_threads(uid) + self.limits.processes

    def _popen(
        self, config: dict[str, Any], output: int, pipes: tuple[int, int]
    ) -> subprocess.Popen[bytes]:
        assert self.scratch is not None
        path = isolation.import_path(self.limits.hidden)
        command = isolation.python_command("grader.sandbox.worker", json.dumps(config), path=path)

        def start(command: list[str], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=fds,
                cwd=self.scratch,
                env=self._environment(),
                start_new_session=True,
                close_fds=True,
            )

        if self.limits.isolation != "bwrap":
            return start(command, pipes)
        info_r, info_w = os.pipe()
        try:
            command = isolation.bwrap_command(
                command, self.scratch, self.relative, self.limits.hidden, self.limits.disk_mb,
                path=path, uid=self.uid, info_fd=info_w,
            )  # fmt: skip
            process = start(command, (*pipes, info_w))
            os.close(info_w)
            info_w = -1
            init = isolation.read_info(info_r, time.monotonic() + self.limits.boot_timeout)
            self.sandbox = _pidfd_of_child(init, process.pid) if init is not None else None
        finally:
            os.close(info_r)
            if info_w != -1:
                os.close(info_w)
        return process

    def _environment(self) -> dict[str, str]:
        assert self.scratch is not None
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.scratch,
            "TMPDIR": str(Path(self.scratch, "tmp")),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "0",
            "OMP_NUM_THREADS": str(self.limits.threads),
            "MKL_NUM_THREADS": str(self.limits.threads),
            "OPENBLAS_NUM_THREADS": str(self.limits.threads),
        }
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        return env

    @property
    def alive(self) -> bool:
        return self.process is not None and self.dead_reason is None

    def close(self) -> None:
        """Kill the worker (under bwrap: its whole namespace) and remove its scratch folder."""
        if self.process is not None:
            self._kill()
            if isinstance(self.process, forked.ForkedProcess):
                self.process.close()
            self.process = None
        if self.sandbox is not None:
            os.close(self.sandbox)
            self.sandbox = None
        for name in ("to_worker", "from_worker", "out_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def _kill(self) -> None:
        assert self.process is not None
        if self.sandbox is not None:
            # The init of the worker's PID namespace: the kernel kills every process in it,
            # whatever session, process group or parent-death signal they gave themselves.
            try:
                signal.pidfd_send_signal(self.sandbox, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    # ----------------------------------------------------------------------------------- calls

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Run `function(*args, **kwargs)` in the worker and return its decoded result."""
        return self.call_full(function, args, kwargs)["value"]

    def call_full(
        self,
        function: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        return_args: bool = False,
        *,
        reporter: Reporter | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Like `call`, but returns the reply: "value", and "args" after the call if asked.

        With `reporter`, the learner's function gets a keyword argument `reporter.argument`: a
        callable `log(name, value, step=None)` whose values reach `reporter.receive` while the
        call runs. `timeout` replaces the limit for one call (for whole training runs).
        """
        if not self.alive:
            raise SubmissionError(self.dead_reason or "the submission worker is not running")
        self.next_id += 1
        request = codec.encode(
            {
                "op": "call",
                "id": self.next_id,
                "fn": function,
                "args": list(args),
                "kwargs": kwargs,
                "return_args": return_args,
                "reporter": reporter.argument if reporter else None,
            }
        )
        try:
            assert self.to_worker is not None
            protocol.write_frame(self.to_worker, request)
        except OSError:
            self._died(f"calling {function}")
        limit = self.limits.call_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            reply = self._receive(deadline, phase=function, limit=limit)
            if reply.get("op") != "report":
                break
            # A `log` kept from an earlier call may still report; only this call's count.
            if reporter is not None and reply.get("id") == self.next_id:
                reporter.take(reply)
        if reply.get("id") != self.next_id:
            self._fail_protocol(function)
        if reply.get("op") == "result" and (not return_args or isinstance(reply.get("args"), list)):
            return reply
        if reply.get("op") == "raised":
            raise SubmissionError(self._raised_message(function, reply.get("error")))
        self._fail_protocol(function)

    def take_output(self) -> str:
        return self.output.take()

    def take_raw_output(self) -> bytes:
        """Uncleaned output, for a caller that caps and cleans it once more (per check)."""
        return self.output.take_raw()

    # ----------------------------------------------------------------------------- receiving

    def _receive(
        self, deadline: float, *, phase: str, limit: float | None = None
    ) -> dict[str, Any]:
        """Wait for the next message, capturing output meanwhile; enforce the deadline."""
        while True:
            frame = self.frames.next_frame()
            if frame is not None:
                try:
                    message = codec.decode(frame)
                except codec.CodecError as exc:
                    self._fail_protocol(phase, str(exc))
                finally:
                    del frame  # the decoded values are copies: the message goes at once
                if not isinstance(message, dict):
                    self._fail_protocol(phase)
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(phase, limit)
            watched = [self.from_worker] + ([self.out_fd] if self.out_open else [])
            ready, _, _ = select.select(watched, [], [], remaining)
            if self.out_open and self.out_fd in ready:
                self._read_output()
            if self.from_worker in ready:
                try:
                    more = self.frames.read_from(self.from_worker)
                except protocol.FrameTooLarge as exc:
                    self._give_up(self._too_large(phase, exc.size))
                except protocol.NotAFrame:
                    self._fail_protocol(phase)
                if not more:
                    self._died(phase)

    def _read_output(self) -> None:
        data = os.read(self.out_fd, 1 << 20)
        if data:
            self.output.write(data)
        else:
            self.out_open = False

    def _drain_output(self, budget: float = 0.2) -> None:
        # Bounded: a daemonised grandchild may hold the pipe open forever.
        end = time.monotonic() + budget
        while self.out_open and time.monotonic() < end:
            ready, _, _ = select.select([self.out_fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            self._read_output()

    # ------------------------------------------------------------------------------ failures

    def _where(self, phase: str) -> str:
        if phase == "starting":
            return "while the worker was starting"
        if phase == "import":
            return f"while importing {self.relative}"
        return f"in {phase}()"

    def _stop(self, reason: str) -> None:
        self.dead_reason = reason
        if self.process is not None:
            self._kill()
        self._drain_output()

    def _give_up(self, reason: str, error: type[SubmissionError] = SubmissionError) -> NoReturn:
        """Stop the worker and fail the current call with `reason`."""
        self._stop(reason)
        raise error(reason)

    def _timed_out(self, phase: str, limit: float | None = None) -> NoReturn:
        if limit is None:
            limit = self.limits.boot_timeout if phase == "starting" else self.limits.call_timeout
        reason = (
            f"timed out after {limit:g} s {self._where(phase)} (the limit for one call); "
            "look for a loop that never ends or work that is far too slow"
        )
        self._give_up(reason, CallTimedOut)

    def _died(self, phase: str) -> NoReturn:
        assert self.process is not None
        try:
            code: int | None = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and self.limits.isolation == "bwrap":
            code = isolation.signal_exit(code)
        where = self._where(phase)
        if phase == "starting":
            # Nothing of the learner's has run yet: this is the grader's own problem.
            self._stop("the worker could not start")
            output = self.take_output().strip()[-2000:]
            raise WorkerStartError(
                f"the submission worker could not start ({self.limits.isolation} isolation, "
                f"exit code {code})" + (f":\n{output}" if output else "")
            )
        if code is None and getattr(self.process, "lost", False):
            reason = (
                f"Your code killed the process that started it {where}; "
                "do not signal processes your code did not start"
            )
        elif code is None:
            reason = f"Your code closed its connection to the grader {where}"
        elif code == -signal.SIGKILL:
            reason = (
                f"Your code was killed (SIGKILL) {where}, most likely for using more than "
                f"{self.limits.memory_mb} MiB of memory"
            )
        elif code == -signal.SIGSEGV:
            reason = f"Your code crashed with signal SIGSEGV (segmentation fault) {where}"
        elif code < 0:
            reason = f"Your code crashed with signal {_signal_name(-code)} {where}"
        else:
            reason = (
                "submission exited the test process before results were reported "
                f"(exit code {code}, {where}); do not call os._exit or exit()"
            )
        self._give_up(reason)

    def _fail_protocol(self, phase: str, detail: str = "") -> NoReturn:
        extra = f": {detail}" if detail else ""
        reason = (
            f"the submission broke the grader's protocol {self._where(phase)}{extra}; "
            "it must not write to file descriptors it did not open"
        )
        self._give_up(reason)

    def _too_large(self, phase: str, size: Any) -> str:
        shown = f"{size / MiB:.0f} MiB" if isinstance(size, int) else "more"
        return (
            f"Your code sent back too much data {self._where(phase)}: {shown}, more than the "
            f"{self.limits.reply_mb} MiB a result may be; return only what the docstring asks for"
        )

    def _import_message(self, error: Any) -> str:
        info = error if isinstance(error, dict) else {}
        kind = info.get("kind")
        if kind == "system_exit":
            head = f"SystemExit raised by submission while importing {self.relative}"
        elif kind == "not_implemented":
            head = f"{self.relative} raised NotImplementedError at import"
        else:
            head = f"{self.relative} could not be imported"
        return _with_details(head, info, self.limits)

    def _raised_message(self, function: str, error: Any) -> str:
        # Everything in `error` came from the worker after learner code ran: only its kind picks
        # a message written here, and its texts are shown indented, as the learner's own.
        info = error if isinstance(error, dict) else {}
        kind = info.get("kind")
        if kind == "not_implemented":
            # Stubs raise NotImplementedError("<id>: implement <name>"): name the function that
            # is missing, which may be one that `function` calls.
            named = re.search(r"implement (\w+)", str(info.get("message", ""))[:MESSAGE_CAP])
            missing = named.group(1)[:100] if named else function
            return (
                f"not implemented yet: {missing}() still raises NotImplementedError; "
                f"write it where its TODO is in {self.relative}"
            )
        if kind == "missing":
            return f"{self.relative} has no function {function!r}"
        if kind == "too_large":
            return self._too_large(function, info.get("size"))
        if kind == "system_exit":
            head = f"SystemExit raised by submission in {function}()"
        elif kind == "unsendable":
            head = f"the result of {function}() could not be sent back to the grader"
        else:
            head = f"{function}() raised an exception"
        return _with_details(head, info, self.limits)


MESSAGE_CAP = 4000


def _learner_lines(text: str) -> list[str]:
    """The learner's text, cleaned and indented: no line of it can pass for the grader's own
    (a forged "Hint:" line, say), and no escape sequence reaches a terminal."""
    return ["  " + line for line in clean(text).splitlines()]


def _with_details(head: str, info: dict[str, Any], limits: Limits) -> str:
    kind = info.get("kind")
    name = clean_line(str(info.get("type", "Exception")), 200) or "Exception"
    message = str(info.get("message", ""))[:MESSAGE_CAP]
    if kind == "memory":
        head += f": memory limit exceeded (limit {limits.memory_mb} MiB)"
    trace = str(info.get("traceback", ""))[: 2 * MESSAGE_CAP]
    lines = [head, ""]
    if trace.strip():
        lines += ["Traceback (your code):", *_learner_lines(trace.rstrip())]
    lines += _learner_lines(f"{name}: {message}" if message else name)
    return "\n".join(lines)


def _pidfd_of_child(pid: int, parent: int) -> int | None:
    """A pidfd of `pid`, provided it is `parent`'s child (so not a reused pid); else None."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        if int(fields["PPid"]) == parent:
            return fd
    except (OSError, KeyError, ValueError):
        pass
    os.close(fd)
    return None
