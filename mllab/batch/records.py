"""Per-student results of a batch, under OUT/students/<id>/, each file written atomically.

`record.json` (schema `mllab-grade/1`) is the source of truth: the status, the notes and the full
report. It is written last, so a student whose record exists is completely graded; the gradebook,
JUnit file and summary are always rebuilt from the records (which is what makes `--resume` and
merging shards give the same gradebook as one uninterrupted run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import formats
from grader.report import Report, ReportError
from mllab.files import write_atomic

SCHEMA = "mllab-grade/1"
GRADED = "graded"
ERROR = "error"


@dataclass(frozen=True)
class Record:
    """What grading one submission gave: a report, or the reason there is none."""

    student: str
    status: str
    message: str = ""
    notes: tuple[str, ...] = ()
    report: Report | None = None
    ignored: tuple[str, ...] = ()  # files in the submission that were not graded

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "student": self.student,
            "status": self.status,
            "message": self.message,
            "notes": list(self.notes),
            "report": self.report.to_dict() if self.report is not None else None,
            "ignored": list(self.ignored),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Record:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} record")
        status, report = data.get("status"), data.get("report")
        if status not in (GRADED, ERROR) or (status == GRADED) != (report is not None):
            raise ValueError("status and report disagree")
        try:
            parsed = Report.from_dict(report) if report is not None else None
        except ReportError as exc:
            raise ValueError(f"its report is invalid: {exc}") from None
        return cls(
            student=str(data.get("student")),
            status=status,
            message=str(data.get("message", "")),
            notes=tuple(str(note) for note in data.get("notes", [])),
            report=parsed,
            ignored=tuple(str(name) for name in data.get("ignored", [])),
        )


def student_folder(out: Path, student: str) -> Path:
    return out / "students" / student


def feedback(record: Record) -> str:
    """The text a student gets: the verdict of every check, and what could not be graded."""
    lines = [f"Student: {record.student}"]
    if record.report is not None:
        lines.append(f"Inputs: {record.report.seed_kind} seed")
    lines += [f"Note: {note}" for note in record.notes]
    if record.ignored:
        shown = ", ".join(record.ignored[:20]) + (" ..." if len(record.ignored) > 20 else "")
        lines.append(f"Not graded (only the exercise files are): {shown}")
    lines.append("")
    if record.report is None:
        lines.append(f"This submission could not be graded: {record.message}")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + formats.to_text(record.report)


def gradescope(record: Record, options: formats.GradescopeOptions | None = None) -> str:
    """The student's Gradescope results.json; `options` say what the student sees, and when."""
    if record.report is not None:
        return formats.to_gradescope(record.report, options)
    results = {
        "score": 0.0,
        "execution_time": 0.0,
        "output": f"This submission could not be graded: {record.message}",
        "output_format": "text",
        "visibility": (options or formats.GradescopeOptions()).visibility,
        "tests": [],
    }
    return json.dumps(results, indent=2) + "\n"


def save(out: Path, record: Record, options: formats.GradescopeOptions | None = None) -> None:
    """Write a student's results.json, feedback.txt, then record.json last."""
    folder = student_folder(out, record.student)
    write_atomic(folder / "results.json", gradescope(record, options))
    write_atomic(folder / "feedback.txt", feedback(record))
    write_atomic(folder / "record.json", json.dumps(record.to_dict(), indent=1) + "\n")


def load(out: Path, student: str) -> Record | None:
    """The student's record, or None if there is none or it cannot be used (grade again)."""
    try:
        text = (student_folder(out, student) / "record.json").read_text(encoding="utf-8")
        record = Record.from_dict(json.loads(text))
    except (OSError, ValueError):
        return None
    return record if record.student == student else None


def load_all(out: Path) -> list[Record]:
    """Every usable record under OUT/students, sorted by student id."""
    folder = out / "students"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return [record for name in names if (record := load(out, name)) is not None]
