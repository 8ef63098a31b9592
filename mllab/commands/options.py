"""The command-line options of the instructors' commands: grade, grade-merge and release."""

from __future__ import annotations

import argparse
import math
from typing import Any

from grader.formats import VISIBILITIES

GRADE_EPILOG = """\
A submission is a folder or a .zip file per student; its name is the student id. Writes, in OUT:
  gradebook.csv            a row per student: status, a score per exercise, total, message
  students/ID/results.json Gradescope results; feedback.txt, the same as text; record.json
  junit.xml, checks.csv    the class as JUnit XML; pass rates per check, failed most first
  summary.txt              the summary printed at the end
Exit status: 0 when every submission was graded, 1 when some could not be (error rows).

Examples:
  mllab grade submissions/*.zip --seed 8812 --out graded
  mllab grade submissions/* --seed 8812 --out graded --resume     after an interruption
  mllab grade submissions/* --seed 8812 --shard 3/10 --out part3  one task of a job array
  mllab grade-merge part* --out graded
"""

RELEASE_EPILOG = """\
Writes a student repository: the stubs and lessons, a course/ folder with the checks and the
reference results recorded for the public seed (never the solutions), the student edition of
mllab (wheels/, no solutions), a GitHub Actions workflow that runs `mllab check --all`, a
requirements.txt that installs the student edition, and a README. Before it finishes it proves
that no file, the wheel included, holds a solution or an answer's code.

With --gradescope it writes a Gradescope autograder zip instead, which grades with the solutions
and a secret seed:
  mllab release autograder.zip --gradescope --seed 8812 --visibility after_due_date --hide-expected
See docs/instructors.md.
"""


def _formatted(commands: Any, name: str, help_text: str, epilog: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


# The longest limit taken: far beyond any check, and within what the grader's timers can hold.
MAX_SECONDS = 7 * 24 * 3600


def positive_seconds(text: str) -> float:
    """A time limit: seconds above 0, at most a week (nan, inf or 1e12 would break the timers)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds above 0 and at most {MAX_SECONDS}, got {text}"
        )
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text}")
    return value


def add_instructor_commands(commands: Any) -> None:
    grade = _formatted(commands, "grade", "grade a class of submissions", GRADE_EPILOG)
    grade.add_argument(
        "submissions",
        nargs="+",
        metavar="SUBMISSION",
        help="a student's folder or .zip file; its name is the student id",
    )
    grade.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    grade.add_argument(
        "--exercise",
        action="append",
        default=[],
        metavar="ID",
        help="grade only this exercise (repeatable; default: every exercise in the course)",
    )
    grade.add_argument("--seed", type=int, help="secret seed for the inputs (default: public)")
    grade.add_argument(
        "--jobs", type=_count, metavar="N", help="submissions graded at once (default: the cores)"
    )
    grade.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="seconds one call into a submission may take (10)",
    )
    grade.add_argument(
        "--max-time",
        type=positive_seconds,
        default=1800.0,
        metavar="SECONDS",
        help="seconds one submission may take in all (1800)",
    )
    grade.add_argument("--device", choices=["cpu", "cuda", "all"], default="cpu")
    grade.add_argument(
        "--isolation",
        choices=["process", "bwrap"],
        help="bwrap (the default, Linux): each submission in a sandbox of its own (own user, "
        "PID, mount and network namespaces; sees no solutions, no other submission, no "
        "results). process: no sandbox, for a class you trust or where bwrap cannot run. "
        "Never falls back silently",
    )
    grade.add_argument(
        "--resume", action="store_true", help="continue an interrupted batch in the same OUT"
    )
    grade.add_argument(
        "--shard", metavar="K/N", help="grade only the K-th of N parts (for job arrays)"
    )
    grade.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        default="visible",
        help="when students see their Gradescope results.json (default: visible)",
    )
    grade.add_argument(
        "--hide-expected",
        action="store_true",
        help="in results.json, a failure on secret inputs does not show the expected values",
    )

    merge = _formatted(
        commands, "grade-merge", "merge the OUT folders of `mllab grade --shard`", GRADE_EPILOG
    )
    merge.add_argument(
        "shards", nargs="+", metavar="SHARD_DIR", help="an --out folder of one shard"
    )
    merge.add_argument("--out", required=True, metavar="DIR", help="folder for the whole class")
    merge.add_argument(
        "--partial",
        action="store_true",
        help="merge even when shards or students are missing (they are named; default: refuse)",
    )

    release = _formatted(
        commands, "release", "write a student repository without the solutions", RELEASE_EPILOG
    )
    release.add_argument("dir", metavar="OUT", help="a new folder for the student repository")
    release.add_argument(
        "--exercise",
        action="append",
        default=[],
        metavar="ID",
        help="release only this exercise (repeatable; default: the whole course)",
    )
    release.add_argument(
        "--requirement",
        metavar="SPEC",
        help="how students install mllab (default: the student edition the release carries, "
        "wheels/mllab_edu-VERSION+student...whl)",
    )
    gradescope = release.add_argument_group(
        "Gradescope", "with --gradescope, OUT is the autograder zip to write instead"
    )
    gradescope.add_argument(
        "--gradescope",
        action="store_true",
        help="write a Gradescope autograder zip (setup.sh, run_autograder, the course, the seed)",
    )
    gradescope.add_argument("--seed", type=int, help="the secret seed it grades with (required)")
    gradescope.add_argument(
        "--visibility",
        choices=VISIBILITIES,
        default="visible",
        help="when students see their results (default: visible)",
    )
    gradescope.add_argument(
        "--hide-expected",
        action="store_true",
        help="a failure on the secret inputs does not show the expected values",
    )
    gradescope.add_argument(
        "--isolation",
        choices=["process", "bwrap"],
        default="process",
        help="as for `mllab grade`; bwrap needs an image that allows user namespaces",
    )
    gradescope.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="seconds one call into a submission may take (10)",
    )
