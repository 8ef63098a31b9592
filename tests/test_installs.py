"""A secret seed is graded in the sandbox on every kind of install: the worker starts (the
interpreter that is launched and its libraries are there), and the wheel's bundled solutions
are out of its sight, in a --target site, in a virtual environment and under /usr.

The wheel is built once for the module; torch comes from this environment, never reinstalled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading import REPO, SOLUTION

from grader.sandbox.isolation import bwrap_problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(bwrap_problem()), reason=f"bwrap isolation: {bwrap_problem()}"),
]

# Looks for the bundled reference on its import path and runs it if found; else it is honest.
# Either way it scores full marks: what matters is whether it says FOUND, and where it ran.
LOOKER = """import os, sys
import torch
print("pid:", os.getpid())
for entry in sys.path:
    path = os.path.join(entry, "mllab", "_course", "solutions", "perceptron", "perceptron.py")
    if os.path.exists(path):
        print("FOUND", path)
        exec(open(path).read())
        break
else:
    exec({honest!r})
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(folder)],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (built,) = folder.glob("*.whl")
    return built


def pip_target(wheel: Path, target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def graded_with_secret_seed(python: str, env: dict[str, str], tmp_path: Path) -> dict:
    workspace = tmp_path / "ws"
    (workspace / "perceptron").mkdir(parents=True)
    source = LOOKER.format(honest=SOLUTION.read_text())
    (workspace / "perceptron" / "perceptron.py").write_text(source)
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MLLAB_COURSE", None)
    where = subprocess.run(
        [python, "-c", "import mllab, grader; print(mllab.__file__, grader.__file__)"],
        env=env, capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert str(REPO) not in where.stdout, "the test would grade with the checkout, not the wheel"
    result = subprocess.run(
        [python, "-m", "mllab", "check", "perceptron", "--workspace", str(workspace),
         "--seed", "5", "--device", "cpu", "--format", "json"],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def assert_sandboxed_and_blind(report: dict) -> None:
    assert report["errors"] == [], report["errors"]
    assert report["score"] == 10.0, [c["message"] for c in report["exercises"][0]["checks"]]
    output = "".join(c["output"] for c in report["exercises"][0]["checks"])
    assert "pid: 2" in output  # under the sandbox's init
    assert "FOUND" not in output


def test_a_wheel_in_a_target_site(wheel: Path, tmp_path: Path) -> None:
    pip_target(wheel, tmp_path / "site")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    assert_sandboxed_and_blind(graded_with_secret_seed(sys.executable, env, tmp_path))


def test_a_wheel_in_a_virtual_environment(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pip_target(wheel, Path(site))
    # torch and the rest from this environment, as --system-site-packages would give them.
    Path(site, "host-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    assert_sandboxed_and_blind(graded_with_secret_seed(python, env, tmp_path))


@pytest.fixture
def usr_site() -> Iterator[Path]:
    parent = Path("/usr/local/lib")
    if not os.access(parent, os.W_OK):
        pytest.skip("needs to write a site under /usr/local/lib (root, or a CI container)")
    site = Path(tempfile.mkdtemp(prefix="mllab-test-usr-site-", dir=parent))
    site.chmod(0o755)
    try:
        yield site
    finally:
        shutil.rmtree(site, ignore_errors=True)


def test_a_wheel_under_usr(wheel: Path, usr_site: Path, tmp_path: Path) -> None:
    # Under /usr, the bundled course is inside a system folder the sandbox shows read-only.
    pip_target(wheel, usr_site)
    env = dict(os.environ, PYTHONPATH=str(usr_site))
    assert_sandboxed_and_blind(graded_with_secret_seed(sys.executable, env, tmp_path))
