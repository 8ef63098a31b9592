"""The submission worker: an untrusted child process that imports one learner file and runs calls.

It is started by `grader.sandbox.host` with its limits in a JSON argument. Everything it sends
back is plain data that the host decodes without unpickling, so nothing done here (patching
torch, forging output, exiting early) can change a verdict.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import resource
import signal
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from grader import codec
from grader.sandbox import protocol

MESSAGE_CAP = 4000
REPLY_CAP = protocol.MAX_FRAME  # set from the host's cap in `serve`
WORKER_PID = -1  # set in `serve`


def _die_with_parent(sandboxed: bool = False) -> None:
    # If the grader dies (or is cancelled), a worker stuck in learner code must not live on.
    # In the sandbox the parent is the namespace's init (pid 1), whose death ends everything.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1 and not sandboxed:
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _set_limits(config: dict[str, Any]) -> None:
    mb = 2**20
    # Data, not address space: a CUDA build of torch reserves huge virtual ranges at import.
    resource.setrlimit(resource.RLIMIT_DATA, (config["memory_mb"] * mb, config["memory_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_mb"] * mb, config["file_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The host counted this user's threads (RLIMIT_NPROC counts them all, in every namespace);
    # root ignores the limit, which is why the sandbox runs workers as a user of their own.
    nproc = config.get("nproc")
    if isinstance(nproc, int) and os.getuid() != 0:
        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        if hard != resource.RLIM_INFINITY:
            nproc = min(nproc, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    # A write past the file-size limit should raise "File too large", not kill the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class _Blocker(importlib.abc.MetaPathFinder):
    """Refuses imports of the course's reference solutions and of the grader's trusted parts."""

    def __init__(self, names: list[str], folders: list[str]) -> None:
        self.names = set(names)
        self.folders = [os.path.realpath(folder) + os.sep for folder in folders]

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ImportError(f"{fullname} is not available to submissions")
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            places = [spec.origin or ""] + list(spec.submodule_search_locations or [])
            for place in places:
                real = os.path.realpath(place) + os.sep if place else ""
                if any(real.startswith(folder) for folder in self.folders):
                    raise ImportError(f"{fullname} is not available to submissions")
            return None
        return None


def _text(value: Any, cap: int = MESSAGE_CAP) -> str:
    """str() of a learner object that may raise, recurse or be huge."""
    try:
        text = str(value)
        if not isinstance(text, str):
            raise TypeError
    except BaseException:  # noqa: BLE001 - hostile __str__ must not break reporting
        try:
            text = f"<{type(value).__name__} whose str() failed>"
        except BaseException:  # noqa: BLE001
            text = "<unprintable>"
    if len(text) > cap:
        text = (
            text[: cap // 2]
            + f" ... [{len(text) - cap} characters elided] ... "
            + text[-cap // 2 :]
        )
    return text


def describe(exc: BaseException, learner_file: str) -> dict[str, Any]:
    """A learner-facing account of an exception: its kind, message and frames in their file."""
    name = type(exc).__name__
    message = _text(exc)
    if isinstance(exc, NotImplementedError):
        kind = "not_implemented"
    elif isinstance(exc, SystemExit):
        kind = "system_exit"
    elif isinstance(exc, MemoryError) or "can't allocate memory" in message:
        kind = "memory"
    elif isinstance(exc, RecursionError):
        kind = "recursion"
    else:
        kind = "exception"
    lines: list[str] = []
    try:
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [frame for frame in frames if frame.filename == learner_file]
        lines = traceback.format_list(mine[-8:])
        if isinstance(exc, SyntaxError) and exc.filename == learner_file:
            lines = traceback.format_exception_only(type(exc), exc)[:-1]
    except BaseException:  # noqa: BLE001
        lines = []
    return {
        "kind": kind,
        "type": name[:200],
        "message": message,
        "traceback": "".join(lines)[:8000],
    }


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()  # type: ignore[union-attr]
        except BaseException:  # noqa: BLE001 - learner may have replaced the streams
            pass


def _only_the_worker() -> None:
    """A process the learner's code forked returns here too: it must never speak for the worker
    (its frames would interleave with the worker's), nor take the worker's next request."""
    if os.getpid() != WORKER_PID:
        os._exit(0)


def _send(fd: int, message: dict[str, Any]) -> None:
    _only_the_worker()
    _flush()
    try:
        payload = codec.encode(message)
    except BaseException as exc:  # noqa: BLE001 - a result that cannot be encoded is a failure
        payload = codec.encode(
            {
                "op": "raised",
                "id": message.get("id"),
                "error": {
                    "kind": "unsendable",
                    "type": type(exc).__name__,
                    "message": f"the result could not be sent back: {_text(exc, 500)}",
                    "traceback": "",
                },
            }
        )
    if len(payload) > REPLY_CAP:
        payload = codec.encode(
            {
                "op": "raised",
                "id": message.get("id"),
                "error": {"kind": "too_large", "size": len(payload), "traceback": ""},
            }
        )
    protocol.write_frame(fd, payload)


class _Reporter:
    """The callable a learner's training code gets to show live values: `log(name, value, step)`.

    What it sends is only displayed; every verdict is computed by the grader from returned values.
    """

    def __init__(self, fd: int, call_id: int) -> None:
        self.fd = fd
        self.call_id = call_id

    def __call__(self, name: str, value: float, step: int | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(
                f"log(name, value, step): name must be a str, got {type(name).__name__}"
            )
        value = float(value)  # accepts Python numbers and one-element tensors
        if step is not None:
            step = int(step)
        protocol.write_frame(
            self.fd,
            codec.encode(
                {
                    "op": "report",
                    "id": self.call_id,
                    "name": name[:80],
                    "value": value,
                    "step": step,
                }
            ),
        )


def _load(config: dict[str, Any]) -> types.ModuleType:
    relative = config["file"]
    source = Path(relative).read_bytes()
    stem = Path(relative).stem
    name = (
        stem
        if stem not in sys.modules and stem not in sys.stdlib_module_names
        else f"learner_{stem}"
    )
    module = types.ModuleType(name)
    module.__file__ = os.path.abspath(relative)
    sys.modules[name] = module
    # Compiled under its workspace-relative name: tracebacks and linecache show the learner's path.
    code = compile(source, relative, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


def main() -> None:
    # Started as `python -I -c BOOT PATH grader.sandbox.worker CONFIG` (isolation.python_command).
    serve(json.loads(sys.argv[-1]))


def _boot_report(config: dict[str, Any]) -> dict[str, Any]:
    """Where this worker finds itself, measured before any learner code runs: the host checks
    it (under bwrap: its own PID namespace, its own user, none of the hidden paths visible)."""
    seen = [path for path in config.get("probe", []) if os.path.lexists(path)]
    return {"op": "booted", "pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(),
            "seen": seen[:20]}  # fmt: skip


def serve(config: dict[str, Any]) -> None:
    """Set the limits, import the learner's file and answer calls until the host hangs up.

    Started fresh by `main`, or in a child forked from the zygote (grader/sandbox/zygote.py).
    The learner's file is imported only once the host has checked the boot report and said so.
    """
    global REPLY_CAP, WORKER_PID
    WORKER_PID = os.getpid()
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    REPLY_CAP = int(config.get("reply_bytes", protocol.MAX_FRAME))
    _die_with_parent(sandboxed=config.get("isolation") == "bwrap")
    _set_limits(config)
    import numpy  # noqa: F401 - trusted preload, before any learner code
    import torch

    torch.set_num_threads(max(1, config["threads"]))
    sys.meta_path.insert(0, _Blocker(config["blocked_names"], config["blocked_folders"]))
    _send(fd_out, _boot_report(config))
    frame = protocol.read_frame(fd_in)
    if frame is None or codec.decode(frame).get("op") != "import":
        return
    try:
        module = _load(config)
    except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a learner error too
        _only_the_worker()
        _send(fd_out, {"op": "import_error", "error": describe(exc, config["file"])})
        return
    _only_the_worker()
    _send(fd_out, {"op": "ready"})
    while True:
        frame = protocol.read_frame(fd_in)
        if frame is None:
            return
        request = codec.decode(frame)
        call_id = request["id"]
        function = getattr(module, request["fn"], None)
        if not callable(function):
            _send(fd_out, {"op": "raised", "id": call_id, "error": {"kind": "missing"}})
            continue
        args, kwargs = request["args"], request["kwargs"]
        if isinstance(request.get("reporter"), str):
            kwargs[request["reporter"]] = _Reporter(fd_out, call_id)
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - sys.exit inside a call fails that call only
            _only_the_worker()
            _send(fd_out, {"op": "raised", "id": call_id, "error": describe(exc, config["file"])})
            continue
        _only_the_worker()
        reply = {"op": "result", "id": call_id, "value": value}
        if request.get("return_args"):
            # Lets a check see whether the learner's code modified its inputs in place.
            reply["args"] = args
        _send(fd_out, reply)


if __name__ == "__main__":
    main()
