"""Tests for workspaces: `mllab init` copies stubs and lessons only, and workspaces are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllab.catalog import Catalog, load_catalog
from mllab.course import stub_text
from mllab.paths import CourseDirs, course_dirs
from mllab.workspace import MARKER, WorkspaceError, find_workspace, init_workspace


@pytest.fixture(scope="module")
def dirs() -> CourseDirs:
    return course_dirs()


@pytest.fixture(scope="module")
def catalog(dirs: CourseDirs) -> Catalog:
    return load_catalog(dirs.catalog)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------- init


def test_init_copies_catalog_stubs_and_lessons(
    tmp_path: Path, catalog: Catalog, dirs: CourseDirs
) -> None:
    target = tmp_path / "lab"
    created = init_workspace(target, catalog, dirs)
    assert (target / MARKER).is_dir()
    assert (target / "catalog.toml").read_bytes() == dirs.catalog.read_bytes()
    expected = {target / "catalog.toml"}
    for exercise in catalog.exercises:
        for relative in (exercise.path, exercise.lesson):
            copy = target / relative
            want = stub_text(dirs, exercise) if relative == exercise.path else None
            want = want or (dirs.exercises / relative).read_text(encoding="utf-8")
            assert copy.read_text(encoding="utf-8") == want, relative
            expected.add(copy)
    assert set(created) == expected
    assert len(created) == len(expected)  # each file reported once


def test_init_never_copies_solutions(tmp_path: Path, catalog: Catalog, dirs: CourseDirs) -> None:
    target = tmp_path / "lab"
    init_workspace(target, catalog, dirs)
    solutions = {p.read_bytes() for p in dirs.solutions.rglob("*.py") if p.is_file()}
    assert solutions, "the course ships no solutions to compare with"
    stubs = {stub_text(dirs, e).encode() for e in catalog.exercises}
    assert not solutions & stubs, "a stub is identical to its solution"
    for path in target.rglob("*"):
        assert "solutions" not in path.relative_to(target).parts
        if path.is_file():
            assert path.read_bytes() not in solutions, f"{path} holds a reference solution"


def test_init_refuses_an_existing_workspace(
    tmp_path: Path, catalog: Catalog, dirs: CourseDirs
) -> None:
    target = tmp_path / "lab"
    init_workspace(target, catalog, dirs)
    stub = target / catalog.exercises[0].path
    stub.write_text("# my work in progress\n", encoding="utf-8")
    (target / catalog.exercises[0].lesson).unlink()
    before = snapshot(target)
    with pytest.raises(WorkspaceError, match="already an mllab workspace") as info:
        init_workspace(target, catalog, dirs)
    assert str(target) in str(info.value)
    assert snapshot(target) == before  # nothing restored, nothing overwritten


def test_init_keeps_a_learners_existing_file(
    tmp_path: Path, catalog: Catalog, dirs: CourseDirs
) -> None:
    target = tmp_path / "mywork"
    mine = target / catalog.exercises[0].path
    mine.parent.mkdir(parents=True)
    mine.write_text("def predict(w, b, X):\n    return 'mine'\n", encoding="utf-8")
    notes = target / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")

    created = init_workspace(target, catalog, dirs)
    assert mine.read_text(encoding="utf-8") == "def predict(w, b, X):\n    return 'mine'\n"
    assert mine not in created
    assert notes.read_text(encoding="utf-8") == "keep me"
    assert (target / MARKER).is_dir()
    assert (target / catalog.exercises[0].lesson).is_file()


def test_init_refuses_a_file_as_target(tmp_path: Path, catalog: Catalog, dirs: CourseDirs):
    target = tmp_path / "lab"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="not a folder"):
        init_workspace(target, catalog, dirs)
    assert target.read_text(encoding="utf-8") == "not a folder"


# ----------------------------------------------------------------------------- find


def test_explicit_missing_folder_is_named(tmp_path: Path, catalog: Catalog) -> None:
    missing = tmp_path / "does-not-exist"
    with pytest.raises(WorkspaceError) as info:
        find_workspace(str(missing), catalog)
    assert str(missing) in str(info.value)


def test_explicit_file_is_not_a_workspace(tmp_path: Path, catalog: Catalog) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="file.txt"):
        find_workspace(str(a_file), catalog)


def test_explicit_folder_is_used_as_is(tmp_path: Path, catalog: Catalog) -> None:
    workspace = find_workspace(str(tmp_path), catalog, start=tmp_path / "elsewhere")
    assert workspace.root == tmp_path.resolve()
    assert not workspace.managed


def test_marker_found_from_a_nested_subfolder(
    tmp_path: Path, catalog: Catalog, dirs: CourseDirs
) -> None:
    root = tmp_path / "lab"
    init_workspace(root, catalog, dirs)
    nested = root / "perceptron" / "scratch" / "deeper"
    nested.mkdir(parents=True)
    workspace = find_workspace(None, catalog, start=nested)
    assert workspace.root == root.resolve()
    assert workspace.managed
    assert workspace.state_dir == root.resolve() / MARKER
    assert workspace.file(catalog.exercises[0].path).is_file()


def test_nearest_marker_wins(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / MARKER).mkdir()
    inner = tmp_path / "inner"
    (inner / MARKER).mkdir(parents=True)
    (inner / "sub").mkdir()
    assert find_workspace(None, catalog, start=inner / "sub").root == inner.resolve()


def test_folder_holding_an_exercise_file_is_accepted(tmp_path: Path, catalog: Catalog) -> None:
    exercise = tmp_path / catalog.exercises[0].path
    exercise.parent.mkdir(parents=True)
    exercise.write_text("# learner file\n", encoding="utf-8")
    workspace = find_workspace(None, catalog, start=tmp_path)
    assert workspace.root == tmp_path.resolve()
    assert not workspace.managed


def test_empty_folder_tells_how_to_make_a_workspace(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(WorkspaceError) as info:
        find_workspace(None, catalog, start=tmp_path)
    assert "mllab init" in str(info.value)


def test_marker_that_is_a_file_does_not_count(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / MARKER).write_text("", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="mllab init"):
        find_workspace(None, catalog, start=tmp_path)


def test_uses_the_current_folder_by_default(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / MARKER).mkdir()
    monkeypatch.chdir(tmp_path)
    assert find_workspace(None, catalog).root == tmp_path.resolve()
