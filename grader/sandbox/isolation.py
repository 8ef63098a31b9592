"""Stronger isolation for submission workers on Linux, with bubblewrap (`bwrap`).

Under `bwrap` a worker gets no network, its own PID namespace (it cannot see or signal the
grader, and every process it starts dies with it), a read-only view of only the system and Python
folders it needs (never the course's solutions, home folders or other submissions), and a
size-limited scratch folder as its only writable place. Run as root, it also drops to the `nobody`
user, so process limits apply and nothing owned by root is writable.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

ISOLATIONS = ("process", "bwrap")
NOBODY = 65534
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
_NAMESPACES = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]


def _as_root() -> bool:
    return os.geteuid() == 0


def _base() -> list[str]:
    # Root keeps the host's user namespace, so that dropping to `nobody` is a real uid change.
    users = [] if _as_root() else ["--unshare-user"]
    return ["--die-with-parent", "--as-pid-1", *_NAMESPACES, "--unshare-cgroup-try", *users]


def _drop_root() -> list[str]:
    if not _as_root():
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def bwrap_problem() -> str | None:
    """None when bwrap can sandbox workers here; otherwise why not, and what to do."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap isolation needs Linux; this is " + sys.platform
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return (
            "bubblewrap (bwrap) is not installed. Install it (Debian/Ubuntu: apt install "
            "bubblewrap; Fedora: dnf install bubblewrap) or grade with --isolation process"
        )
    if _as_root() and shutil.which("setpriv") is None:
        return "running as root, bwrap isolation needs setpriv (util-linux) to drop to nobody"
    probe = [bwrap, *_base(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    probe += [*_drop_root(), "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap is installed but could not be run: {exc}"
    if result.returncode != 0:
        return (
            f"bwrap is installed but cannot create a sandbox here: {result.stderr.strip()}. "
            "User namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1), or a "
            "container forbids them; grade with --isolation process, or on a machine that allows it"
        )
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _python_folders(blocked: list[str]) -> list[str]:
    """What the worker imports from: the interpreter, the standard library, site-packages and the
    grader package; never a folder that holds (or is inside) a blocked one."""
    import grader

    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates += [os.path.dirname(os.path.realpath(sys.executable)), *sys.path]
    grader_folder = os.path.realpath(os.path.dirname(grader.__file__))
    found: list[str] = [grader_folder]
    for entry in candidates:
        if not entry or not os.path.isabs(entry) or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if any(_inside(real, b) or _inside(b, real) for b in blocked):
            continue
        found.append(real)
    # A folder inside another one is already visible through it.
    return [f for f in sorted(set(found)) if not any(o != f and _inside(f, o) for o in found)]


def _ancestors(folders: list[str]) -> list[str]:
    # bwrap would create missing mount points as root-only folders, which `nobody` cannot enter.
    needed = {str(parent) for f in folders for parent in PurePosixPath(f).parents}
    return sorted(needed - {"/"})


def bwrap_command(
    command: list[str], scratch: str, relative: str, blocked: tuple[str, ...], disk_mb: int
) -> list[str]:
    """`command` (the worker) wrapped in bwrap, with `scratch/relative` as the only learner file."""
    blocked_real = [os.path.realpath(folder) for folder in blocked]
    args = [shutil.which("bwrap") or "bwrap", *_base()]
    for folder in _SYSTEM:
        args += ["--ro-bind-try", folder, folder]
    # /tmp first: python, site-packages or a checkout may live under it, and their binds must
    # land on top of this empty /tmp rather than be hidden by it.
    args += ["--perms", "1777", "--size", str(disk_mb * 2**20), "--tmpfs", "/tmp"]
    readable = _python_folders(blocked_real)
    for folder in _ancestors(readable):
        if not any(_inside(folder, system) for system in _SYSTEM):
            args += ["--perms", "0755", "--dir", folder]
    for folder in readable:
        args += ["--ro-bind", folder, folder]
    for folder in blocked_real:
        if os.path.isdir(folder) and any(_inside(folder, r) for r in readable):
            args += ["--tmpfs", folder]
    args += ["--dev", "/dev", "--proc", "/proc"]
    for device in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind-try", device, device]
    args += ["--perms", "1777", "--size", str(disk_mb * 2**20), "--tmpfs", scratch]
    parent = PurePosixPath(scratch)
    for part in PurePosixPath(relative).parent.parts:
        parent = parent / part
        args += ["--perms", "0755", "--dir", str(parent)]
    learner_file = str(Path(scratch, relative))
    args += ["--ro-bind", learner_file, learner_file, "--perms", "1777", "--dir", f"{scratch}/tmp"]
    args += ["--chdir", scratch]
    return args + _drop_root() + command


def signal_exit(code: int) -> int:
    """bwrap reports a worker killed by signal N as exit code 128 + N; Popen says -N."""
    return -(code - 128) if 128 < code < 128 + 65 else code
