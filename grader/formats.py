"""Render a Report as JSON, JUnit XML, Gradescope results.json or a plain-text summary."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from grader.report import ERROR, FAILED, NOT_RUN, PASSED, CheckResult, ExerciseResult, Report
from grader.sandbox.output import clean

# Everything XML 1.0 forbids: C0 controls except tab/newline/CR, lone surrogates, U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str) -> str:
    """Text without terminal escape sequences and without the characters XML 1.0 forbids."""
    return _XML_ILLEGAL.sub("", clean(text))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _num(value: float) -> str:
    """Points for people: 4, 2.5, 0.33 (never 4.0 or 0.30000000000000004)."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def _summary(report: Report) -> str:
    counts = report.counts()
    return (
        f"{_num(report.score)}/{_num(report.max_score)} points; "
        f"{counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts[ERROR]} error{'' if counts[ERROR] == 1 else 's'}, "
        f"{counts[NOT_RUN]} not run"
    )


def to_json(report: Report) -> str:
    """The report's JSON contract (schema mllab-report/1), indented, with a trailing newline."""
    # ASCII escapes keep stray surrogates in learner output encodable; NaN is not JSON.
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


def _suite_counts(checks: Iterable[CheckResult]) -> dict[str, str]:
    checks = tuple(checks)
    return {
        "tests": str(len(checks)),
        "failures": str(sum(check.outcome == FAILED for check in checks)),
        "errors": str(sum(check.outcome == ERROR for check in checks)),
        "skipped": str(sum(check.outcome == NOT_RUN for check in checks)),
        "time": f"{sum(check.duration for check in checks):.3f}",
    }


def _testcase(parent: ET.Element, exercise: ExerciseResult, check: CheckResult) -> None:
    name = check.name if check.device is None else f"{check.name}[{check.device}]"
    case = ET.SubElement(
        parent,
        "testcase",
        {
            "classname": clean_text(f"mllab.{exercise.id}"),
            "name": clean_text(name),
            "time": f"{check.duration:.3f}",
        },
    )
    tag = {FAILED: "failure", ERROR: "error", NOT_RUN: "skipped"}.get(check.outcome)
    if tag is not None:
        verdict = ET.SubElement(case, tag, {"message": clean_text(_first_line(check.message))})
        if check.message:
            verdict.text = clean_text(check.message)
    if check.output:
        ET.SubElement(case, "system-out").text = clean_text(check.output)


def to_junit_xml(report: Report) -> str:
    """JUnit XML for CI dashboards: a testsuite per exercise, a testcase per check and device."""
    checks = list(report.checks)
    root = ET.Element("testsuites", {"name": "mllab"})
    for exercise in report.exercises:
        suite = ET.SubElement(
            root, "testsuite", {"name": clean_text(exercise.id), **_suite_counts(exercise.checks)}
        )
        for check in exercise.checks:
            _testcase(suite, exercise, check)
    if report.errors:
        # Grader-level errors become error testcases so that a CI job keyed on counts fails too.
        errors = [
            CheckResult(
                name=f"grader error {i}",
                outcome=ERROR,
                points=0,
                max_points=0,
                device=None,
                message=text,
            )
            for i, text in enumerate(report.errors, 1)
        ]
        grader = ExerciseResult(id="grader", title="Grader", checks=tuple(errors))
        suite = ET.SubElement(root, "testsuite", {"name": "grader", **_suite_counts(errors)})
        for check in errors:
            _testcase(suite, grader, check)
        checks.extend(errors)
    root.attrib.update(_suite_counts(checks))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
HIDDEN_EXPECTED = (
    "Failed on the hidden inputs of grading. The expected values are not shown: run the "
    "checks on your machine (`mllab check`), whose public inputs show every detail."
)


@dataclass(frozen=True)
class GradescopeOptions:
    """What students see in Gradescope: when (`visibility`, for the results and every test),
    and whether a failure on secret inputs shows the expected values in its message."""

    visibility: str = "visible"
    show_expected: bool = True

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")


def _gradescope_test(
    number: str, exercise: ExerciseResult, check: CheckResult, report: Report,
    options: GradescopeOptions,
) -> dict[str, Any]:  # fmt: skip
    test: dict[str, Any] = {
        "name": f"{exercise.id}: {check.display_name}",
        "number": number,
        "visibility": options.visibility,
    }
    if check.outcome == NOT_RUN:
        # Gradescope has no "skipped": zero out of zero, without a status, says the same thing.
        test.update(score=0.0, max_score=0.0, output=clean_text(f"Not run: {check.message}"))
        return test
    output = check.message
    if check.outcome != PASSED and report.seed_kind == "secret" and not options.show_expected:
        # A check's message names the values it expected; on secret inputs they stay secret.
        output = HIDDEN_EXPECTED
    if check.output:
        output += "\n\nYour output:\n" + check.output
    test.update(
        score=check.points,
        max_score=check.max_points,
        status="passed" if check.outcome == PASSED else "failed",
        # Gradescope shows this as a web page, where escape sequences and NULs are only litter.
        output=clean_text(output),
    )
    return test


def to_gradescope(report: Report, options: GradescopeOptions | None = None) -> str:
    """Gradescope autograder results.json, with what students see set by `options`."""
    options = options or GradescopeOptions()
    output = _summary(report)
    if report.errors:
        output += "\n\nGrader errors:\n" + "\n\n".join(clean_text(e) for e in report.errors)
    tests = [
        _gradescope_test(f"{i}.{j}", exercise, check, report, options)
        for i, exercise in enumerate(report.exercises, 1)
        for j, check in enumerate(exercise.checks, 1)
    ]
    results = {
        "score": report.score,
        "execution_time": round(sum(check.duration for check in report.checks), 3),
        "output": output,
        # Learner output is shown verbatim, not run through Gradescope's HTML/markdown rendering.
        "output_format": "text",
        "test_output_format": "text",
        "visibility": options.visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2, allow_nan=False) + "\n"


def _status(exercise: ExerciseResult) -> str:
    if exercise.passed:
        return "PASSED"
    outcomes = {check.outcome for check in exercise.checks}
    if outcomes <= {NOT_RUN}:
        return "NOT RUN"
    return "ERROR" if ERROR in outcomes else "FAILED"


def to_text(report: Report) -> str:
    """A colourless summary for plain terminals and logs: exercises, the checks that did not
    pass, and a total line."""
    lines: list[str] = []
    scores = [f"{_num(ex.score)}/{_num(ex.max_score)}" for ex in report.exercises]
    id_width = max((len(ex.id) for ex in report.exercises), default=0)
    score_width = max((len(score) for score in scores), default=0)
    labels = {FAILED: "failed", ERROR: "error", NOT_RUN: "not run"}
    for exercise, score in zip(report.exercises, scores, strict=True):
        lines.append(f"{exercise.id:<{id_width}}  {score:>{score_width}}  {_status(exercise)}")
        shown = [check for check in exercise.checks if check.outcome != PASSED]
        name_width = max((len(check.display_name) for check in shown), default=0)
        for check in shown:
            # A stray escape in a message must not clear or recolour the reader's terminal.
            detail = clean_text(_first_line(check.message))
            verdict = f"{labels[check.outcome]}: {detail}" if detail else labels[check.outcome]
            lines.append(f"  {check.display_name:<{name_width}}  {verdict}")
            # The likely cause, where a check names one, is worth its own line. Only the
            # grader writes "Hint:" at the start of a line: quoted learner text is indented.
            hints = [line for line in check.message.splitlines()[1:] if line.startswith("Hint:")]
            lines += [f"    {clean_text(hint.strip())}" for hint in hints]
    if not report.exercises:
        lines.append("No exercises graded.")
    if report.errors:
        lines.append("Grader errors:")
        for error in report.errors:
            lines.extend(f"  {line}" for line in clean_text(error).splitlines() or [""])
    lines.append(f"Total: {_summary(report)}")
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "json": to_json,
    "junit": to_junit_xml,
    "gradescope": to_gradescope,
    "text": to_text,
}
