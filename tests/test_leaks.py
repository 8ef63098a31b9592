"""The leak finder of `mllab release`: an answer's code is found wherever it hides, provided code is
not an answer, and no file students get from this course holds another exercise's answer."""

from __future__ import annotations

import zipfile
from pathlib import Path

from grading import REPO, stubs_workspace

from mllab.catalog import load_catalog
from mllab.release import leaks

MARKED = '''\
"""An exercise."""


def provided(x):
    """Given, complete."""
    return x + 1


def answer(x):
    """The learner writes this."""
    # TODO: the goal.
    # BEGIN SOLUTION
    y = helper(x)
    return y * 2
    # END SOLUTION


# BEGIN SOLUTION
def helper(x):
    return x - 3
# END SOLUTION


class Model:
    def forward(self, x):
        # BEGIN SOLUTION
        return x @ x
        # END SOLUTION
'''

COPIES = '''\
def renamed(x):
    """Another docstring, another name, other comments: the same body."""
    y = helper(x)  # a comment
    return y * 2


def other_helper(x):
    return x - 3


def forward(self, x):
    return x @ x


def provided(x):
    return x + 1


def close_but_not_the_same(x):
    y = helper(x)
    return 2 * y
'''


def test_answers_are_the_functions_holding_learner_code() -> None:
    found = leaks.answers(MARKED, "demo")
    assert sorted(found.values()) == ["demo.answer", "demo.forward", "demo.helper"]


def test_copies_are_found_in_files_and_inside_wheels(tmp_path: Path) -> None:
    fingerprints = leaks.answers(MARKED, "demo")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "copy.py").write_text(COPIES)
    (tmp_path / "pkg" / "whole.py").write_text(MARKED)
    with zipfile.ZipFile(tmp_path / "pkg" / "edition.whl", "w") as wheel:
        wheel.writestr("mllab/_course/demo.py", COPIES)
    found = leaks.scan([tmp_path / "pkg"], fingerprints, {MARKED.encode()})
    assert sorted(map(str, found)) == [
        "copy.py: forward has the body of demo.forward",
        "copy.py: other_helper has the body of demo.helper",
        "copy.py: renamed has the body of demo.answer",
        "edition.whl!mllab/_course/demo.py: forward has the body of demo.forward",
        "edition.whl!mllab/_course/demo.py: other_helper has the body of demo.helper",
        "edition.whl!mllab/_course/demo.py: renamed has the body of demo.answer",
        "whole.py: the whole file of a reference solution",
    ]


def test_no_stub_or_check_of_the_course_holds_an_answer() -> None:
    """What a release of the whole course ships: every stub (provided helpers included), every
    check module and the grader. model_selection's provided ridge_fit and accuracy once held the
    regularization and evaluation answers."""
    catalog = load_catalog(REPO / "exercises" / "catalog.toml")
    fingerprints, files = leaks.course_answers(
        REPO / "solutions", {e.path: e.id for e in catalog.exercises}
    )
    assert len(set(fingerprints.values())) >= 3 * len(catalog.exercises)
    found = leaks.scan([stubs_workspace(), REPO / "grader", REPO / "mllab"], fingerprints, files)
    assert not found, "\n".join(map(str, found))
