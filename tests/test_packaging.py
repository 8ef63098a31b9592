"""The self-study wheel carries the course, so a non-editable install works like a checkout; its
name is mllab-edu (PyPI's "mllab" is someone else's), and the command stays `mllab`."""

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
from mllab.release import wheel as editions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return next(out.glob("mllab_edu-*.whl"))


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
    entry_points = (
        zipfile.ZipFile(wheel).read("mllab_edu-0.1.0.dist-info/entry_points.txt").decode()
    )
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


def test_both_editions_share_the_free_name_and_the_command() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == editions.DISTRIBUTION == "mllab-edu"
    assert project["scripts"] == {"mllab": "mllab.cli:main"}
    assert "mllab = mllab.cli:main" in editions.ENTRY_POINTS
    # The student edition installs what the self-study one does.
    assert editions.dependencies() == project["dependencies"]


def test_the_student_edition_leaves_out_the_self_study_course(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    (course / "exercises" / "catalog.toml").write_text("[course]\n")
    built = editions.build_student_wheel(course, tmp_path / "wheels")
    assert built.name.startswith("mllab_edu-0.1.0+student.")
    names = zipfile.ZipFile(built).namelist()
    assert "mllab/_course/exercises/catalog.toml" in names and "mllab/cli.py" in names
    assert not [n for n in names if "solutions" in n or n.startswith("grader/checks/test_")]
    assert not [n for n in names if n.endswith(".pyc")]
