"""How submission workers are isolated: `process`, or `bwrap`, a real boundary on Linux.

`process`: the worker is a child process with limits (grader/sandbox/host.py); it runs as the
grader's user, so it can read and write what that user can. The learner's own lab uses it.

`bwrap` (bubblewrap): each worker gets its own PID, mount, network, IPC and UTS namespaces, and
runs as an unprivileged user (a fresh uid of its own when grading as root, else the grader's user
inside a user namespace). Its file system is read-only but for a size-limited scratch folder: the
system folders, the interpreter, the folders on the grader's import path, and the few grader
files a worker imports (`WORKER_FILES`). Every path in `hidden` (the course: solutions, checks,
the workspace, output files, the mllab and grader packages) is covered by an empty folder
wherever a mount exposes it. The worker is the child of the namespace's init, so killing that
init (`Sandbox.kill`) or the grader kills everything the learner's code started.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import json
import os
import random
import select
import shutil
import subprocess
import sys
import time
from pathlib import PurePosixPath

ISOLATIONS = ("process", "bwrap")
CHOICES = ("auto", *ISOLATIONS)
# The uids sandboxed workers run as when the grader is root: one per worker, never a real user's,
# so that RLIMIT_NPROC counts that worker's processes alone and nothing on the host is theirs.
UID_FIRST, UID_COUNT = 2_000_000_000, 100_000_000
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
_NAMESPACES = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
# What a worker imports of the grader package (relative to it); nothing else of it is visible.
WORKER_FILES = (
    "__init__.py",
    "codec.py",
    "sandbox/__init__.py",
    "sandbox/output.py",
    "sandbox/protocol.py",
    "sandbox/worker.py",
)
# Started as `python -I -c BOOT PATH MODULE ARGS...`: the import path comes from the grader, so a
# worker finds the grader and torch however they were installed (a --target folder too), and
# never the current folder or PYTHONPATH.
BOOT = (
    "import sys, json, importlib; del sys.argv[0]; sys.path[:0] = json.loads(sys.argv.pop(0)); "
    "importlib.import_module(sys.argv.pop(0)).main()"
)


class IsolationUnavailable(RuntimeError):
    """The isolation asked for cannot be had here; the message says why and what to do."""


# ---------------------------------------------------------------------------------- choosing


def resolve(isolation: str, secret_seed: bool) -> str:
    """`auto` is bwrap for a secret seed and process otherwise; bwrap must be available.

    Raises IsolationUnavailable rather than fall back: grading a secret seed with weaker
    isolation is the instructor's explicit choice (`process`), never a silent one.
    """
    if isolation not in CHOICES:
        raise ValueError(f"isolation must be one of {', '.join(CHOICES)}, not {isolation!r}")
    chosen = isolation if isolation != "auto" else ("bwrap" if secret_seed else "process")
    if chosen == "bwrap":
        problem = bwrap_problem()
        if problem:
            why = "a secret seed is graded in the bwrap sandbox" if isolation == "auto" else "bwrap"
            raise IsolationUnavailable(
                f"{why}, and it cannot run here: {problem}. To grade anyway with the weaker "
                "process isolation (a submission can then read what this user can read, the "
                "seed and the solutions included), pass --isolation process"
            )
    return chosen


def _as_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def _bwrap_supports(bwrap: str, flag: str) -> bool:
    try:
        result = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return flag in result.stdout + result.stderr


def _base(bwrap: str) -> list[str]:
    args = [bwrap, "--die-with-parent", "--new-session", *_NAMESPACES, "--unshare-cgroup-try"]
    if not _as_root():
        # The grader's own user, mapped into a user namespace; it may not make more of them.
        args.append("--unshare-user")
        if _bwrap_supports(bwrap, "--disable-userns"):
            args.append("--disable-userns")
    return args


def _drop_root(uid: int | None) -> list[str]:
    # Root keeps the host's user namespace, so that this is a real uid change, which makes
    # RLIMIT_NPROC apply and leaves nothing on the host writable by the worker.
    if uid is None:
        return []
    setpriv = shutil.which("setpriv") or "setpriv"
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def sandbox_uid() -> int | None:
    """A fresh uid for one worker when grading as root; None otherwise (a user namespace)."""
    return UID_FIRST + random.randrange(UID_COUNT) if _as_root() else None


@functools.cache
def _probe(bwrap: str) -> str | None:
    if _as_root() and shutil.which("setpriv") is None:
        return "running as root, bwrap isolation needs setpriv (util-linux) to change the user"
    probe = [*_base(bwrap), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    probe += [*_drop_root(sandbox_uid()), "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap is installed but could not be run: {exc}"
    if result.returncode != 0:
        return (
            f"bwrap is installed but cannot create a sandbox here: {result.stderr.strip()}. "
            "User namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1), or a "
            "container forbids them"
        )
    return None


def bwrap_problem() -> str | None:
    """None when bwrap can sandbox workers here; otherwise why not, and what to do."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap isolation needs Linux; this is " + sys.platform
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return (
            "bubblewrap (bwrap) is not installed. Install it (Debian/Ubuntu: apt install "
            "bubblewrap; Fedora: dnf install bubblewrap)"
        )
    return _probe(bwrap)


# --------------------------------------------------------------------------- starting Python


def grader_package() -> str:
    import grader

    return os.path.realpath(os.path.dirname(grader.__file__))


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def import_path(hidden: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The grader's import path for a worker: where the grader package is, then every folder on
    this process's path (absolute, existing) that is not hidden from workers."""
    hidden_real = [os.path.realpath(h) for h in hidden]
    path = [os.path.dirname(grader_package())]
    for entry in sys.path:
        if not entry or not os.path.isabs(entry) or not os.path.isdir(entry):
            continue
        if any(inside(os.path.realpath(entry), h) for h in hidden_real) or entry in path:
            continue
        path.append(entry)
    return path


def python_command(module: str, *args: str, path: list[str] | None = None) -> list[str]:
    """This interpreter, isolated (`-I`), running `module.main()` with `path` first on its path."""
    return [sys.executable, "-I", "-c", BOOT, json.dumps(path or import_path()), module, *args]


# ----------------------------------------------------------------------------------- bwrap


def _interpreter_folders() -> list[str]:
    """What the interpreter itself needs: its prefixes (a venv's too) and its own folder."""
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates.append(os.path.dirname(os.path.realpath(sys.executable)))
    return [os.path.realpath(c) for c in candidates if c and os.path.isdir(c)]


def _system_mounts() -> tuple[list[str], list[str]]:
    """bwrap arguments for the system folders, and the real folders they expose.

    A folder that is a symbolic link on the host (/lib -> usr/lib) is a link in the sandbox
    too, never a second mount of the same files that would escape what is hidden in the first.
    """
    args: list[str] = []
    exposed: list[str] = []
    for folder in _SYSTEM:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
            exposed.append(os.path.realpath(folder))
    return args, exposed


def _ancestors(paths: list[str]) -> list[str]:
    # bwrap would create missing mount points as root-only folders, which the worker cannot enter.
    needed = {str(parent) for p in paths for parent in PurePosixPath(p).parents}
    return sorted(needed - {"/"})


def _depth(path: str) -> int:
    return len(PurePosixPath(path).parts)


def bwrap_command(
    command: list[str],
    scratch: str,
    relative: str,
    hidden: tuple[str, ...] | list[str],
    disk_mb: int,
    *,
    path: list[str] | None = None,
    uid: int | None = None,
    info_fd: int | None = None,
) -> list[str]:
    """`command` (a worker) wrapped in bwrap, with `scratch/relative` as the only learner file.

    Everything under a path in `hidden` is invisible to the worker, whichever mount exposes it.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    args = _base(bwrap)
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    system_args, system = _system_mounts()
    args += system_args
    # /tmp first: python, site-packages or a checkout may live under it, and their binds must
    # land on top of this empty /tmp rather than be hidden by it.
    args += ["--perms", "1777", "--size", str(disk_mb * 2**20), "--tmpfs", "/tmp"]
    hidden_real = sorted({os.path.realpath(h) for h in hidden if os.path.lexists(h)})
    interpreter = _interpreter_folders()
    entries = [os.path.realpath(e) for e in (path if path is not None else import_path(hidden))]
    binds: list[str] = []
    for folder in sorted({*interpreter, *entries}, key=_depth):
        if folder == "/" or any(inside(s, folder) for s in _SYSTEM):
            continue  # never the whole file system, nor a folder above the system ones
        if folder not in interpreter and any(inside(folder, h) for h in hidden_real):
            continue  # the checkout's root on an editable install's path, say
        if not any(inside(folder, m) for m in [*system, *binds]):
            binds.append(folder)  # else already visible through a mount that holds it
    # Hidden paths that some mount exposes get an empty, read-only folder (or /dev/null) on top.
    covered: list[str] = []
    files_hidden: list[str] = []
    for secret in hidden_real:
        holders = [m for m in [*system, *binds] if inside(secret, m) and secret != m]
        if not holders or any(inside(secret, c) for c in covered):
            continue
        (covered if os.path.isdir(secret) else files_hidden).append(secret)
    package = grader_package()
    files = [os.path.join(package, name) for name in WORKER_FILES]
    mounts = [*system, *binds]
    steps: list[tuple[int, int, list[str]]] = []
    for folder in _ancestors([*binds, *files, scratch]):
        if folder == "/tmp":
            continue  # the tmpfs above, world-writable: keep its permissions
        in_mount = any(inside(folder, m) for m in mounts)
        if not in_mount or any(inside(folder, c) and folder != c for c in covered):
            steps.append((_depth(folder), 1, ["--perms", "0755", "--dir", folder]))
    steps += [(_depth(c), 0, ["--tmpfs", c]) for c in covered]
    steps += [(_depth(f), 0, ["--ro-bind", "/dev/null", f]) for f in files_hidden]
    steps += [(_depth(b), 2, ["--ro-bind", b, b]) for b in binds]
    steps += [(_depth(f), 3, ["--ro-bind", f, f]) for f in files]
    # Parents first: a mount inside another lands on top of it, never under it.
    for _, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
        args += step
    for folder in covered:
        args += ["--remount-ro", folder]
    args += ["--dev", "/dev", "--proc", "/proc"]
    for device in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind-try", device, device]
    args += ["--perms", "1777", "--size", str(disk_mb * 2**20), "--tmpfs", scratch]
    parent = PurePosixPath(scratch)
    for part in PurePosixPath(relative).parent.parts:
        parent = parent / part
        args += ["--perms", "0755", "--dir", str(parent)]
    learner_file = os.path.join(scratch, relative)
    args += ["--ro-bind", learner_file, learner_file, "--perms", "1777", "--dir", f"{scratch}/tmp"]
    args += ["--chdir", scratch]
    return args + _drop_root(uid) + command


def read_info(fd: int, deadline: float) -> int | None:
    """The host pid of the sandbox's init, from bwrap's --info-fd; None if bwrap never said."""
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        try:
            pid = json.loads(data).get("child-pid")
        except ValueError:
            continue
        return pid if isinstance(pid, int) and pid > 1 else None
    return None


def signal_exit(code: int) -> int:
    """bwrap reports a worker killed by signal N as exit code 128 + N; Popen says -N."""
    return -(code - 128) if 128 < code < 128 + 65 else code


# ------------------------------------------------------------------------- the trusted side


def protect_process() -> None:
    """Make this process non-dumpable: another process of the same user can then neither
    ptrace it nor open its /proc/PID/fd, mem or environ (its pipes and its memory)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


def user_threads(uid: int) -> int:
    """Threads the user runs now, in every process it can see: RLIMIT_NPROC counts them all."""
    count = 0
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="utf-8", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return count
