"""Tests for the course catalog loader: the shipped catalog and error messages for broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from mllab.catalog import Catalog, CatalogError, load_catalog
from mllab.course import stub_text
from mllab.paths import course_dirs

GOOD = """\
[course]
title = "Test course"

[[exercise]]
id = "first"
title = "First"
path = "first/first.py"
hints = ["one", "two"]

[[exercise]]
id = "second"
title = "Second"
path = "second/second.py"
lesson = "second/notes.md"
track = "Extra"
requires = ["first"]
"""

# One entry whose keys each test replaces or adds to.
BASE = {"id": '"alpha"', "title": '"Alpha"', "path": '"alpha/alpha.py"'}


def entry(**keys: str | None) -> str:
    """One [[exercise]] table; a key given as None is left out, other values are raw TOML."""
    fields = {**BASE, **keys}
    lines = ["[[exercise]]"] + [f"{key} = {value}" for key, value in fields.items() if value]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    return message


# ----------------------------------------------------------------------------- shipped catalog


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    dirs = course_dirs()
    return load_catalog(dirs.catalog, dirs.checks)


def test_shipped_catalog_loads_with_unique_ids(shipped: Catalog) -> None:
    assert shipped.exercises, "the shipped catalog has no exercises"
    assert len(shipped.ids) == len(set(shipped.ids))
    assert shipped.title.strip()


def test_shipped_catalog_files_exist(shipped: Catalog) -> None:
    dirs = course_dirs()
    for exercise in shipped.exercises:
        assert stub_text(dirs, exercise).strip(), f"no stub for {exercise.path}"
        assert (dirs.solutions / exercise.path).is_file(), f"solution missing: {exercise.path}"
        assert (dirs.exercises / exercise.lesson).is_file(), f"lesson missing: {exercise.lesson}"
        assert exercise.points > 0
        assert all(hint.strip() for hint in exercise.hints)


def test_shipped_requires_point_backwards(shipped: Catalog) -> None:
    seen: set[str] = set()
    for exercise in shipped.exercises:
        assert set(exercise.requires) <= seen, exercise.id
        seen.add(exercise.id)


# ----------------------------------------------------------------------------- a good catalog


def test_good_catalog_parses_every_field(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    assert catalog.title == "Test course"
    assert catalog.ids == ["first", "second"]
    first, second = catalog.exercises
    assert first.lesson == "first/lesson.md"  # default: next to the exercise
    assert first.points == 0.0  # no checks given: points come from the checks
    assert first.hints == ("one", "two")
    assert first.track == "Course"
    assert second.lesson == "second/notes.md"
    assert second.requires == ("first",)
    assert catalog.tracks() == ["Course", "Extra"]
    assert catalog.get("second") is second
    with pytest.raises(KeyError):
        catalog.get("third")


# ----------------------------------------------------------------------------- entry errors


@pytest.mark.parametrize(
    ("keys", "key"),
    [
        ({"id": None}, "id"),
        ({"title": None}, "title"),
        ({"path": None}, "path"),
        ({"title": '""'}, "title"),
        ({"title": "3"}, "title"),
    ],
)
def test_missing_or_empty_required_key(tmp_path: Path, keys: dict[str, str | None], key: str):
    message = error_for(tmp_path, entry(**keys))
    assert "exercise 1" in message
    assert f"key '{key}'" in message


def test_missing_title_names_the_entry_id(tmp_path: Path) -> None:
    message = error_for(tmp_path, entry(title=None))
    assert "exercise 1 ('alpha')" in message
    assert "missing" in message


@pytest.mark.parametrize("bad_id", ['"Alpha"', '"1alpha"', '"al-pha"', '"al pha"', '"_alpha"'])
def test_bad_id_pattern(tmp_path: Path, bad_id: str) -> None:
    message = error_for(tmp_path, entry(id=bad_id))
    assert "exercise 1" in message and "key 'id'" in message
    assert "lowercase" in message


def test_id_with_trailing_newline_is_rejected(tmp_path: Path) -> None:
    error_for(tmp_path, entry(id='"alpha\\n"'))


def test_duplicate_id_names_the_second_entry(tmp_path: Path) -> None:
    text = entry() + "\n" + entry(path='"other/other.py"')
    message = error_for(tmp_path, text)
    assert "exercise 2 ('alpha')" in message
    assert "key 'id'" in message and "duplicate" in message


@pytest.mark.parametrize(
    "bad_path", ['"/etc/passwd.py"', '"../escape.py"', '"a/../../b.py"', '"a\\\\b.py"']
)
def test_path_must_stay_inside_the_course(tmp_path: Path, bad_path: str) -> None:
    message = error_for(tmp_path, entry(path=bad_path))
    assert "exercise 1 ('alpha')" in message and "key 'path'" in message
    assert "relative path" in message


@pytest.mark.parametrize("bad_path", ['"alpha/alpha.txt"', '"alpha/alpha"', '"alpha/alpha.pyc"'])
def test_path_must_be_python(tmp_path: Path, bad_path: str) -> None:
    message = error_for(tmp_path, entry(path=bad_path))
    assert "key 'path'" in message and ".py" in message


@pytest.mark.parametrize("bad_lesson", ['"alpha/lesson.txt"', '"alpha/lesson"', '"/abs/l.md"'])
def test_lesson_must_be_markdown_inside_the_course(tmp_path: Path, bad_lesson: str) -> None:
    message = error_for(tmp_path, entry(lesson=bad_lesson))
    assert "exercise 1 ('alpha')" in message and "key 'lesson'" in message


def test_points_are_declared_on_the_checks_not_in_the_catalog(tmp_path: Path) -> None:
    message = error_for(tmp_path, entry(points="2"))
    assert "exercise 1 ('alpha')" in message and "key 'points'" in message
    assert "@pytest.mark.points" in message


CHECKS = """\
import pytest

pytestmark = pytest.mark.exercise("first")


@pytest.mark.points(3)
def test_worth_three(submission):
    \"\"\"a check worth three points\"\"\"


def test_worth_one(submission):
    \"\"\"a check without a points mark is worth one\"\"\"


def helper():
    \"\"\"not a check\"\"\"
"""


def test_points_are_the_sum_of_the_checks_points(tmp_path: Path) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_first.py").write_text(CHECKS)
    (checks / "test_broken.py").write_text("def test_(:\n")  # reported by the grader instead
    (checks / "helpers.py").write_text(CHECKS.replace("first", "second"))  # not a check module
    catalog = load_catalog(write(tmp_path, GOOD), checks)
    assert catalog.get("first").points == 4.0
    assert catalog.get("second").points == 0.0


def test_shipped_points_match_the_checks_that_run(shipped: Catalog) -> None:
    # The grader counts what pytest collects; the app reads the decorators. They must agree:
    # `mllab dev check` compares them on every exercise, this pins one by hand.
    assert shipped.get("perceptron").points == 10.0


@pytest.mark.parametrize(
    ("requires", "names"),
    [('["beta"]', "'beta'"), ('["alpha"]', "'alpha'"), ('["nothing"]', "'nothing'")],
)
def test_requires_must_name_an_earlier_exercise(tmp_path: Path, requires: str, names: str):
    # alpha requires beta (listed later), itself, or an exercise that does not exist.
    text = entry(requires=requires) + "\n" + entry(id='"beta"', path='"beta/beta.py"')
    message = error_for(tmp_path, text)
    assert "exercise 1 ('alpha')" in message and "key 'requires'" in message
    assert names in message


@pytest.mark.parametrize("requires", ['"first"', "[1]"])
def test_requires_must_be_a_list_of_ids(tmp_path: Path, requires: str) -> None:
    message = error_for(tmp_path, entry(requires=requires))
    assert "key 'requires'" in message


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, entry(title=None, titel='"Alpha"'))
    assert "exercise 1 ('alpha')" in message
    assert "key 'titel'" in message and "unknown key" in message
    assert "title" in message.split("known keys")[1]  # the list helps spot the typo


@pytest.mark.parametrize("hints", ['"just one"', "[1, 2]", '["ok", ""]', '[["nested"]]'])
def test_hints_must_be_a_list_of_strings(tmp_path: Path, hints: str) -> None:
    message = error_for(tmp_path, entry(hints=hints))
    assert "exercise 1 ('alpha')" in message and "key 'hints'" in message


def test_trains_must_be_a_bool(tmp_path: Path) -> None:
    message = error_for(tmp_path, entry(trains='"yes"'))
    assert "key 'trains'" in message


def test_error_in_a_later_entry_names_its_number(tmp_path: Path) -> None:
    text = GOOD + "\n" + entry(id='"third"', path='"/abs.py"')
    message = error_for(tmp_path, text)
    assert "exercise 3 ('third')" in message and "key 'path'" in message


# ----------------------------------------------------------------------------- file errors


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[[exercise]]\nid = "alpha\n')
    assert "TOML" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "catalog.toml"
    with pytest.raises(CatalogError, match="not found") as info:
        load_catalog(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "text", ["", '[course]\ntitle = "Empty"\n', "exercise = []\n", '[[exercises]]\nid = "a"\n']
)
def test_empty_catalog(tmp_path: Path, text: str) -> None:
    message = error_for(tmp_path, text)
    assert "no [[exercise]] entries" in message


def test_entry_that_is_not_a_table(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'exercise = ["alpha"]\n')
    assert "exercise 1" in message and "table" in message


def test_course_title_must_be_a_string(tmp_path: Path) -> None:
    message = error_for(tmp_path, "[course]\ntitle = 5\n\n" + entry())
    assert "[course]" in message and "'title'" in message


def test_not_utf8_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_bytes(b'[course]\ntitle = "\xff\xfe"\n')
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(path) in str(info.value)
