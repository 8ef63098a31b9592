"""The `mllab` command line: check, list, hint, doctor, init, the authors' `dev check`, and the
instructors' `grade`, `grade-merge` and `release`."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path, PurePosixPath

from rich.console import Console

from mllab import __version__
from mllab.catalog import Catalog, CatalogError, load_catalog
from mllab.paths import COURSE_ENV, CourseNotFound, course_dirs

EPILOG = """\
Start here:
  mllab                     open the lab (it offers to create a workspace where there is none)
  mllab init my-course      or create a workspace from the shell, then cd into it
  mllab check               check the exercise you are on (or name them: mllab check perceptron)
  mllab check --all --format json --output report.json
Instructors: mllab grade --help, mllab release --help; authors: mllab dev new, mllab dev check
"""


class UsageError(Exception):
    """A mistake in how mllab was called; printed without a traceback, exit status 2."""


def unknown_exercise(name: str, catalog: Catalog, listing: bool = False) -> UsageError:
    """The error for an exercise the course does not have, naming the one most likely meant.

    With `listing`, every id follows when there is no likely one.
    """
    guess = _likely_exercise(name, catalog)
    if guess is not None:
        return UsageError(f"unknown exercise {name!r}; did you mean {guess!r}? (see `mllab list`)")
    if listing:
        return UsageError(
            f"unknown exercise {name!r}; the course has: {', '.join(catalog.ids)} "
            "(see `mllab list`)"
        )
    return UsageError(f"unknown exercise {name!r}; see `mllab list`")


def _likely_exercise(name: str, catalog: Catalog) -> str | None:
    """A typo's exercise, or the one whose file or folder a tab-completed path names."""
    cleaned = name.strip().rstrip("/").lower()
    for exercise in catalog.exercises:
        path = PurePosixPath(exercise.path)
        if cleaned in (exercise.id, str(path).lower(), str(path.parent).lower(), path.name.lower()):
            return exercise.id
    close = difflib.get_close_matches(cleaned, catalog.ids, n=1, cutoff=0.75)
    return close[0] if close else None


def build_parser() -> argparse.ArgumentParser:
    from mllab.commands.options import add_instructor_commands, positive_seconds

    parser = argparse.ArgumentParser(
        prog="mllab",
        description="A terminal lab for learning machine learning by implementing it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mllab {__version__}")
    parser.add_argument(
        "--course",
        metavar="DIR",
        help="the course folder (exercises/, solutions/, checks/); default: a release's course/ "
        "folder here or above, else the course mllab ships (also: MLLAB_COURSE)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="run the checks of exercises and report the result")
    check.add_argument(
        "ids",
        nargs="*",
        metavar="ID",
        help="exercises to check (default: the one you are on: last opened in the lab, else "
        "the first not passed)",
    )
    check.add_argument("--all", action="store_true", help="check every exercise in the course")
    check.add_argument(
        "--workspace", metavar="DIR", help="folder with your files (default: found from here)"
    )
    check.add_argument(
        "--device",
        choices=["cpu", "cuda", "all"],
        default="all",
        help="where numeric checks run; without CUDA, cuda checks are reported as not run",
    )
    check.add_argument(
        "--seed", type=int, help="seed for the random inputs (instructors: a secret one)"
    )
    check.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="seconds one call into your code may take (10)",
    )
    check.add_argument(
        "--isolation",
        choices=["process", "bwrap"],
        help="how the code is isolated (default: bwrap with a secret --seed, else process); "
        "see docs/instructors.md",
    )
    check.add_argument("--format", choices=["text", "json", "junit", "gradescope"], default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")

    commands.add_parser("list", help="list the exercises in course order, with your progress")
    hint = commands.add_parser("hint", help="show the next hint for an exercise")
    hint.add_argument("id", metavar="ID")
    hint.add_argument("--all", action="store_true", help="show every hint at once")
    commands.add_parser(
        "doctor", help="check that python, torch, devices and the workspace are ready"
    )
    init = commands.add_parser("init", help="create a workspace with the stubs and lessons")
    init.add_argument(
        "dir", nargs="?", default="mllab-course", metavar="DIR", help="(default: mllab-course)"
    )

    dev = commands.add_parser("dev", help="tools for exercise authors")
    dev_commands = dev.add_subparsers(dest="dev_command", metavar="COMMAND", required=True)
    dev_check = dev_commands.add_parser(
        "check", help="catalog matches files, every stub fails, every solution passes"
    )
    dev_check.add_argument(
        "ids", nargs="*", metavar="ID", help="exercises to check (default: all of them)"
    )
    dev_new = dev_commands.add_parser(
        "new",
        help="scaffold an exercise: marked solution, lesson, checks, wrong implementations, "
        "catalog entry",
    )
    dev_new.add_argument("id", metavar="ID", help="the new exercise's id, such as dropout")
    dev_new.add_argument("--track", help="the catalog track (default: the course's last track)")
    add_instructor_commands(commands)
    return parser


def load_course(allow_empty: bool = False) -> Catalog:
    try:
        dirs = course_dirs()
        return load_catalog(dirs.catalog, dirs.checks, allow_empty=allow_empty)
    except CatalogError as exc:
        raise UsageError(f"the course catalog is broken: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Markup off: paths, messages and learner text may contain square brackets.
    out, err = (
        Console(markup=False, highlight=False),
        Console(stderr=True, markup=False, highlight=False),
    )
    if args.course:
        # The environment carries the choice to the grader process as well.
        os.environ[COURSE_ENV] = str(Path(args.course).expanduser().resolve())
    try:
        if args.command == "check":
            from mllab.commands.check import run_check

            return run_check(args, load_course(), out, err)
        if args.command == "list":
            from mllab.commands.browse import run_list

            return run_list(load_course(), out)
        if args.command == "hint":
            from mllab.commands.browse import run_hint

            return run_hint(args, load_course(), out)
        if args.command == "init":
            from mllab.commands.browse import run_init

            if not args.dir.strip():
                # Path("") is the current folder: an empty $DIR must not fill it with stubs.
                raise UsageError("mllab init: the folder name is empty")

            return run_init(Path(args.dir), load_course(), out)
        if args.command == "doctor":
            from mllab.commands.doctor import run_doctor

            return run_doctor(out)
        if args.command == "dev":
            if args.dev_command == "new":
                from mllab.commands.devnew import run_dev_new

                # A new course's catalog may hold no exercise yet: this adds its first.
                return run_dev_new(load_course(allow_empty=True), out, args.id, args.track)
            from mllab.commands.devcheck import run_dev_check

            return run_dev_check(load_course(), out, args.ids)
        if args.command == "grade":
            from mllab.commands.grade import run_grade

            return run_grade(args, load_course(), out, err)
        if args.command == "grade-merge":
            from mllab.commands.grade import run_merge

            return run_merge(args, out)
        if args.command == "release":
            from mllab.commands.release import run_release

            return run_release(args, load_course(), out, err)
        if sys.stdin.isatty() and sys.stdout.isatty():
            from mllab.app import MllabApp
            from mllab.warm import WarmGrader

            course = load_course()
            warm = WarmGrader()
            try:
                MllabApp(course, warm=warm).run()
            finally:
                warm.close()
            return 0
        from mllab.commands.browse import run_welcome

        return run_welcome(load_course(), out)
    except (UsageError, CourseNotFound) as exc:
        err.print(f"mllab: {exc}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("mllab: interrupted", markup=False)
        return 130


if __name__ == "__main__":
    sys.exit(main())
