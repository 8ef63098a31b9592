"""`mllab dev new ID`: scaffold an exercise that `mllab dev check ID` accepts at once.

It writes the marked solution (the one file the author edits; the stub is generated from it),
the lesson, the check module, three wrong implementations and the catalog entry. The example
function is small on purpose: the author replaces it, keeping the shape of each file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.console import Console
from rich.text import Text

from mllab.catalog import Catalog
from mllab.files import write_atomic
from mllab.paths import CourseDirs, course_dirs

_ID = re.compile(r"^[a-z][a-z0-9_]*$")

SOLUTION = '''"""{title}: one sentence on what learners build here and why.

Your task: write the functions below, in order. Say here what every function shares (tensor
types, "never modify an input in place"), then point to the lesson: read lesson.md, then run
`mllab check {id}`.
"""

from __future__ import annotations

import torch


def scale(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Every element of x multiplied by factor.

    x: a floating-point tensor of any shape -> the same shape, dtype and device.
    x itself must keep its values.
    """
    # TODO: state the goal and the rule that applies; the statements are the learner's, and
    #       the how goes into the catalog's hints, one step at a time.
    # BEGIN SOLUTION
    return x * factor
    # END SOLUTION
'''

LESSON = """# {title}

## The question
Why would anyone want this? One paragraph.

## The idea, derived
The central result, step by step, short enough to follow on paper.

## By hand
A worked example small enough to check with a pencil (the course notes' own, where they have
one).

## From the notes to the code
Where the notes' notation differs from the code's, say so and why the code chose its form.

## Pitfalls
Each tied to the check that catches it.

## What the checks test
In plain words, so that a failure is never a surprise.
"""

CHECKS = '''"""Checks for the {id} exercise."""

from __future__ import annotations

import pytest
import torch

from grader import kit

pytestmark = pytest.mark.exercise("{id}")


@pytest.mark.points(2)
def test_scale_values(submission, device, rng):
    """scale multiplies every element by the factor"""
    x = torch.randn(3, 4, generator=rng, dtype=torch.float64)
    for dtype in (torch.float32, torch.float64):
        got = submission.scale(x.to(device, dtype), 2.5)
        kit.assert_close(got, x * 2.5, name="scale(x, 2.5)", dtype=dtype, device=device)


def test_scale_keeps_its_input(submission, device, rng):
    """scale leaves x unchanged"""
    x = torch.randn(5, generator=rng, dtype=torch.float64).to(device)
    kit.call_unchanged(submission, "scale", x, 3.0, names=("x",))
'''

WRONG = {
    "in_place.py": '''"""Expect failing: scale_keeps_its_input
Mistake: the learner scales x in place and returns it."""


def scale(x, factor):
    x *= factor
    return x
''',
    "adds.py": '''"""Expect failing: scale_values
Mistake: adds the factor instead of multiplying by it."""


def scale(x, factor):
    return x + factor
''',
    "float64.py": '''"""Expect failing: scale_values
Mistake: computes in float64 and returns that, whatever x's dtype."""


def scale(x, factor):
    return x.double() * factor
''',
}


class ScaffoldError(RuntimeError):
    """The exercise cannot be scaffolded here; the message says why."""


def catalog_entry(exercise_id: str, title: str, track: str, path: str) -> str:
    hints = [
        "The idea: what the learner should see first.",
        "The formula in the notes' notation, and how it maps onto the code's names.",
        "The shapes: what each array holds and which axis to reduce.",
        "Near-code, last: the call that does it.",
    ]
    lines = [
        "",
        "[[exercise]]",
        f"id = {json.dumps(exercise_id)}",
        f"title = {json.dumps(title)}",
        f"path = {json.dumps(path)}",
        f"track = {json.dumps(track)}",
        "trains = false",
        f"summary = {json.dumps(f'{title}: one sentence for the course overview.')}",
        "hints = [",
        *(f"    {json.dumps(hint)}," for hint in hints),
        "]",
    ]
    return "\n".join(lines) + "\n"


def planned_files(dirs: CourseDirs, exercise_id: str) -> dict[Path, str]:
    path = f"{exercise_id}/{exercise_id}.py"
    title = exercise_id.replace("_", " ").capitalize()
    files = {
        dirs.solutions / path: SOLUTION.format(id=exercise_id, title=title),
        dirs.exercises / exercise_id / "lesson.md": LESSON.format(title=title),
        dirs.checks / f"test_{exercise_id}.py": CHECKS.format(id=exercise_id),
    }
    wrong = dirs.root / "tests" / "wrong" / exercise_id
    files.update({wrong / name: text for name, text in WRONG.items()})
    return files


def scaffold(catalog: Catalog, dirs: CourseDirs, exercise_id: str, track: str | None) -> list[Path]:
    if not _ID.fullmatch(exercise_id):
        raise ScaffoldError(
            f"{exercise_id!r}: use lowercase letters, digits and underscores, "
            "starting with a letter"
        )
    if exercise_id in catalog.ids:
        raise ScaffoldError(f"{exercise_id!r} is already in {dirs.catalog}")
    if "_course" in dirs.root.parts:
        raise ScaffoldError(
            "this is the course an installed mllab bundles; run `mllab dev new` in a checkout "
            "of the course, or name one with --course DIR"
        )
    if dirs.replay.is_dir():
        # A solution written here would be handed to the students with their repository.
        raise ScaffoldError(
            f"{dirs.root} is the course of a student release, which holds no solutions; run "
            "`mllab dev new` in the instructors' course (or name it with --course DIR), then "
            "release again"
        )
    if not dirs.checks.resolve().is_relative_to(dirs.root.resolve()):
        # Without a checks/ folder of its own, a course uses the checks of the installed mllab;
        # a check module written there would sit in mllab's own package, outside the course.
        raise ScaffoldError(
            f"nothing was written: {dirs.root} has no checks/ folder, so its checks are those "
            f"of the installed mllab ({dirs.checks}); give the course its own first, such as "
            f"`cp -r {dirs.checks} {dirs.root / 'checks'}`, then run this again"
        )
    files = planned_files(dirs, exercise_id)
    taken = [str(path) for path in files if path.exists()]
    if taken:
        raise ScaffoldError(f"nothing was written: these files exist already: {', '.join(taken)}")
    title = exercise_id.replace("_", " ").capitalize()
    chosen_track = track or (catalog.tracks()[-1] if catalog.exercises else "Course")
    entry = catalog_entry(exercise_id, title, chosen_track, f"{exercise_id}/{exercise_id}.py")
    for path, text in files.items():
        write_atomic(path, text)
    catalog_text = dirs.catalog.read_text(encoding="utf-8")
    write_atomic(dirs.catalog, catalog_text.rstrip("\n") + "\n" + entry)
    return [dirs.catalog, *files]


def run_dev_new(catalog: Catalog, out: Console, exercise_id: str, track: str | None) -> int:
    dirs = course_dirs()
    try:
        written = scaffold(catalog, dirs, exercise_id, track)
    except (ScaffoldError, OSError) as exc:
        out.print(Text(f"✗ {exc}", style="red"))
        return 2
    for path in written:
        out.print(Text(f"  wrote {path}", style="dim"))
    solution = dirs.solutions / exercise_id / f"{exercise_id}.py"
    out.print(
        Text(
            f"Exercise {exercise_id!r} is ready. Edit {solution} (the stub is generated from "
            "it), the lesson, the checks and the catalog's hints, then run "
            f"`mllab dev check {exercise_id}`.",
            style="green",
        )
    )
    return 0
