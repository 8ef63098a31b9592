"""What the grader trusts: points for how code is written only with correct values, the bytes it
read before any learner code ran, a course that no submission rewrote, and replies that cost it
their size once. A toy course of one exercise keeps each run short."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader import codec
from grader.sandbox import protocol, trusted

CHECKS = '''
"""Checks for the toy exercise."""

import ast

import pytest

from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("toy")


@pytest.mark.needs_passing("double")
def test_no_multiplication(submission, source_tree):
    """double adds; it never multiplies"""
    submission.double(1.0)
    if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) for n in ast.walk(source_tree)):
        raise CheckFailure("double multiplies")


def test_double(submission):
    """double(x) is 2x"""
    got = submission.double(3.0)
    if got != 6.0:
        raise CheckFailure(f"double(3.0) should be 6.0, got {got!r}")


def test_grader_limits(submission):
    """once a worker runs, the grader is under its own memory limit and closed to inspection"""
    import ctypes, resource

    submission.double(1.0)
    soft = resource.getrlimit(resource.RLIMIT_DATA)[0]
    dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
    if soft != 8192 * 2**20 or dumpable != 0:
        raise CheckFailure(f"RLIMIT_DATA {soft}, dumpable {dumpable}")
'''
HONEST = "def double(x):\n    return x + x\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("toy-course")
    (root / "exercises" / "toy").mkdir(parents=True)
    (root / "exercises" / "catalog.toml").write_text(
        '[[exercise]]\nid = "toy"\ntitle = "Toy"\npath = "toy/toy.py"\n'
    )
    (root / "exercises" / "toy" / "lesson.md").write_text("# Toy\n")
    (root / "solutions" / "toy").mkdir(parents=True)
    (root / "solutions" / "toy" / "toy.py").write_text(HONEST)
    (root / "checks").mkdir()
    (root / "checks" / "test_toy.py").write_text(CHECKS)
    return root


def check_toy(course: Path, workspace: Path, *extra: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "mllab", "--course", str(course), "check", "toy",
         "--workspace", str(workspace), "--device", "cpu", "--format", "json", *extra],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def toy_workspace(tmp_path: Path, source: str) -> Path:
    (tmp_path / "ws" / "toy").mkdir(parents=True)
    (tmp_path / "ws" / "toy" / "toy.py").write_text(source)
    return tmp_path / "ws"


def outcomes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["outcome"]) for e in report["exercises"] for c in e["checks"]]


@pytest.mark.slow
def test_a_rule_on_how_code_is_written_needs_correct_values(course: Path, tmp_path: Path) -> None:
    # Functions that only return pass a rule about the source on their own: not for points.
    idle = check_toy(course, toy_workspace(tmp_path / "idle", "def double(x):\n    return 0\n"))
    assert outcomes(idle) == [
        ("double", "failed"),
        ("grader_limits", "passed"),
        ("no_multiplication", "failed"),
    ]
    rule = idle["exercises"][0]["checks"][2]
    assert rule["points"] == 0 and "not counted yet" in rule["message"]
    assert "once double passes" in rule["message"]
    honest = check_toy(course, toy_workspace(tmp_path / "honest", HONEST))
    # Reported after the check it needs, though written first.
    assert outcomes(honest) == [
        ("double", "passed"),
        ("grader_limits", "passed"),
        ("no_multiplication", "passed"),
    ]


@pytest.mark.slow
def test_the_source_judged_is_the_source_that_ran(course: Path, tmp_path: Path) -> None:
    # At import, it rewrites its own file into one without the multiplication it uses.
    workspace = tmp_path / "ws"
    rewrite = (
        f"open({str(workspace / 'toy' / 'toy.py')!r}, 'w').write({HONEST!r})\n"
        "def double(x):\n    return x * 2\n"
    )
    report = check_toy(course, toy_workspace(tmp_path, rewrite))
    assert outcomes(report)[-1] == ("no_multiplication", "failed")
    assert "double multiplies" in report["exercises"][0]["checks"][-1]["message"]


@pytest.mark.slow
def test_a_course_changed_since_the_batch_began_grades_nothing(
    course: Path, tmp_path: Path
) -> None:
    workspace = toy_workspace(tmp_path, HONEST)
    (course / "checks" / "unused.py").write_text("X = 1\n")  # imported by no check
    chosen = [("toy", "toy/toy.py")]
    manifest = json.dumps(trusted.course_manifest(course / "checks", course / "solutions", chosen))
    report_file = tmp_path / "report.json"
    run = [
        sys.executable, "-m", "pytest", str(course / "checks"), "-p", "grader.plugin",
        "-c", str(Path(__file__).parents[1] / "grader" / "checks" / "pytest.ini"),
        "--rootdir", str(course / "checks"), f"--mllab-workspace={workspace}",
        "--mllab-device=cpu", f"--mllab-report={report_file}",
        f"--mllab-course-manifest={manifest}",
    ]  # fmt: skip
    env = dict(os.environ, MLLAB_COURSE=str(course), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    # A change to what this run does not use (a module no check imports) changes nothing.
    (course / "checks" / "unused.py").write_text("X = 2\n")
    same = subprocess.run(run, env=env, capture_output=True)
    assert json.loads(report_file.read_text())["score"] == 3.0, same.stdout[-2000:]
    # Another submission rewrote the reference (possible only without the sandbox).
    (course / "solutions" / "toy" / "toy.py").write_text("def double(x):\n    return 0\n")
    try:
        changed = subprocess.run(run, env=env, capture_output=True)
    finally:
        (course / "solutions" / "toy" / "toy.py").write_text(HONEST)
    report = json.loads(report_file.read_text())
    assert report["exercises"] == [], changed.stdout[-2000:]
    assert "the course changed on disk since this batch began" in report["errors"][0]
    assert "solutions/toy/toy.py" in report["errors"][0]


MEASURE = textwrap.dedent(
    """
    import os, resource, sys, torch
    from grader import codec
    from grader.sandbox import protocol

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    size = int(sys.argv[2])
    torch.zeros(1)
    reader = protocol.FrameReader(cap=size + 2**20)
    fd = os.open(sys.argv[1], os.O_RDONLY)
    before = peak()
    while reader.read_from(fd):
        pass
    frame = reader.next_frame()
    value = codec.decode(frame)
    del frame
    print(peak() - before, value["value"].numel())
    """
)


def test_a_reply_costs_the_grader_its_size_about_twice_at_most(tmp_path: Path) -> None:
    import torch

    size = 128 * 2**20
    message = codec.encode({"value": torch.ones(size // 4, dtype=torch.float32)})
    path = tmp_path / "frame"
    path.write_bytes(struct.pack(">I", len(message)) + message)
    del message
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(size)], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    grown, count = map(int, result.stdout.split())
    assert count == size // 4
    # The frame, then the tensor built from it: the frame read in place, one copy decoded.
    assert grown < 2.3 * size, f"{grown / 2**20:.0f} MiB for a {size // 2**20} MiB reply"


def test_a_reply_over_the_cap_is_refused_from_its_header(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.write(write, struct.pack(">I", 300 * 2**20) + b"MLC1" + b"\0" * 1000)
    reader = protocol.FrameReader(cap=256 * 2**20)
    with pytest.raises(protocol.FrameTooLarge) as raised:
        while reader.read_from(read):
            pass
    assert raised.value.size == 300 * 2**20
    assert len(os.read(read, 2000)) == 1000  # nothing past the length and the magic was read
    # Text on the channel is no frame at all, however large its first bytes read as a length.
    os.write(write, b"=== 7 passed ===\n")
    reader = protocol.FrameReader(cap=256 * 2**20)
    with pytest.raises(protocol.NotAFrame):
        while reader.read_from(read):
            pass
    os.close(read)
    os.close(write)
