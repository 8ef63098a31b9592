"""The wheel carries the course, so a non-editable install works like a checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grading import REPO, stub_source

from mllab.catalog import load_catalog

pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return next(out.glob("mllab-*.whl"))


def test_wheel_ships_the_course_and_checks(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mllab/_course/exercises/catalog.toml" in names
    for exercise in load_catalog(REPO / "exercises" / "catalog.toml").exercises:
        assert f"mllab/_course/exercises/{exercise.path}" in names
        assert f"mllab/_course/exercises/{exercise.lesson}" in names
        assert f"mllab/_course/solutions/{exercise.path}" in names
        assert f"grader/checks/test_{exercise.id}.py" in names
    assert "grader/checks/pytest.ini" in names
    assert "mllab/styles/app.tcss" in names
    # The stubs are generated from the marked solutions at build time, markers gone.
    stub = zipfile.ZipFile(wheel).read("mllab/_course/exercises/perceptron/perceptron.py").decode()
    assert stub == stub_source("perceptron/perceptron.py")
    assert "BEGIN SOLUTION" not in stub and "NotImplementedError" in stub
    entry_points = zipfile.ZipFile(wheel).read("mllab-0.1.0.dist-info/entry_points.txt").decode()
    assert "mllab = mllab.cli:main" in entry_points and "mllab = grader.plugin" in entry_points


def test_installed_wheel_grades_its_bundled_solutions(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    bundled = site / "mllab" / "_course" / "solutions"
    probe = "from mllab.paths import course_dirs; print(course_dirs().exercises)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
        check=True,
    )  # fmt: skip
    assert result.stdout.strip() == str(site / "mllab" / "_course" / "exercises")
    graded = subprocess.run(
        # Two exercises (the test above shows every one is bundled): penguins and digits data.
        [sys.executable, "-m", "mllab", "check", "perceptron", "training_loop",
         "--workspace", str(bundled),
         "--device", "cpu", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    assert report["score"] == report["max_score"] > 0
