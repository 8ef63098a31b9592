"""Bad submissions become error rows with a clear reason; only exercise files are ever staged."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from mllab.batch.submissions import BadSubmission, Entry, collect, stage

WANTED = ["perceptron/perceptron.py", "backprop/mlp.py"]
CODE = b"def predict(w, b, X):\n    return X\n"


def zip_with(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def staged(tmp_path: Path, source: Path) -> tuple[Path, list[str], list[str]]:
    target = tmp_path / f"staged-{source.name}"
    target.mkdir()
    notes, ignored = stage(Entry(source.name.removesuffix(".zip"), source), WANTED, target)
    return target, notes, ignored


def problem(tmp_path: Path, source: Path) -> str:
    with pytest.raises(BadSubmission) as caught:
        staged(tmp_path, source)
    return str(caught.value)


def test_ids_come_from_names_and_duplicates_are_errors(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    zip_with(tmp_path / "alice.zip", {"perceptron/perceptron.py": CODE})
    (tmp_path / "bob").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    entries = collect([str(tmp_path / n) for n in ("bob", "alice", "alice.zip", "notes.txt")])
    entries += collect([str(tmp_path / "gone")])
    by_id = {entry.student: entry.problem for entry in entries}
    assert list(by_id) == ["alice", "bob", "notes.txt", "gone"]
    assert by_id["alice"].startswith("duplicate student id 'alice': submitted as ")
    assert "alice.zip" in by_id["alice"]
    assert by_id["bob"] == ""
    assert by_id["notes.txt"].endswith("a submission is a folder or a .zip file")
    assert by_id["gone"].endswith("gone: no such file or folder")


def test_a_name_that_is_not_utf8_is_an_error_with_a_readable_id(tmp_path: Path) -> None:
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))
    (entry,) = collect([os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9"))])
    assert entry.student == "caf\\xe9"
    assert entry.problem == "the submission's name is not valid UTF-8; rename it"


def test_a_zip_is_staged_from_inside_its_top_folder(tmp_path: Path) -> None:
    members = {"alice/perceptron/perceptron.py": CODE, "alice/conftest.py": b"raise SystemExit"}
    target, notes, ignored = staged(tmp_path, zip_with(tmp_path / "alice.zip", members))
    assert (target / "perceptron" / "perceptron.py").read_bytes() == CODE
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["perceptron.py"]
    assert notes == ["missing: backprop/mlp.py"]
    assert ignored == ["conftest.py"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/cron.d/x", "points outside the submission"),
        ("perceptron/../../x.py", "points outside the submission"),
        ("/etc/passwd", "points outside the submission"),
        ("perceptron\\perceptron.py", "uses backslashes"),
    ],
)
def test_a_zip_that_reaches_outside_is_refused(tmp_path: Path, name: str, expected: str) -> None:
    source = zip_with(tmp_path / "eve.zip", {"perceptron/perceptron.py": CODE, name: b"x"})
    assert expected in problem(tmp_path, source)
    assert not (tmp_path / "x.py").exists()


def test_a_zip_with_a_link_is_refused(tmp_path: Path) -> None:
    links = {"perceptron/perceptron.py": "/work/main/solutions/perceptron/perceptron.py"}
    source = zip_with(tmp_path / "eve.zip", {}, links)
    expected = "the zip entry 'perceptron/perceptron.py' is a symbolic link"
    assert problem(tmp_path, source) == expected


def test_a_zip_entry_name_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    source = zip_with(tmp_path / "eve.zip", {"perceptron/perceptron.py": CODE})
    raw = source.read_bytes().replace(b"perceptron/perceptron.py", b"perceptron/percept\xffon.py")
    source.write_bytes(raw)
    assert "has a name that is not UTF-8" in problem(tmp_path, source)


def test_a_folder_link_to_the_solutions_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "eve"
    (folder / "perceptron").mkdir(parents=True)
    (folder / "perceptron" / "perceptron.py").symlink_to("/etc/passwd")
    expected = "perceptron/perceptron.py is a symbolic link; submit the file itself"
    assert problem(tmp_path, folder) == expected
    linked = tmp_path / "mallory"
    linked.mkdir()
    (linked / "perceptron").symlink_to(tmp_path / "eve" / "perceptron")
    assert "holds none of the exercise files" in problem(tmp_path, linked)


def test_empty_broken_and_oversized_submissions(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert problem(tmp_path, tmp_path / "empty") == "the submission is empty"
    assert problem(tmp_path, zip_with(tmp_path / "blank.zip", {})) == "the submission is empty"
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    assert "broken.zip is not a readable zip file" in problem(tmp_path, tmp_path / "broken.zip")
    big = {"perceptron/perceptron.py": b"#" * (3 * 2**20)}
    assert "larger than 2 MiB" in problem(tmp_path, zip_with(tmp_path / "big.zip", big))
    other = zip_with(tmp_path / "other.zip", {"README.md": b"hi"})
    assert "holds none of the exercise files" in problem(tmp_path, other)
