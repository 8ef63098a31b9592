"""Unit tests for the report's output formats: JSON, JUnit XML, Gradescope and plain text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from grader.formats import (
    FORMATS,
    clean_text,
    to_gradescope,
    to_json,
    to_junit_xml,
    to_text,
)
from grader.report import CheckResult, ExerciseResult, Report

NASTY = "got <tensor> & ]]> [/bold] \x1b[2J\x1b[31mred\x1b[0m\x00\x07 \ud800 \ufffe end"


def sample_report(errors: tuple[str, ...] = ()) -> Report:
    perceptron = ExerciseResult(
        "perceptron",
        "The perceptron",
        (
            CheckResult("test_fit", "passed", 2, 2, "cpu", title="Fits", duration=0.25),
            CheckResult(
                "test_step",
                "failed",
                0.5,
                3,
                "cpu",
                message="wrong sign\nexpected +1, got -1",
                output="debug print",
                duration=0.5,
            ),
            CheckResult("test_gpu", "not_run", 0, 5, "cuda", message="CUDA not available"),
        ),
    )
    linear_regression = ExerciseResult(
        "linear_regression",
        "Linear regression",
        (CheckResult("test_forward", "error", 0, 4, None, message="ZeroDivisionError: boom"),),
    )
    done = ExerciseResult("mlp", "MLP", (CheckResult("test_shape", "passed", 1, 1, "cpu"),))
    return Report((perceptron, linear_regression, done), errors=errors, created="now")


def nasty_report() -> Report:
    bad = CheckResult("test_<x>&", "failed", 0, 1, "cpu", message=NASTY, output=NASTY)
    skipped = CheckResult("test_s", "not_run", 0, 1, None, message=NASTY)
    crashed = CheckResult("test_e", "error", 0, 1, None, message="\x00\x1b[1m")
    return Report((ExerciseResult("ex&<", "T", (bad, skipped, crashed)),), errors=(NASTY,))


# JSON


def test_json_parses_and_matches_contract() -> None:
    report = sample_report(errors=("collection failed",))
    text = to_json(report)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "schema"')  # indent=2
    data = json.loads(text)
    assert data == report.to_dict()
    assert data["schema"] == "mllab-report/1"
    assert (data["score"], data["max_score"]) == (3.5, 10.0)
    assert data["exercises"][0]["checks"][1]["outcome"] == "failed"
    assert Report.from_dict(data) == report


def test_json_survives_lone_surrogates() -> None:
    text = to_json(nasty_report())
    text.encode("utf-8")  # would raise if a surrogate leaked through unescaped
    assert Report.from_dict(json.loads(text)) == nasty_report()


# JUnit


def _junit(report: Report) -> ET.Element:
    return ET.fromstring(to_junit_xml(report).encode("utf-8"))


def test_junit_structure_and_counts() -> None:
    xml = to_junit_xml(sample_report())
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = _junit(sample_report())
    assert root.tag == "testsuites" and root.get("name") == "mllab"
    expected = {"tests": "5", "failures": "1", "errors": "1", "skipped": "1", "time": "0.750"}
    assert {k: root.get(k) for k in expected} == expected
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["perceptron", "linear_regression", "mlp"]
    assert (suites[0].get("tests"), suites[0].get("failures"), suites[0].get("skipped")) == (
        "3",
        "1",
        "1",
    )
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["test_fit[cpu]", "test_step[cpu]", "test_gpu[cuda]"]
    assert {c.get("classname") for c in cases} == {"mllab.perceptron"}
    assert cases[0].get("time") == "0.250"
    assert list(cases[0]) == []  # a pass has no children


def test_junit_counts_each_outcome_separately() -> None:
    checks = tuple(
        CheckResult(f"t{i}", outcome, 0, 1, None)
        for i, outcome in enumerate(["not_run", "not_run", "error", "failed", "failed", "failed"])
    )
    root = _junit(Report((ExerciseResult("e", "E", checks),)))
    for element in (root, root.find("testsuite")):
        assert element is not None
        assert (element.get("skipped"), element.get("errors"), element.get("failures")) == (
            "2",
            "1",
            "3",
        )
        assert element.get("tests") == "6"


def test_junit_failure_error_skipped_and_output() -> None:
    root = _junit(sample_report())
    step = root.find("testsuite[@name='perceptron']/testcase[@name='test_step[cpu]']")
    assert step is not None
    failure = step.find("failure")
    assert failure is not None
    assert failure.get("message") == "wrong sign"
    assert failure.text == "wrong sign\nexpected +1, got -1"
    system_out = step.find("system-out")
    assert system_out is not None and system_out.text == "debug print"
    skipped = root.find(".//testcase[@name='test_gpu[cuda]']/skipped")
    assert skipped is not None and skipped.get("message") == "CUDA not available"
    # No device: no "[...]" suffix.
    crashed = root.find("testsuite[@name='linear_regression']/testcase[@name='test_forward']")
    assert crashed is not None
    error = crashed.find("error")
    assert error is not None and error.get("message") == "ZeroDivisionError: boom"
    assert crashed.find("system-out") is None


def test_junit_report_errors_count_as_errors() -> None:
    root = _junit(sample_report(errors=("worker did not start\ntraceback",)))
    assert root.get("errors") == "2" and root.get("tests") == "6"
    error = root.find("testsuite[@name='grader']/testcase/error")
    assert error is not None
    assert error.get("message") == "worker did not start"
    assert error.text == "worker did not start\ntraceback"


def test_junit_escapes_and_strips_illegal_characters() -> None:
    xml = to_junit_xml(nasty_report())
    for bad in ("\x1b", "\x00", "\x07", "\ud800", "\ufffe", "[2J", "[31m"):
        assert bad not in xml
    assert "]]>" not in xml  # escaped as ]]&gt;
    root = ET.fromstring(xml.encode("utf-8"))
    clean = "got <tensor> & ]]> [/bold] red   end"
    case = root.find("testsuite/testcase")
    assert case is not None
    assert root.find("testsuite").get("name") == "ex&<"  # type: ignore[union-attr]
    assert case.get("name") == "test_<x>&[cpu]"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == clean and failure.text == clean
    assert case.findtext("system-out") == clean
    skipped = root.find(".//testcase[@name='test_s']/skipped")
    assert skipped is not None and skipped.get("message") == clean
    assert root.find(".//testcase[@name='test_e']/error").get("message") == ""  # type: ignore[union-attr]
    assert root.find("testsuite[@name='grader']//error").text == clean  # type: ignore[union-attr]


def test_clean_text_keeps_ordinary_text() -> None:
    text = "tab\there\nnew line\nüñí 😀 [bold]x[/bold]"
    assert clean_text(text) == text
    assert clean_text("windows\r\nline") == "windows\nline"
    assert clean_text("a\x1b]0;title\x07b\x1b7c") == "abc"


# Gradescope


def test_gradescope_totals_and_tests() -> None:
    data = json.loads(to_gradescope(sample_report()))
    assert data["score"] == 3.5
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    assert data["output"] == "3.5/10 points; 2 passed, 1 failed, 1 error, 1 not run"
    tests = data["tests"]
    assert [t["number"] for t in tests] == ["1.1", "1.2", "1.3", "2.1", "3.1"]
    assert sum(t["score"] for t in tests) == data["score"]
    assert sum(t["max_score"] for t in tests) == 10.0  # the not-run check's 5 points excluded
    fit, step, gpu, forward, _ = tests
    assert fit == {
        "name": "perceptron: Fits [cpu]",
        "number": "1.1",
        "score": 2.0,
        "max_score": 2.0,
        "status": "passed",
        "output": "",
        "visibility": "visible",
    }
    assert step["name"] == "perceptron: test_step [cpu]"
    assert (step["score"], step["max_score"], step["status"]) == (0.5, 3.0, "failed")
    assert step["output"] == "wrong sign\nexpected +1, got -1\n\nYour output:\ndebug print"
    assert "status" not in gpu
    assert (gpu["score"], gpu["max_score"]) == (0, 0)
    assert gpu["output"] == "Not run: CUDA not available"
    assert forward["name"] == "linear_regression: test_forward"
    assert (forward["status"], forward["output"]) == ("failed", "ZeroDivisionError: boom")


def test_gradescope_report_errors_in_top_level_output() -> None:
    data = json.loads(to_gradescope(sample_report(errors=("collection failed",))))
    assert data["output"].endswith("\n\nGrader errors:\ncollection failed")


def test_gradescope_strips_escape_sequences() -> None:
    data = json.loads(to_gradescope(nasty_report()))
    assert "\x1b" not in data["tests"][0]["output"] and "\x00" not in data["output"]
    assert "[/bold]" in data["tests"][0]["output"]


# Text


def test_text_summary_lines() -> None:
    lines = to_text(sample_report()).splitlines()
    assert lines == [
        "perceptron         2.5/5  FAILED",
        "  test_step [cpu]  failed: wrong sign",
        "  test_gpu [cuda]  not run: CUDA not available",
        "linear_regression    0/4  ERROR",
        "  test_forward  error: ZeroDivisionError: boom",
        "mlp                  1/1  PASSED",
        "Total: 3.5/10 points; 2 passed, 1 failed, 1 error, 1 not run",
    ]


def test_text_shows_a_failures_hint_line() -> None:
    message = "dW1 differs at [3, 1]\nexpected -0.4, got 0.12\nHint: check the transpose"
    ex = ExerciseResult("mlp", "M", (CheckResult("grads", "failed", 0, 2, "cpu", message),))
    assert to_text(Report((ex,))).splitlines()[1:3] == [
        "  grads [cpu]  failed: dW1 differs at [3, 1]",
        "    Hint: check the transpose",
    ]


def test_text_report_errors_and_empty_report() -> None:
    text = to_text(Report((), errors=("collection failed\n  at line 3",)))
    assert text.endswith("\n")
    assert text.splitlines() == [
        "No exercises graded.",
        "Grader errors:",
        "  collection failed",
        "    at line 3",
        "Total: 0/0 points; 0 passed, 0 failed, 0 errors, 0 not run",
    ]


def test_text_strips_escape_sequences() -> None:
    text = to_text(nasty_report())
    assert "\x1b" not in text and "\x00" not in text
    assert "  test_<x>& [cpu]  failed: got <tensor> & ]]> [/bold] red" in text


def test_text_only_not_run_exercise() -> None:
    ex = ExerciseResult("gpu_only", "G", (CheckResult("t", "not_run", 0, 1, "cuda"),))
    assert to_text(Report((ex,))).splitlines()[:2] == [
        "gpu_only  0/0  NOT RUN",
        "  t [cuda]  not run",
    ]


@pytest.mark.parametrize("name", ["json", "junit", "gradescope", "text"])
def test_formats_registry(name: str) -> None:
    render = FORMATS[name]
    out = render(sample_report())
    assert isinstance(out, str) and out.endswith("\n")
    assert set(FORMATS) == {"json", "junit", "gradescope", "text"}
    assert FORMATS["json"] is to_json and FORMATS["junit"] is to_junit_xml
    assert FORMATS["gradescope"] is to_gradescope and FORMATS["text"] is to_text
