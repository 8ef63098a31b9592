"""Every wrong implementation under tests/wrong/ fails (at least) the checks its docstring names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from grading import REPO, grade, workspace_with

from mllab.catalog import load_catalog

CATALOG = load_catalog(REPO / "exercises" / "catalog.toml")
WRONG = REPO / "tests" / "wrong"
CASES = sorted(WRONG.glob("*/*.py"))


def expected_failures(path: Path) -> set[str]:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = doc.splitlines()[0] if doc else ""
    assert first.startswith("Expect failing:"), f"{path}: docstring must start 'Expect failing:'"
    return {name.strip() for name in first.removeprefix("Expect failing:").split(",")}


def test_every_exercise_has_at_least_three_wrong_implementations() -> None:
    for exercise in CATALOG.exercises:
        count = len(list((WRONG / exercise.id).glob("*.py")))
        assert count >= 3, f"{exercise.id} has {count} wrong implementations; write at least 3"


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_wrong_implementation_is_caught(tmp_path: Path, path: Path) -> None:
    exercise = CATALOG.get(path.parent.name)
    workspace = workspace_with(tmp_path, path.read_text(encoding="utf-8"), exercise.path)
    graded = grade(workspace, exercise=exercise.id)
    outcomes = {name: check["outcome"] for name, check in graded.checks().items()}
    failing = {name for name, outcome in outcomes.items() if outcome != "passed"}
    expected = expected_failures(path)
    assert expected <= failing, f"{sorted(failing)} should include {sorted(expected)}"
    # A wrong answer fails cleanly: a check that crashes (error) would hide the learner's mistake.
    assert not [n for n, o in outcomes.items() if o == "error"], outcomes
    messages = " ".join(check["message"] for check in graded.checks().values())
    assert "missing from the workspace" not in messages, "the file is not at the catalog's path"
    assert graded.code == 1
