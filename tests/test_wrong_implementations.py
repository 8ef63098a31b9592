"""Every wrong implementation under tests/wrong/ fails (at least) the checks its docstring names.

A wrong file holds only its mistake: the definitions that differ from the reference solution,
which `wrong_source` appends to the solution so that they replace the right ones.

To keep the suite fast, the files are graded in rounds: each round is one workspace holding one
wrong file per exercise (the k-th of each), graded in one run. A failure names the file.
MLLAB_WRONG=perceptron,vae grades only those exercises' files (for authors at work).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from grading import REPO, wrong_source

from mllab.catalog import load_catalog
from mllab.runner import GraderRun, RunRequest
from mllab.warm import WarmGrader

CATALOG = load_catalog(REPO / "exercises" / "catalog.toml")
WRONG = REPO / "tests" / "wrong"
ONLY = {name for name in os.environ.get("MLLAB_WRONG", "").split(",") if name}
BY_EXERCISE = {
    e.id: sorted((WRONG / e.id).glob("*.py")) for e in CATALOG.exercises if not ONLY or e.id in ONLY
}
ROUNDS = [
    {exercise_id: files[k] for exercise_id, files in BY_EXERCISE.items() if k < len(files)}
    for k in range(max(map(len, BY_EXERCISE.values()), default=0))
]


def expected_failures(path: Path) -> set[str]:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = doc.splitlines()[0] if doc else ""
    assert first.startswith("Expect failing:"), f"{path}: docstring must start 'Expect failing:'"
    return {name.strip() for name in first.removeprefix("Expect failing:").split(",")}


def test_every_exercise_has_at_least_three_wrong_implementations() -> None:
    for exercise_id, files in BY_EXERCISE.items():
        assert len(files) >= 3, f"{exercise_id} has {len(files)} wrong implementations; write 3+"


def test_no_wrong_implementation_for_an_unknown_exercise() -> None:
    folders = {path.name for path in WRONG.iterdir() if path.is_dir()}
    assert folders <= set(CATALOG.ids), f"not in the catalog: {sorted(folders - set(CATALOG.ids))}"


def problems_with(path: Path, checks: list[dict]) -> list[str]:
    """Why this wrong file is not caught as it should be (nothing when it is)."""
    where = f"{path.parent.name}/{path.name}"
    outcomes = {check["name"]: check["outcome"] for check in checks if check["device"] != "cuda"}
    failing = {name for name, outcome in outcomes.items() if outcome != "passed"}
    problems = []
    missed = expected_failures(path) - failing
    if missed:
        problems.append(f"{where}: passes {sorted(missed)}, which should fail")
    crashed = sorted(name for name, outcome in outcomes.items() if outcome == "error")
    if crashed:
        # A wrong answer fails cleanly: a check that crashes would hide the learner's mistake.
        problems.append(f"{where}: checks error instead of failing: {crashed}")
    if any("missing from the workspace" in check["message"] for check in checks):
        problems.append(f"{where}: the file was not found at the catalog's path")
    return problems


@pytest.mark.parametrize(
    "number", range(len(ROUNDS)), ids=[f"round{k + 1}" for k in range(len(ROUNDS))]
)
def test_wrong_implementations_are_caught(tmp_path: Path, warm: WarmGrader, number: int) -> None:
    chosen = ROUNDS[number]
    for exercise_id, path in chosen.items():
        target = tmp_path / CATALOG.get(exercise_id).path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wrong_source(path), encoding="utf-8")
    # Warm: tests/test_warm.py shows its verdicts are a cold run's, at a fraction of the time.
    request = RunRequest(tmp_path, tuple(chosen), "cpu")
    report = GraderRun(request, warm=warm).run().to_dict()
    graded = {exercise["id"]: exercise["checks"] for exercise in report["exercises"]}
    problems = [f"{exercise_id}: not graded" for exercise_id in chosen if exercise_id not in graded]
    for exercise_id, path in chosen.items():
        problems += problems_with(path, graded.get(exercise_id, []))
    assert not problems, "\n".join(problems)
