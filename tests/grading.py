"""Helpers for tests that run the real grader end to end through `mllab check`."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / "perceptron" / "perceptron.py"
PREDICT_BODY = "    z = X @ w + b\n"


@functools.cache
def stubs_workspace() -> Path:
    """A workspace of every exercise's generated stub (the checkout keeps no stub files)."""
    from mllab.course import load_course_catalog, write_stubs
    from mllab.paths import course_dirs

    dirs = course_dirs()
    folder = Path(tempfile.mkdtemp(prefix="mllab-test-stubs-"))
    write_stubs(dirs, load_course_catalog(dirs).exercises, folder)
    return folder


def stub_source(relative: str = "perceptron/perceptron.py") -> str:
    """The generated stub at a catalog path."""
    return (stubs_workspace() / relative).read_text(encoding="utf-8")


@dataclass
class Graded:
    code: int
    report: dict[str, Any]
    stderr: str

    def checks(self, device: str = "cpu") -> dict[str, dict[str, Any]]:
        return {
            check["name"]: check
            for exercise in self.report["exercises"]
            for check in exercise["checks"]
            if check["device"] in (device, None)
        }


def mllab(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def grade(workspace: Path, *extra: str, exercise: str = "perceptron") -> Graded:
    """`mllab check EXERCISE` on a workspace, cpu only, with the JSON report parsed."""
    result = mllab(
        "check", exercise, "--workspace", str(workspace), "--device", "cpu", "--format", "json",
        *extra,
    )  # fmt: skip
    return Graded(result.returncode, json.loads(result.stdout), result.stderr)


def workspace_with(tmp_path: Path, source: str, relative: str = "perceptron/perceptron.py") -> Path:
    """A workspace whose file at `relative` (by default the perceptron's) holds `source`."""
    target = tmp_path / "ws" / relative
    target.parent.mkdir(parents=True)
    target.write_text(source, encoding="utf-8")
    return tmp_path / "ws"


def solution_with(predict_prefix: str = "", module_prefix: str = "") -> str:
    """The reference solution, with lines run at import and/or at the start of predict()."""
    source = SOLUTION.read_text(encoding="utf-8")
    assert PREDICT_BODY in source
    if predict_prefix:
        indented = "".join(f"    {line}\n" for line in predict_prefix.strip("\n").splitlines())
        source = source.replace(PREDICT_BODY, indented + PREDICT_BODY)
    return source.replace("import torch\n", f"import torch\n{module_prefix}\n", 1)


def wrong_source(path: Path) -> str:
    """A whole learner file for a wrong implementation under tests/wrong/<exercise>/.

    A wrong file holds only what differs from the reference solution (its mistake, plus the
    imports it needs); appended to the solution, its definitions replace the right ones.
    """
    from mllab.catalog import load_catalog

    exercise = load_catalog(REPO / "exercises" / "catalog.toml").get(path.parent.name)
    solution = (REPO / "solutions" / exercise.path).read_text(encoding="utf-8")
    mistake = "".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith("from __future__ import")
    )
    marker = "# The mistake: these definitions replace the ones above."
    return f"{solution.rstrip()}\n\n\n{marker}\n{mistake}"


def wrong_file(path: Path, folder: Path) -> Path:
    """`wrong_source(path)` written to a file in `folder`, for tests that copy files around."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.parent.name}-{path.name}"
    target.write_text(wrong_source(path), encoding="utf-8")
    return target
