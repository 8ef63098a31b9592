"""Unit tests for the report model: scoring rules, the JSON contract and its strict loader."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from grader.report import (
    OUTCOMES,
    SCHEMA,
    CheckResult,
    ExerciseResult,
    Report,
    ReportError,
)


def check(outcome: str = "passed", points: float = 1.0, max_points: float = 1.0, **kw: Any):
    kw.setdefault("name", f"test_{outcome}")
    kw.setdefault("device", "cpu")
    return CheckResult(outcome=outcome, points=points, max_points=max_points, **kw)


def sample_report() -> Report:
    perceptron = ExerciseResult(
        "perceptron",
        "The perceptron",
        (
            check("passed", 2, 2, name="test_fit", title="Fits a separable set", duration=0.25),
            check("failed", 0.5, 3, name="test_step", message="wrong sign\ndetails", output="hi"),
            check("not_run", 0, 5, name="test_gpu", device="cuda", message="CUDA not available"),
        ),
    )
    mlp = ExerciseResult(
        "mlp",
        "A small MLP",
        (check("error", 0, 4, name="test_forward", device=None, message="boom", nodeid="a::b"),),
    )
    return Report((perceptron, mlp), seed_kind="hidden", errors=("one",), created="2024-01-01")


def test_exercise_score_sums_points_and_max_excludes_not_run() -> None:
    ex = sample_report().exercises[0]
    assert ex.score == 2.5
    # The 5-point CUDA check could not run, so only 2 + 3 are at stake.
    assert ex.max_score == 5.0


def test_report_totals_and_counts() -> None:
    report = sample_report()
    assert report.score == 2.5
    assert report.max_score == 9.0
    assert report.counts() == {"passed": 1, "failed": 1, "error": 1, "not_run": 1}
    assert list(report.counts()) == list(OUTCOMES)


def test_fractional_points_sum_exactly() -> None:
    ex = ExerciseResult("e", "E", tuple(check(points=0.1, max_points=0.1) for _ in range(10)))
    assert ex.score == 1.0
    assert ex.max_score == 1.0


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["passed", "passed"], True),
        (["passed", "not_run"], True),
        (["not_run"], False),  # nothing ran, so nothing was shown to work
        ([], False),
        (["passed", "failed"], False),
        (["passed", "error"], False),
    ],
)
def test_exercise_passed(outcomes: list[str], expected: bool) -> None:
    checks = tuple(check(o, points=0 if o != "passed" else 1) for o in outcomes)
    assert ExerciseResult("e", "E", checks).passed is expected


def test_all_passed() -> None:
    good = ExerciseResult("a", "A", (check("passed"), check("not_run", points=0)))
    assert Report((good,)).all_passed
    assert not Report((good,), errors=("collection failed",)).all_passed
    bad = ExerciseResult("b", "B", (check("error", points=0),))
    assert not Report((good, bad)).all_passed


def test_constructor_normalises_lists_and_ints() -> None:
    c = CheckResult("n", "passed", 1, 2, None)
    assert isinstance(c.points, float) and isinstance(c.max_points, float)
    ex = ExerciseResult("e", "E", [c])  # type: ignore[arg-type]
    assert ex.checks == (c,)
    report = Report([ex], errors=["x"])  # type: ignore[arg-type]
    assert report.exercises == (ex,) and report.errors == ("x",)
    hash(report)  # frozen all the way down


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"outcome": "skipped"}, "outcome: expected one of passed, failed, error, not_run"),
        ({"points": 3.0, "max_points": 2.0}, "exceeds max_points"),
        ({"points": -1.0}, "points: expected a finite number >= 0"),
        ({"duration": float("nan")}, "duration: expected a finite number"),
        ({"outcome": "not_run", "points": 1.0}, "did not run earns 0"),
    ],
)
def test_constructor_rejects_nonsense(kwargs: dict[str, Any], fragment: str) -> None:
    fields: dict[str, Any] = {"name": "n", "outcome": "passed", "points": 1.0, "max_points": 2.0}
    fields.update(kwargs)
    with pytest.raises(ReportError, match=fragment):
        CheckResult(device=None, **fields)


def test_to_dict_contract() -> None:
    data = sample_report().to_dict()
    assert data["schema"] == SCHEMA == "mllab-report/1"
    assert {"schema", "score", "max_score", "seed_kind", "errors", "created", "exercises"} <= set(
        data
    )
    assert data["score"] == 2.5 and data["max_score"] == 9.0
    assert data["seed_kind"] == "hidden" and data["errors"] == ["one"]
    ex = data["exercises"][0]
    assert (ex["id"], ex["score"], ex["max_score"], ex["passed"]) == ("perceptron", 2.5, 5.0, False)
    assert ex["checks"][0] == {
        "name": "test_fit",
        "title": "Fits a separable set",
        "outcome": "passed",
        "points": 2.0,
        "max_points": 2.0,
        "device": "cpu",
        "message": "",
        "nodeid": "",
        "duration": 0.25,
        "output": "",
    }
    assert data["exercises"][1]["checks"][0]["device"] is None
    # The contract is JSON: it must survive encoding without custom hooks.
    assert json.loads(json.dumps(data)) == data


def test_round_trip_is_identity() -> None:
    report = sample_report()
    data = report.to_dict()
    again = Report.from_dict(json.loads(json.dumps(data)))
    assert again == report
    assert again.to_dict() == data


def test_round_trip_empty_report() -> None:
    report = Report(())
    assert Report.from_dict(report.to_dict()) == report


def test_from_dict_accepts_integers_and_extra_keys() -> None:
    data = sample_report().to_dict()
    data["exercises"][0]["checks"][0]["points"] = 2
    data["exercises"][0]["checks"][0]["future_field"] = "ignored"
    data["generator"] = "mllab 9"
    loaded = Report.from_dict(data)
    assert loaded == sample_report()


def test_helpers_load_single_items() -> None:
    c = sample_report().exercises[0].checks[1]
    assert CheckResult.from_dict(c.to_dict()) == c
    ex = sample_report().exercises[1]
    assert ExerciseResult.from_dict(ex.to_dict()) == ex
    bad = c.to_dict() | {"outcome": "meh"}
    with pytest.raises(ReportError, match=r"^outcome: expected one of"):
        CheckResult.from_dict(bad)


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()
_C = ("exercises", 0, "checks")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("schema",), "mllab-report/2", "schema: expected 'mllab-report/1', got 'mllab-report/2'"),
        (("schema",), _DELETE, "schema: missing"),
        (("exercises",), _DELETE, "exercises: missing"),
        (("exercises",), {}, "exercises: expected a list, got dict"),
        (("exercises", 1), "mlp", "exercises[1]: expected an object, got str"),
        (("errors", 0), 3, "errors[0]: expected a string, got int"),
        (("seed_kind",), None, "seed_kind: expected a string, got null"),
        (("created",), _DELETE, "created: missing"),
        (("exercises", 1, "id"), 7, "exercises[1].id: expected a string, got int"),
        (("exercises", 1, "id"), "perceptron", "exercises[1].id: duplicate exercise id"),
        (("exercises", 0, "passed"), "no", "exercises[0].passed: expected true or false, got str"),
        (("exercises", 0, "passed"), True, "exercises[0].passed: True does not match"),
        (("exercises", 0, "score"), 3.0, "exercises[0].score: 3.0 does not match"),
        (("exercises", 0, "max_score"), 10.0, "exercises[0].max_score: 10.0 does not match"),
        (("score",), 99.0, "score: 99.0 does not match"),
        (("exercises", 0, "checks"), None, "exercises[0].checks: expected a list, got null"),
        (
            (*_C, 2, "outcome"),
            "skipped",
            "exercises[0].checks[2].outcome: expected one of passed, failed, error, not_run",
        ),
        ((*_C, 2, "outcome"), _DELETE, "exercises[0].checks[2].outcome: missing"),
        ((*_C, 1, "points"), "1", "exercises[0].checks[1].points: expected a number, got str"),
        ((*_C, 1, "points"), True, "exercises[0].checks[1].points: expected a number, got bool"),
        ((*_C, 1, "points"), float("inf"), "exercises[0].checks[1].points: expected a finite"),
        ((*_C, 1, "points"), 4.0, "exercises[0].checks[1].points: 4.0 exceeds max_points 3.0"),
        ((*_C, 2, "points"), 1.0, "exercises[0].checks[2].points: a check that did not run"),
        ((*_C, 0, "device"), 0, "exercises[0].checks[0].device: expected a string or null"),
        ((*_C, 0, "name"), _DELETE, "exercises[0].checks[0].name: missing"),
        ((*_C, 0, "message"), None, "exercises[0].checks[0].message: expected a string"),
        ((*_C, 0, "duration"), -1, "exercises[0].checks[0].duration: expected a finite number"),
        ((*_C, 0, "output"), b"x", "exercises[0].checks[0].output: expected a string, got bytes"),
        ((*_C, 0), [], "exercises[0].checks[0]: expected an object, got list"),
    ],
)
def test_from_dict_errors_name_the_key_path(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    data = copy.deepcopy(sample_report().to_dict())
    _set(data, path, value)
    with pytest.raises(ReportError) as info:
        Report.from_dict(data)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_from_dict_rejects_non_object_root() -> None:
    with pytest.raises(ReportError, match="^report: expected an object, got list"):
        Report.from_dict([])
