"""Class-wide files built from the per-student records: gradebook, JUnit XML, pass-rate summary.

Each is a pure function of the records, so a resumed or merged batch gives the same files as one
uninterrupted run.
"""

from __future__ import annotations

import csv
import io
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader import formats
from grader.report import ERROR, FAILED, NOT_RUN, OUTCOMES, PASSED
from mllab.batch.records import GRADED, Record, write_atomic


def points(value: float) -> str:
    """Points as an LMS reads them: 10, 2.5, 0.3333."""
    return format(round(value, 4), "g")


MAX_ROW = "Points Possible"  # as LMS gradebooks (Canvas's among them) name this row


def max_points(records: Sequence[Record], exercises: Sequence[str]) -> dict[str, float]:
    """What each exercise is worth, as the graded reports say (the most any of them gives)."""
    worth: dict[str, float] = {}
    for record in records:
        for exercise in record.report.exercises if record.report else ():
            worth[exercise.id] = max(worth.get(exercise.id, 0.0), exercise.max_score)
    return {i: worth[i] for i in exercises if i in worth}


def cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula (=, +, -, @, a
    tab or a carriage return) gets a leading apostrophe, which the spreadsheet shows as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(records: Sequence[Record], exercises: Sequence[str]) -> str:
    """One row per student: status, a score per exercise, total, maximum, and what went wrong.

    The first row after the header states each exercise's maximum points, and the total's.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", *exercises, "total", "max_total", "message"])
    worth = max_points(records, exercises)
    total = points(sum(worth.values())) if worth else ""
    maxima = [points(worth[i]) if i in worth else "" for i in exercises]
    writer.writerow([MAX_ROW, "max", *maxima, total, total, "the most points each column gives"])
    for record in records:
        if record.report is None:
            writer.writerow(
                [cell(record.student), record.status, *[""] * len(exercises), "", "",
                 cell(record.message)]
            )  # fmt: skip
            continue
        by_id = {exercise.id: exercise for exercise in record.report.exercises}
        scores = [points(by_id[i].score) if i in by_id else "" for i in exercises]
        message = "; ".join([*record.report.errors[:1], *record.notes])
        writer.writerow(
            [
                cell(record.student),
                record.status,
                *scores,
                points(record.report.score),
                points(record.report.max_score),
                cell(message.replace("\n", " ")),
            ]
        )
    return buffer.getvalue()


def junit_xml(records: Sequence[Record]) -> str:
    """The whole class as JUnit XML: a test suite per student and exercise."""
    root = ET.Element("testsuites", {"name": "mllab class"})
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for record in records:
        if record.report is None:
            suite = ET.SubElement(
                root,
                "testsuite",
                {"name": record.student, "tests": "1", "failures": "0", "errors": "1"},
            )
            case = ET.SubElement(
                suite, "testcase", {"classname": record.student, "name": "submission"}
            )
            ET.SubElement(case, "error", {"message": formats.clean_text(record.message)})
            totals["tests"] += 1
            totals["errors"] += 1
            continue
        student = ET.fromstring(formats.to_junit_xml(record.report))
        for suite in student.findall("testsuite"):
            suite.set("name", f"{record.student}/{suite.get('name')}")
            for case in suite.findall("testcase"):
                case.set("classname", f"{record.student}.{case.get('classname')}")
            root.append(suite)
        for key in totals:
            totals[key] += int(student.get(key, "0"))
    root.attrib.update({key: str(value) for key, value in totals.items()})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


@dataclass
class CheckStats:
    exercise: str
    name: str
    device: str | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def ran(self) -> int:
        return sum(self.counts.values()) - self.counts[NOT_RUN]

    @property
    def pass_rate(self) -> float | None:
        return self.counts[PASSED] / self.ran if self.ran else None


def check_stats(records: Sequence[Record]) -> list[CheckStats]:
    """Per check and device, how the class did; the check failed most often comes first."""
    stats: dict[tuple[str, str, str | None], CheckStats] = {}
    for record in records:
        for exercise in record.report.exercises if record.report else ():
            for check in exercise.checks:
                key = (exercise.id, check.name, check.device)
                entry = stats.setdefault(key, CheckStats(exercise.id, check.name, check.device))
                entry.counts[check.outcome] += 1
    ordered = list(stats.values())
    return sorted(ordered, key=lambda s: (s.pass_rate is None, s.pass_rate or 0.0))


def checks_csv(stats: Sequence[CheckStats]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["exercise", "check", "device", PASSED, FAILED, ERROR, NOT_RUN, "pass_rate"])
    for s in stats:
        rate = "" if s.pass_rate is None else f"{s.pass_rate:.3f}"
        writer.writerow([s.exercise, s.name, s.device or "", *s.counts.values(), rate])
    return buffer.getvalue()


def summary_text(records: Sequence[Record], stats: Sequence[CheckStats]) -> str:
    graded = [r for r in records if r.status == GRADED and r.report is not None]
    errors = [r for r in records if r.status != GRADED]
    lines = [f"{len(records)} submissions: {len(graded)} graded, {len(errors)} could not be graded"]
    if graded:
        totals = [r.report.score for r in graded if r.report is not None]
        best = max(r.report.max_score for r in graded if r.report is not None)
        lines.append(
            f"Total points: mean {points(statistics.mean(totals))}, median "
            f"{points(statistics.median(totals))}, out of {points(best)}"
        )
    if stats:
        lines += ["", "Checks, the one the class fails most first (pass rate among those run):"]
        width = max(len(f"{s.exercise}: {s.name}") for s in stats)
        for s in stats:
            label = f"{s.exercise}: {s.name}" + (f" [{s.device}]" if s.device else "")
            rate = "not run" if s.pass_rate is None else f"{s.pass_rate:6.1%}"
            lines.append(f"  {label:<{width + 7}} {rate}  ({s.counts[PASSED]}/{s.ran} passed)")
    if errors:
        lines += ["", "Could not be graded:"]
        lines += [f"  {r.student}: {r.message}" for r in errors]
    return "\n".join(lines) + "\n"


def publish(out: Path, records: Sequence[Record], exercises: Sequence[str]) -> str:
    """Write the class-wide files into `out`; returns the summary text."""
    stats = check_stats(records)
    summary = summary_text(records, stats)
    write_atomic(out / "gradebook.csv", gradebook_csv(records, exercises))
    write_atomic(out / "junit.xml", junit_xml(records))
    write_atomic(out / "checks.csv", checks_csv(stats))
    write_atomic(out / "summary.txt", summary)
    return summary
