"""The class-wide files are built from per-student records alone, so they can be rebuilt at will."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.report import CheckResult, ExerciseResult, Report
from mllab.batch import records
from mllab.batch.gradebook import check_stats, gradebook_csv, junit_xml, publish
from mllab.batch.records import Record


def report(outcomes: dict[str, str]) -> Report:
    checks = tuple(
        CheckResult(name, outcome, 2.0 if outcome == "passed" else 0.0, 2.0, "cpu", f"{name} msg")
        for name, outcome in outcomes.items()
    )
    return Report(exercises=(ExerciseResult("perceptron", "Perceptron", checks),))


CLASS = [
    Record("alice", "graded", report=report({"predict": "passed", "update": "passed"})),
    Record(
        "bob",
        "graded",
        notes=("perceptron/perceptron.py does not parse (line 3: x)",),
        report=report({"predict": "failed", "update": "passed"}),
    ),
    Record("carol", "graded", report=report({"predict": "failed", "update": "error"})),
    Record("dave", "error", "the zip entry '../x' points outside the submission"),
]


def test_gradebook_has_a_row_per_student_and_blank_scores_for_errors() -> None:
    rows = list(csv.reader(io.StringIO(gradebook_csv(CLASS, ["perceptron"]))))
    assert rows[0] == ["student", "status", "perceptron", "total", "max_total", "message"]
    assert rows.pop(1)[:5] == ["Points Possible", "max", "4", "4", "4"]  # each column's maximum
    assert rows[1] == ["alice", "graded", "4", "4", "4", ""]
    assert rows[2][:5] == ["bob", "graded", "2", "2", "4"]
    assert "does not parse" in rows[2][5]
    assert rows[4] == ["dave", "error", "", "", "", CLASS[3].message]


def test_the_check_the_class_fails_most_comes_first() -> None:
    stats = check_stats(CLASS)
    assert [(s.name, s.pass_rate) for s in stats] == [("predict", 1 / 3), ("update", 2 / 3)]
    assert stats[0].counts == {"passed": 1, "failed": 2, "error": 0, "not_run": 0}


def test_junit_counts_every_student_and_error_row() -> None:
    root = ET.fromstring(junit_xml(CLASS))
    assert root.get("tests") == "7" and root.get("failures") == "2" and root.get("errors") == "2"
    names = [suite.get("name") for suite in root.findall("testsuite")]
    assert names == ["alice/perceptron", "bob/perceptron", "carol/perceptron", "dave"]


def test_records_round_trip_and_damaged_ones_are_graded_again(tmp_path: Path) -> None:
    for record in CLASS:
        records.save(tmp_path, record)
    assert records.load_all(tmp_path) == CLASS
    results = json.loads((tmp_path / "students" / "alice" / "results.json").read_text())
    assert results["score"] == 4.0 and len(results["tests"]) == 2
    dave = (tmp_path / "students" / "dave" / "feedback.txt").read_text()
    assert "This submission could not be graded: the zip entry '../x'" in dave
    (tmp_path / "students" / "bob" / "record.json").write_text('{"schema": "mllab-grade/1"')
    assert [r.student for r in records.load_all(tmp_path)] == ["alice", "carol", "dave"]


def test_publish_writes_the_class_files(tmp_path: Path) -> None:
    summary = publish(tmp_path, CLASS, ["perceptron"])
    assert summary.startswith("4 submissions: 3 graded, 1 could not be graded\n")
    assert "perceptron: predict [cpu]" in summary.splitlines()[4]
    for name in ("gradebook.csv", "junit.xml", "checks.csv", "summary.txt"):
        assert (tmp_path / name).is_file()
    checks = list(csv.reader((tmp_path / "checks.csv").open()))
    assert checks[1] == ["perceptron", "predict", "cpu", "1", "2", "0", "0", "0.333"]
