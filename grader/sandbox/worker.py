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


def _die_with_parent() -> None:
    # If the grader dies (or is cancelled), a worker stuck in learner code must not live on.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _set_limits(config: dict[str, Any]) -> None:
    mb = 2**20
    # Data, not address space: a CUDA build of torch reserves huge virtual ranges at import.
    resource.setrlimit(resource.RLIMIT_DATA, (config["memory_mb"] * mb, config["memory_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["file_mb"] * mb, config["file_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _limit_processes(config["processes"])
    # A write past the file-size limit should raise "File too large", not kill the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _user_tasks(uid: int) -> int:
    """Threads the user runs now: RLIMIT_NPROC counts every one of them, not just ours."""
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                continue
    return count


def _limit_processes(headroom: int) -> None:
    # Root ignores RLIMIT_NPROC; the isolated grading mode bounds processes for everyone.
    uid = os.getuid()
    if uid == 0 or not os.path.isdir("/proc"):
        return
    _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    cap = _user_tasks(uid) + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))


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


def _send(fd: int, message: dict[str, Any]) -> None:
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
    if len(payload) > protocol.MAX_FRAME:
        payload = codec.encode(
            {
                "op": "raised",
                "id": message.get("id"),
                "error": {
                    "kind": "unsendable",
                    "type": "ValueError",
                    "message": f"the result is too large to send back ({len(payload)} bytes)",
                    "traceback": "",
                },
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
    serve(json.loads(sys.argv[1]))


def serve(config: dict[str, Any]) -> None:
    """Set the limits, import the learner's file and answer calls until the host hangs up.

    Started fresh by `main`, or in a child forked from the zygote (grader/sandbox/zygote.py).
    """
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    _die_with_parent()
    _set_limits(config)
    import numpy  # noqa: F401 - trusted preload, before any learner code
    import torch

    torch.set_num_threads(max(1, config["threads"]))
    sys.meta_path.insert(0, _Blocker(config["blocked_names"], config["blocked_folders"]))
    _send(fd_out, {"op": "booted"})
    try:
        module = _load(config)
    except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a learner error too
        _send(fd_out, {"op": "import_error", "error": describe(exc, config["file"])})
        return
    _send(fd_out, {"op": "ready"})
    while True:
        frame = protocol.read_frame(fd_in)
        if frame is None:
            return
        request = codec.decode(frame)
        call_id = request["id"]
        function = getattr(module, request["fn"], None)
        if not callable(function):
            error = {
                "kind": "missing",
                "type": "AttributeError",
                "message": f"{config['file']} has no function {request['fn']!r}",
                "traceback": "",
            }
            _send(fd_out, {"op": "raised", "id": call_id, "error": error})
            continue
        args, kwargs = request["args"], request["kwargs"]
        if isinstance(request.get("reporter"), str):
            kwargs[request["reporter"]] = _Reporter(fd_out, call_id)
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - sys.exit inside a call fails that call only
            _send(fd_out, {"op": "raised", "id": call_id, "error": describe(exc, config["file"])})
            continue
        reply = {"op": "result", "id": call_id, "value": value}
        if request.get("return_args"):
            # Lets a check see whether the learner's code modified its inputs in place.
            reply["args"] = args
        _send(fd_out, reply)


if __name__ == "__main__":
    main()
