"""End-to-end tests of the grader's pytest plugin (grader.plugin), run through pytester."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from grading import stubs_workspace

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = stubs_workspace()
CUDA = torch.cuda.is_available()

# Like the app: no autoloaded plugins (hypothesis alone costs a second a run), the grader's by name.
BASE_ARGS = ("-p", "no:cacheprovider", "-p", "grader.plugin")

CHECKS = '''
"""Checks that call the learner's predict through the sandboxed worker."""

import pytest

pytestmark = pytest.mark.exercise("perceptron")


@pytest.mark.points(3)
def test_predict_signs(submission, device):
    """predict gives 1 on the positive side and 0 on the negative side

    Only the first line of the docstring is the title.
    """
    import torch

    w = torch.tensor([1.0, -1.0], device=device)
    b = torch.tensor(0.0, device=device)
    X = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 1.0]], device=device)
    got = submission.predict(w, b, X)
    assert got.cpu().tolist() == [1.0, 0.0, 1.0], "predict disagrees with the expected signs"
'''

MIXED = '''
"""Checks that fail, break and stream metrics without calling the learner."""

import pytest

pytestmark = pytest.mark.exercise("perceptron")


def test_wrong_answer():
    """a failing assertion is the learner's failure"""
    value = 2
    assert value == 1, "boom-assert: expected 1"


def test_grader_bug():
    """an exception in check code is the grader's error"""
    raise ValueError("grader-bug")


def test_live_metrics(metrics):
    """streams live metrics"""
    metrics.emit("loss", 0.5, step=1)
    metrics.emit("loss", float("nan"), step=2)
    metrics.emit("accuracy", float("inf"))
'''

SEED = '''
"""A check that records the seed fixture's value."""

import os
import pathlib

import pytest

pytestmark = pytest.mark.exercise("perceptron")


def test_seed_value(seed):
    """records its seed"""
    pathlib.Path(os.environ["MLLAB_TEST_SEED_FILE"]).write_text(str(seed))
'''

# A learner file that prints (with a colour escape and rich-like markup) and is correct.
NOISY_LEARNER = """
import torch


def predict(w, b, X):
    print("\\x1b[31mred alert\\x1b[0m and [/bold] markup")
    return (X @ w + b >= 0).to(X.dtype)
"""


@pytest.fixture(autouse=True)
def _no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run(pytester: pytest.Pytester, *args: Any) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*BASE_ARGS, *map(str, args), timeout=180)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def read_events(path: Path) -> list[dict[str, Any]]:
    """The event stream, parsed as strict JSON (NaN or Infinity tokens are an error)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line, parse_constant=_reject_constant) for line in lines]


def checks_by_nodeid(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        check["nodeid"]: check for exercise in report["exercises"] for check in exercise["checks"]
    }


def test_markers_are_registered_by_the_autoloaded_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one run that relies on the `pytest11` entry point instead of `-p grader.plugin`.
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--markers", timeout=180)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.exercise(id): ties a check to the exercise it grades",
            "@pytest.mark.points(n): what a check is worth (default 1)",
        ]
    )


def _positions(events: list[dict[str, Any]], kind: str, nodeid: str) -> list[int]:
    return [
        i
        for i, event in enumerate(events)
        if event["event"] == kind and event["check"]["nodeid"] == nodeid
    ]


def _assert_event_stream(events: list[dict[str, Any]], report: dict[str, Any]) -> None:
    kinds = [event["event"] for event in events]
    assert set(kinds) <= {
        "run_started",
        "check_started",
        "metric",
        "output",
        "check_finished",
        "run_finished",
    }
    assert kinds[0] == "run_started" and kinds.count("run_started") == 1
    assert kinds[-1] == "run_finished" and kinds.count("run_finished") == 1
    started = events[0]
    assert started["schema"] == "mllab-events/1"
    assert started["seed_kind"] == "public"
    assert started["devices"] == ["cpu", "cuda"]
    results = checks_by_nodeid(report)
    assert [check["nodeid"] for check in started["checks"]] == list(results)
    announced = {check["nodeid"]: check for check in started["checks"]}
    assert announced["test_checks.py::test_predict_signs[cpu]"]["max_points"] == 3.0
    assert announced["test_checks.py::test_predict_signs[cpu]"]["exercise"] == "perceptron"

    for nodeid, result in results.items():
        begin = _positions(events, "check_started", nodeid)
        end = _positions(events, "check_finished", nodeid)
        assert len(begin) == 1 and len(end) == 1, nodeid
        assert begin[0] < end[0], nodeid
        assert events[end[0]]["exercise"] == "perceptron"
        assert events[end[0]]["check"] == result

    metrics_id = "test_mixed.py::test_live_metrics"
    metrics = [e for e in events if e["event"] == "metric"]
    assert [(m["check"], m["exercise"], m["name"], m["step"], m["value"]) for m in metrics] == [
        (metrics_id, "perceptron", "loss", 1, 0.5),
        (metrics_id, "perceptron", "loss", 2, "nan"),
        (metrics_id, "perceptron", "accuracy", None, "inf"),
    ]
    begin = _positions(events, "check_started", metrics_id)[0]
    end = _positions(events, "check_finished", metrics_id)[0]
    assert all(begin < events.index(m) < end for m in metrics)
    assert events[-1]["report"] == report


def test_solutions_workspace_report_and_event_stream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS, test_mixed=MIXED)
    report_path = pytester.path / "report.json"
    events_path = pytester.path / "events.jsonl"
    result = run(
        pytester,
        "--strict-markers",
        f"--mllab-workspace={SOLUTIONS}",
        f"--mllab-report={report_path}",
        f"--mllab-events={events_path}",
    )
    # One learner failure and one grader error; markers are known under --strict-markers.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2 + CUDA, failed=2, skipped=0 if CUDA else 1)

    report = load_json(report_path)
    assert report["schema"] == "mllab-report/1"
    assert report["seed_kind"] == "public"
    assert report["errors"] == []
    assert [exercise["id"] for exercise in report["exercises"]] == ["perceptron"]
    exercise = report["exercises"][0]
    assert exercise["title"] == "The perceptron"
    checks = checks_by_nodeid(report)
    assert list(checks) == [
        "test_checks.py::test_predict_signs[cpu]",
        "test_checks.py::test_predict_signs[cuda]",
        "test_mixed.py::test_wrong_answer",
        "test_mixed.py::test_grader_bug",
        "test_mixed.py::test_live_metrics",
    ]

    cpu = checks["test_checks.py::test_predict_signs[cpu]"]
    assert cpu["name"] == "predict_signs"
    assert cpu["title"] == "predict gives 1 on the positive side and 0 on the negative side"
    assert (cpu["outcome"], cpu["points"], cpu["max_points"]) == ("passed", 3.0, 3.0)
    assert cpu["device"] == "cpu"
    assert cpu["message"] == ""

    cuda = checks["test_checks.py::test_predict_signs[cuda]"]
    assert cuda["device"] == "cuda" and cuda["max_points"] == 3.0
    if not CUDA:
        assert (cuda["outcome"], cuda["points"]) == ("not_run", 0.0)
        assert "CUDA" in cuda["message"]

    wrong = checks["test_mixed.py::test_wrong_answer"]
    assert (wrong["outcome"], wrong["points"], wrong["max_points"]) == ("failed", 0.0, 1.0)
    assert wrong["message"].startswith("boom-assert: expected 1")
    assert wrong["device"] is None
    assert wrong["title"] == "a failing assertion is the learner's failure"

    bug = checks["test_mixed.py::test_grader_bug"]
    assert (bug["outcome"], bug["points"]) == ("error", 0.0)
    assert "ValueError" in bug["message"] and "grader-bug" in bug["message"]

    assert checks["test_mixed.py::test_live_metrics"]["outcome"] == "passed"

    # Passed: 3 (cpu) + 1 (metrics); at stake: everything that ran (cuda only with CUDA).
    score, max_score = 4.0 + 3.0 * CUDA, 6.0 + 3.0 * CUDA
    assert (exercise["score"], exercise["max_score"]) == (score, max_score)
    assert (report["score"], report["max_score"]) == (score, max_score)
    assert exercise["passed"] is False

    _assert_event_stream(read_events(events_path), report)


def test_exercises_workspace_cpu_only_and_selected_exercise(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    report_path = pytester.path / "report.json"
    result = run(
        pytester,
        f"--mllab-workspace={EXERCISES}",
        "--mllab-device=cpu",
        "--mllab-exercise=perceptron",
        f"--mllab-report={report_path}",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    checks = checks_by_nodeid(load_json(report_path))
    # Only the cpu variant exists; the stub's NotImplementedError is the learner's failure.
    assert list(checks) == ["test_checks.py::test_predict_signs[cpu]"]
    check = checks["test_checks.py::test_predict_signs[cpu]"]
    assert (check["outcome"], check["points"], check["max_points"]) == ("failed", 0.0, 3.0)
    assert check["device"] == "cpu"
    assert "NotImplementedError" in check["message"] and "predict" in check["message"]


def test_cuda_only_run_reports_not_run_and_exits_zero(pytester: pytest.Pytester) -> None:
    if CUDA:
        pytest.skip("CUDA is available here, so the cuda checks really run")
    pytester.makepyfile(test_checks=CHECKS)
    report_path = pytester.path / "report.json"
    result = run(
        pytester,
        f"--mllab-workspace={SOLUTIONS}",
        "--mllab-device=cuda",
        f"--mllab-report={report_path}",
    )
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
    report = load_json(report_path)
    checks = checks_by_nodeid(report)
    assert list(checks) == ["test_checks.py::test_predict_signs[cuda]"]
    assert {check["outcome"] for check in checks.values()} == {"not_run"}
    assert "CUDA" in checks["test_checks.py::test_predict_signs[cuda]"]["message"]
    assert (report["score"], report["max_score"]) == (0.0, 0.0)
    assert report["exercises"][0]["passed"] is False


def test_unselected_exercise_is_deselected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    report_path = pytester.path / "report.json"
    result = run(
        pytester,
        f"--mllab-workspace={SOLUTIONS}",
        "--mllab-exercise=other",
        f"--mllab-report={report_path}",
    )
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*2 deselected*"])
    report = load_json(report_path)
    assert report["exercises"] == [] and report["errors"] == []
    assert (report["score"], report["max_score"]) == (0.0, 0.0)


def test_event_stream_of_a_run_without_checks_starts_with_run_started(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_seed=SEED)
    events_path = pytester.path / "events.jsonl"
    result = run(
        pytester,
        "--mllab-exercise=other",
        f"--mllab-report={pytester.path / 'report.json'}",
        f"--mllab-events={events_path}",
    )
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    kinds = [event["event"] for event in read_events(events_path)]
    assert kinds[-1] == "run_finished"
    assert kinds[0] == "run_started"


def test_learner_output_is_captured_without_escape_sequences(
    pytester: pytest.Pytester,
) -> None:
    workspace = pytester.mkdir("workspace")
    (workspace / "perceptron").mkdir()
    (workspace / "perceptron" / "perceptron.py").write_text(NOISY_LEARNER, encoding="utf-8")
    pytester.makepyfile(test_checks=CHECKS)
    report_path = pytester.path / "report.json"
    events_path = pytester.path / "events.jsonl"
    result = run(
        pytester,
        "--strict-markers",
        f"--mllab-workspace={workspace}",
        "--mllab-device=cpu",
        f"--mllab-report={report_path}",
        f"--mllab-events={events_path}",
    )
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    nodeid = "test_checks.py::test_predict_signs[cpu]"
    check = checks_by_nodeid(load_json(report_path))[nodeid]
    assert check["outcome"] == "passed"
    assert "red alert and [/bold] markup" in check["output"]
    assert "\x1b" not in check["output"] and "[31m" not in check["output"]

    events = read_events(events_path)
    outputs = [event for event in events if event["event"] == "output"]
    assert len(outputs) == 1
    assert outputs[0]["check"] == nodeid and outputs[0]["exercise"] == "perceptron"
    assert outputs[0]["text"] == check["output"]
    kinds = [event["event"] for event in events]
    assert kinds.index("output") < kinds.index("check_finished")


def test_seed_kind_and_seed_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_seed=SEED)
    seed_file = pytester.path / "seed.txt"
    monkeypatch.setenv("MLLAB_TEST_SEED_FILE", str(seed_file))
    seen: dict[str, tuple[str, int]] = {}
    runs = {"default": (), "zero": ("--mllab-seed=0",), "secret": ("--mllab-seed=7",)}
    for label, args in runs.items():
        report_path = pytester.path / f"report-{label}.json"
        seed_file.unlink(missing_ok=True)
        result = run(pytester, *args, f"--mllab-report={report_path}")
        assert result.ret == pytest.ExitCode.OK, label
        seen[label] = (load_json(report_path)["seed_kind"], int(seed_file.read_text()))
    assert seen["default"][0] == "public" and seen["zero"][0] == "public"
    assert seen["secret"][0] == "secret"
    assert seen["default"][1] == seen["zero"][1]
    assert seen["secret"][1] != seen["zero"][1]


def test_plugin_is_inert_for_an_ordinary_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import pytest

        def test_ok():
            assert 1 + 1 == 2

        def test_broken():
            assert 1 + 1 == 3

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass
        """
    )
    events_path = pytester.path / "events.jsonl"
    result = run(pytester, f"--mllab-events={events_path}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*assert (1 + 1) == 3*"])
    assert list(pytester.path.glob("*.json")) == []
    # Asked for events, the stream still opens and closes, with no checks in it.
    events = [json.loads(line) for line in events_path.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in events] == ["run_started", "run_finished"]
    assert events[0]["checks"] == [] and events[1]["report"]["exercises"] == []


def test_check_module_that_fails_to_import_is_a_report_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_broken="""
        import pytest

        pytestmark = pytest.mark.exercise("perceptron")

        def test_oops(:
            pass
        """
    )
    report_path = pytester.path / "report.json"
    result = run(pytester, f"--mllab-report={report_path}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = load_json(report_path)
    assert report["exercises"] == []
    assert len(report["errors"]) == 1
    assert report["errors"][0].startswith("could not load checks from test_broken.py")
    assert "SyntaxError" in report["errors"][0]


def test_invalid_device_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_seed=SEED)
    result = run(pytester, "--mllab-device=gpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mllab-device must be cpu, cuda or all*'gpu'*"])
    # The ini key goes through the same check.
    pytester.makeini("[pytest]\nmllab_device = gpu\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cpu, cuda or all*"])
