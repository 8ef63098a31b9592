"""Time from starting `mllab` in a terminal to its first frame, and the memory it holds."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

# Text on the course screen; its appearance means the first frame has been drawn.
MARKER = "Data and evaluation"
ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


@dataclass
class Frame:
    seconds: float
    rss_mb: float
    rss_later_mb: float
    grader_mb: float


def _field_mb(path: str, field: str) -> float:
    """A "Field:   N kB" line of a /proc file, in MB (0 when the process has gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    return _field_mb(f"/proc/{pid}/status", "VmRSS")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (torch, forked copies) split among their users."""
    return _field_mb(f"/proc/{pid}/smaps_rollup", "Pss")


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found += map(int, children)
            todo += map(int, children)
    return found


def first_frame(folder: Path, later: float = 15.0) -> Frame:
    """Start the lab in a pseudo-terminal (80x24) in a new workspace and watch its output."""
    subprocess.run(
        [sys.executable, "-m", "mllab", "init", str(folder)], check=True, capture_output=True
    )
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mllab"], stdin=slave, stdout=slave, stderr=slave,
        cwd=folder, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    seconds = rss = 0.0
    try:
        while time.perf_counter() - started < 30:
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                seen += os.read(master, 1 << 16)
                if MARKER.encode() in ESCAPES.sub(b"", seen):
                    seconds = time.perf_counter() - started
                    rss = rss_mb(process.pid)
                    break
        if not seconds:
            raise RuntimeError(f"no first frame in 30 s; the terminal showed {seen[-500:]!r}")
        end = time.perf_counter() + later
        while time.perf_counter() < end:  # keep the terminal drained while the grader warms
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 1 << 16)
        rss_later = rss_mb(process.pid)
        grader = sum(pss_mb(child) for child in descendants(process.pid))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        os.close(master)
    return Frame(seconds, rss, rss_later, grader)
