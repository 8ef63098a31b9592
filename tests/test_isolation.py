"""The bwrap sandbox: what a worker can see on each kind of install, that it boots only where it
was put, that killing it takes along everything it started, and clear refusals where it cannot
run. The sandboxes here run a bare Python (no torch), so each costs a fraction of a second."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from grading import REPO, SOLUTION, workspace_with

from grader.sandbox import isolation
from grader.sandbox.host import Limits, Worker, WorkerStartError

needs_bwrap = pytest.mark.skipif(
    bool(isolation.bwrap_problem()), reason=f"bwrap isolation: {isolation.bwrap_problem()}"
)
PROBE = "import json, os, sys; print(json.dumps({p: os.path.exists(p) for p in sys.argv[1:]}))"


def seen_from_sandbox(tmp_path: Path, hidden: list[Path], path: list[str], *probe: Path) -> dict:
    """Which of `probe` exist for a process in the sandbox a worker would get."""
    scratch = tmp_path / "scratch"
    (scratch / "x").mkdir(parents=True, exist_ok=True)
    (scratch / "x" / "y.py").write_text("")
    command = [sys.executable, "-I", "-c", PROBE, *map(str, probe)]
    wrapped = isolation.bwrap_command(
        command, str(scratch), "x/y.py", [str(h) for h in hidden], 16,
        path=path, uid=isolation.sandbox_uid(),
    )  # fmt: skip
    result = subprocess.run(wrapped, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {Path(k): v for k, v in json.loads(result.stdout).items()}


@needs_bwrap
def test_a_checkout_shows_the_worker_its_files_and_nothing_of_the_course(tmp_path: Path) -> None:
    hidden = [REPO, REPO / "solutions", REPO / "grader", REPO / "mllab"]
    seen = seen_from_sandbox(
        tmp_path, hidden, isolation.import_path(hidden),
        SOLUTION, REPO / "grader" / "checks" / "test_perceptron.py", REPO / ".git",
        REPO / "tests" / "wrong", REPO / "grader" / "sandbox" / "worker.py", Path(sys.executable),
    )  # fmt: skip
    assert seen.pop(REPO / "grader" / "sandbox" / "worker.py") is True
    assert seen.pop(Path(sys.executable)) is True
    assert not any(seen.values()), seen


@needs_bwrap
def test_an_installed_course_is_hidden_from_every_mount_that_shows_it(tmp_path: Path) -> None:
    # A wheel installed into a folder on the import path (a --target site, a venv's
    # site-packages), and one under /usr, which the sandbox shows as a system folder.
    sites = [tmp_path / "site"]
    system = Path("/usr/local/lib")
    if os.access(system, os.W_OK):
        sites.append(Path(tempfile.mkdtemp(prefix="mllab-test-site-", dir=system)))
        sites[-1].chmod(0o755)
    try:
        probe, kept = [], []
        secret = Path("mllab", "_course", "solutions", "p", "p.py")
        for site in sites:
            (site / secret).parent.mkdir(parents=True)
            (site / secret).write_text("SECRET = 1\n")
            (site / "mllab" / "__init__.py").write_text("")
            (site / "other").mkdir()
            (site / "other" / "lib.py").write_text("")
            probe += [site / secret, site / "mllab" / "__init__.py"]
            kept.append(site / "other" / "lib.py")
        if len(sites) > 1:  # by another way to the same folder, too
            probe.append(Path("/usr/local/../local/lib") / sites[1].name / secret)
        seen = seen_from_sandbox(
            tmp_path, [s / "mllab" for s in sites], [str(s) for s in sites], *probe, *kept
        )
        assert all(seen[path] for path in kept), seen
        assert not any(seen[path] for path in probe), seen
    finally:
        for site in sites[1:]:
            shutil.rmtree(site, ignore_errors=True)


@needs_bwrap
def test_a_venv_inside_the_hidden_checkout_still_runs(tmp_path: Path) -> None:
    # A venv in the checkout (`python -m venv .venv`) is the interpreter: it is mounted even
    # though the checkout around it is hidden.
    around = Path(sys.prefix).parent
    seen = seen_from_sandbox(tmp_path, [around], [], Path(sys.prefix), around / "solutions")
    assert seen == {Path(sys.prefix): True, around / "solutions": False}


def start_worker(tmp_path: Path, source: str, **limits: object) -> Worker:
    workspace = workspace_with(tmp_path, source, "toy/toy.py")
    worker = Worker(workspace / "toy" / "toy.py", "toy/toy.py", Limits(**limits))  # type: ignore[arg-type]
    worker.start()
    return worker


@needs_bwrap
def test_a_worker_that_does_not_boot_in_its_sandbox_runs_nothing(tmp_path: Path) -> None:
    mark = tmp_path / "learner-code-ran"
    source = f"open({str(mark)!r}, 'w').write('ran')\n"
    with pytest.raises(WorkerStartError, match="did not start in its sandbox: it can see"):
        start_worker(tmp_path, source, isolation="bwrap", probe=("/usr/bin/env",))
    assert not mark.exists()


DAEMON = """
import ctypes, os, time
libc = ctypes.CDLL(None)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        libc.prctl(1, 0)  # no parent-death signal
        os.execv("/bin/sleep", ["sleep", "{tag}"])
    os._exit(0)
def pid():
    return os.getpid()
"""


def daemons(tag: str) -> list[int]:
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{name}/cmdline").read_bytes() == f"sleep\0{tag}\0".encode():
                found.append(int(name))
        except OSError:
            pass
    return found


@needs_bwrap
def test_closing_a_sandboxed_worker_kills_everything_it_started(tmp_path: Path) -> None:
    tag = f"{os.getpid()}{time.monotonic_ns() % 10**6}"
    worker = start_worker(tmp_path, DAEMON.format(tag=tag), isolation="bwrap")
    try:
        assert worker.call("pid") == 2  # under the namespace's init
        deadline = time.monotonic() + 10
        while not daemons(tag) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert daemons(tag), "the daemon never started"
    finally:
        worker.close()
    deadline = time.monotonic() + 10
    while daemons(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert daemons(tag) == [], "a process of the submission outlived its sandbox"


def mllab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mllab", *args], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip


def without_bwrap(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, PATH=str(tmp_path / "empty-bin"))


def test_a_secret_seed_without_bwrap_is_refused_unless_asked_for(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("bwrap isolation is for Linux only")
    workspace = workspace_with(tmp_path, SOLUTION.read_text())
    env = without_bwrap(tmp_path)
    check = ["check", "perceptron", "--workspace", str(workspace), "--device", "cpu"]
    refused = mllab(*check, "--seed", "5", env=env)
    assert refused.returncode == 2, refused.stderr
    assert "a secret seed is graded in the bwrap sandbox" in refused.stderr
    assert "bubblewrap (bwrap) is not installed" in refused.stderr
    assert "pass --isolation process" in refused.stderr
    graded = mllab("grade", str(workspace), "--out", str(tmp_path / "o"), env=env)
    assert graded.returncode == 2 and "mllab grade runs each submission in the bwrap" in (
        graded.stderr
    )
    explicit = mllab("grade", str(workspace), "--out", str(tmp_path / "o"),
                     "--isolation", "bwrap", env=env)  # fmt: skip
    assert explicit.returncode == 2
    assert "mllab: --isolation bwrap: bubblewrap (bwrap) is not installed" in explicit.stderr
    assert not (tmp_path / "o").exists()  # nothing graded with weaker isolation instead


FAKE_BWRAP = """#!/bin/sh
# Passes the availability probe (its command is `true`), fails every real sandbox.
for last; do :; done
if [ "$last" = true ]; then exec {bwrap} "$@"; fi
echo "bwrap: simulated failure" >&2
exit 1
"""


@needs_bwrap
@pytest.mark.slow
def test_a_worker_that_cannot_start_is_an_error_row_never_a_zero(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text(FAKE_BWRAP.format(bwrap=shutil.which("bwrap")))
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{fake.parent}:{os.environ['PATH']}")
    honest = workspace_with(tmp_path / "class", SOLUTION.read_text()).rename(
        tmp_path / "class" / "ada"
    )
    out = tmp_path / "out"
    result = mllab("grade", str(honest), "--exercise", "perceptron", "--seed", "3",
                   "--out", str(out), env=env)  # fmt: skip
    assert result.returncode == 1, result.stderr
    record = json.loads((out / "students" / "ada" / "record.json").read_text())
    assert record["status"] == "error" and record["report"] is None
    assert "the submission worker could not start (bwrap isolation" in record["message"]
    assert "ada,error," in (out / "gradebook.csv").read_text()


def test_signal_deaths_reported_by_bwrap_read_as_signals() -> None:
    assert isolation.signal_exit(137) == -9 and isolation.signal_exit(139) == -11
    assert isolation.signal_exit(0) == 0 and isolation.signal_exit(3) == 3


def test_auto_means_bwrap_for_a_secret_seed_and_process_for_the_public_one() -> None:
    assert isolation.resolve("auto", secret_seed=False) == "process"
    assert isolation.resolve("process", secret_seed=True) == "process"
    if isolation.bwrap_problem() is None:
        assert isolation.resolve("auto", secret_seed=True) == "bwrap"
    else:
        with pytest.raises(isolation.IsolationUnavailable, match="--isolation process"):
            isolation.resolve("auto", secret_seed=True)
