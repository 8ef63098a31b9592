"""Student ids from submission names are plain file names, and the gradebook is safe to open in a
spreadsheet: no id writes outside its folder, no cell runs as a formula."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from mllab.batch.gradebook import gradebook_csv
from mllab.batch.records import ERROR, Record, student_folder
from mllab.batch.submissions import collect


def zips(folder: Path, *names: str) -> list[str]:
    folder.mkdir(exist_ok=True)
    for name in names:
        with zipfile.ZipFile(folder / name, "w") as archive:
            archive.writestr("perceptron/perceptron.py", "x = 1\n")
    return [str(folder / name) for name in names]


def test_dot_names_become_error_rows_inside_the_output_folder(tmp_path: Path) -> None:
    entries = {e.student: e for e in collect(zips(tmp_path / "in", "..zip", "...zip", "ok.zip"))}
    assert set(entries) == {"(.)", "(..)", "ok"}
    assert "not a plain file name" in entries["(.)"].problem
    assert "not a plain file name" in entries["(..)"].problem
    assert entries["ok"].problem == ""
    out = tmp_path / "out"
    for student in entries:
        folder = student_folder(out, student).resolve()
        assert folder.parent == (out / "students").resolve(), student


def test_names_with_controls_or_invisible_characters_are_shown_escaped(tmp_path: Path) -> None:
    names = ["a\u202eb", "c\x1b[2Jd", "e\u2028f"]
    folders = []
    for name in names:
        (tmp_path / name).mkdir()
        folders.append(str(tmp_path / name))
    entries = collect(folders)
    assert sorted(e.student for e in entries) == sorted(["a\\u202eb", "c\\x1b[2Jd", "e\\u2028f"])
    assert all("control, invisible or separator characters" in e.problem for e in entries)


def test_cells_a_spreadsheet_would_run_are_escaped() -> None:
    records = [
        Record('=HYPERLINK("http://x")', ERROR, "-2+3"),
        Record("@SUM(A1)", ERROR, "+cmd|' /C calc'!A0"),
        Record("plain", ERROR, "1 =1+1 in the middle is fine"),
    ]
    rows = list(csv.reader(io.StringIO(gradebook_csv(records, ["perceptron"]))))
    students = [row[0] for row in rows[1:] if row[1] == ERROR]
    messages = [row[-1] for row in rows[1:] if row[1] == ERROR]
    assert students == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "plain"]
    assert messages == ["'-2+3", "'+cmd|' /C calc'!A0", "1 =1+1 in the middle is fine"]
