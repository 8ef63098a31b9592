"""`mllab release OUT`: a student repository without the reference solutions."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from mllab.catalog import Catalog
from mllab.cli import UsageError
from mllab.paths import CourseDirs, course_dirs
from mllab.release.build import ReleaseError, build
from mllab.release.gradescope import BundleError, BundleSettings, write_bundle
from mllab.runner import GraderFailed


def run_release(args: argparse.Namespace, catalog: Catalog, out: Console, err: Console) -> int:
    unknown = [i for i in args.exercise if i not in catalog.ids]
    if unknown:
        raise UsageError(
            f"unknown exercise {unknown[0]!r}; the course has: {', '.join(catalog.ids)}"
        )
    ids = [i for i in catalog.ids if i in args.exercise] or catalog.ids
    dirs = course_dirs()
    if not dirs.solutions.is_dir():
        raise UsageError(
            f"a release records the reference solutions, and {dirs.solutions} is "
            "missing; run it from the instructors' course, not from a release"
        )
    target = Path(args.dir)
    if getattr(args, "gradescope", False):
        return _gradescope(args, catalog, dirs, ids, target, out)
    err.print(f"Recording the reference results of {len(ids)} exercise(s) on the public seed...")
    try:
        report, requirement = build(target, catalog, dirs, ids, args.requirement)
    except (ReleaseError, GraderFailed) as exc:
        raise UsageError(str(exc)) from None
    counts = report.counts()
    out.print(
        f"Released {len(ids)} exercise(s) into {target} "
        f"({counts['passed']} checks recorded), without the solutions: no solution file and no "
        "answer's code in it or in its student edition."
    )
    out.print(f"Students install mllab with: {requirement}  (set it with --requirement)")
    out.print(
        f"Next: cd {target} && git init && git add . && git commit -m 'Exercises', "
        "then push it as a GitHub Classroom template repository."
    )
    return 0


def _gradescope(
    args: argparse.Namespace, catalog: Catalog, dirs: CourseDirs, ids: list[str], target: Path,
    out: Console,
) -> int:  # fmt: skip
    if args.seed is None:
        raise UsageError("--gradescope needs --seed SECRET: the autograder grades hidden inputs")
    if args.seed == 0:
        raise UsageError("--seed 0 is the public seed; choose a secret one")
    settings = BundleSettings(
        seed=args.seed,
        visibility=args.visibility,
        hide_expected=args.hide_expected,
        isolation=args.isolation,
        timeout=args.timeout,
    )
    try:
        path = write_bundle(target, catalog, dirs, ids, settings)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    out.print(f"Wrote the Gradescope autograder {path} ({len(ids)} exercise(s), seed {args.seed}).")
    out.print(
        "Upload it as the autograder of a programming assignment (base image Ubuntu 22.04 or "
        "newer); it holds the solutions and the seed: keep it private."
    )
    return 0
