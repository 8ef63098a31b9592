"""Stubs generated from marked solutions; the TODO rule; `mllab dev new` scaffolding."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from grading import REPO, mllab

from mllab.course import load_course_catalog, reference_text, stub_text
from mllab.paths import course_dirs
from mllab.stubs import StubError, clean_solution, make_stub
from mllab.todos import dictates_code, share, todo_lines

MARKED = '''"""A module."""

import math


def area(r):
    """The area of a circle of radius r."""
    # TODO: the area of a circle, from its radius.
    # BEGIN SOLUTION
    return math.pi * r**2
    # END SOLUTION


# BEGIN SOLUTION
def _helper():
    return 1
# END SOLUTION


class Shape:
    def grow(self, k):
        """k times bigger."""
        # BEGIN SOLUTION
        self.k = k
        return self
        # END SOLUTION
'''


def test_a_region_in_a_function_becomes_a_raise_naming_it() -> None:
    stub = make_stub(MARKED, "circles")
    assert 'raise NotImplementedError("circles: implement area")' in stub
    assert '        raise NotImplementedError("circles: implement grow")' in stub
    assert "math.pi" not in stub and "self.k" not in stub and "BEGIN" not in stub
    assert "# TODO: the area of a circle, from its radius." in stub
    assert '"""The area of a circle of radius r."""' in stub  # the docstring is the spec


def test_a_module_level_region_disappears_with_its_blank_lines() -> None:
    stub = make_stub(MARKED, "circles")
    assert "_helper" not in stub
    assert "\n\n\n\n" not in stub
    ast.parse(stub)


def test_the_reference_view_drops_markers_and_the_todo_above_them() -> None:
    clean = clean_solution(MARKED)
    assert "BEGIN" not in clean and "END SOLUTION" not in clean and "TODO" not in clean
    assert "return math.pi * r**2" in clean and "def _helper" in clean
    ast.parse(clean)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
        ("def f():\n    return 1\n    # END SOLUTION\n", "without a # BEGIN SOLUTION"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n", "inside another region"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", "not indented like"),
        ("def f():\n    return 1  # BEGIN SOLUTION\n", "a comment line of its own"),
        ("def f():\n    return 1\n", "no # BEGIN SOLUTION"),
        ("def f(:\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n", "not valid Python"),
    ],
)
def test_bad_markers_are_named_with_their_line(source: str, problem: str) -> None:
    with pytest.raises(StubError, match=problem):
        make_stub(source, "x", where="sol.py")


def test_every_shipped_solution_makes_a_stub_that_fails_each_marked_function() -> None:
    dirs = course_dirs()
    for exercise in load_course_catalog(dirs).exercises:
        solution = (dirs.solutions / exercise.path).read_text(encoding="utf-8")
        stub = stub_text(dirs, exercise)
        ast.parse(stub)
        assert "BEGIN SOLUTION" not in stub and f'"{exercise.id}: implement' in stub
        assert len(stub) < len(solution), exercise.id
        view = reference_text(dirs, exercise)
        assert view is not None and "BEGIN SOLUTION" not in view and "# TODO" not in view


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("# TODO: compute z = X @ w + b and compare it with 0", True),
        ("#       return the pair (w + lr * error * x, b + lr * error).", True),
        ("#       convert it with .to(X.dtype)", True),
        ("#       take np.sqrt of the sum", True),
        ("#       index with y_train[neighbours]", True),
        ("# TODO: apply Rosenblatt's rule from the docstring to this one example.", False),
        ("#       Return new tensors; the caller's w and b must keep their values.", False),
        ("#       A point with z == 0 counts as class 1.", False),
        ("#       Sum over the latents (dim 1), then average over the batch.", False),
    ],
)
def test_a_todo_line_dictates_code_when_it_reads_as_code(line: str, code: bool) -> None:
    assert dictates_code(line) is code


def test_todo_blocks_end_at_code_and_at_markers() -> None:
    source = "x = 1\n# TODO: goal\n#   z = a @ b\n# BEGIN SOLUTION\n# a comment\ny = 2\n# other\n"
    lines = todo_lines(source)
    assert [line.line for line in lines] == [2, 3]
    assert share(lines) == 0.5 and share([]) == 0.0


def _course_copy(tmp_path: Path) -> Path:
    """A course folder of its own (exercises, solutions, an empty checks folder)."""
    course = tmp_path / "course"
    shutil.copytree(REPO / "exercises", course / "exercises")
    shutil.copytree(REPO / "solutions", course / "solutions")
    (course / "checks").mkdir()
    shutil.copy(REPO / "grader" / "checks" / "pytest.ini", course / "checks")
    return course


@pytest.mark.slow
def test_dev_new_scaffolds_an_exercise_that_dev_check_accepts(tmp_path: Path) -> None:
    course = _course_copy(tmp_path)
    made = mllab("--course", str(course), "dev", "new", "demo", "--track", "Extras")
    assert made.returncode == 0, made.stdout + made.stderr
    for relative in ("solutions/demo/demo.py", "exercises/demo/lesson.md", "checks/test_demo.py"):
        assert (course / relative).is_file(), relative
    assert len(list((course / "tests" / "wrong" / "demo").glob("*.py"))) >= 3
    listed = mllab("--course", str(course), "list")
    assert "demo" in listed.stdout and "Extras" in listed.stdout
    checked = mllab("--course", str(course), "dev", "check", "demo")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All exercises are consistent" in checked.stdout
    again = mllab("--course", str(course), "dev", "new", "demo")
    assert again.returncode == 2 and "already in" in again.stdout


def test_dev_check_refuses_a_hand_kept_stub(tmp_path: Path) -> None:
    course = _course_copy(tmp_path)
    (course / "exercises" / "perceptron" / "perceptron.py").write_text("x = 1\n")
    checked = mllab("--course", str(course), "dev", "check", "perceptron")
    assert checked.returncode == 1
    # The shipped stub would win over the generated one, so dev check names it.
    assert "stubs are generated" in " ".join(checked.stdout.split())
