"""`mllab release OUT`: a student repository without the reference solutions."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from mllab import __version__
from mllab.catalog import Catalog
from mllab.cli import UsageError
from mllab.paths import course_dirs
from mllab.release.build import ReleaseError, build
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
    requirement = args.requirement or f"mllab=={__version__}"
    target = Path(args.dir)
    err.print(f"Recording the reference results of {len(ids)} exercise(s) on the public seed...")
    try:
        report = build(target, catalog, dirs, ids, requirement)
    except (ReleaseError, GraderFailed) as exc:
        raise UsageError(str(exc)) from None
    counts = report.counts()
    out.print(
        f"Released {len(ids)} exercise(s) into {target} "
        f"({counts['passed']} checks recorded), without the solutions."
    )
    out.print(f"Students install mllab with: {requirement}  (set it with --requirement)")
    out.print(
        f"Next: cd {target} && git init && git add . && git commit -m 'Exercises', "
        "then push it as a GitHub Classroom template repository."
    )
    return 0
