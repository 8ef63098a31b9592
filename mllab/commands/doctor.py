"""`mllab doctor`: is this machine ready? Each line says what is wrong and how to fix it."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tempfile

from rich.console import Console
from rich.text import Text

from mllab.catalog import Catalog, CatalogError, Exercise, load_catalog
from mllab.course import StubError, stub_text
from mllab.paths import CourseDirs, CourseNotFound, course_dirs
from mllab.workspace import WorkspaceError, find_workspace

# grader.replay's schema, spelled out: doctor never imports the grader (it imports torch).
REPLAY_SCHEMA = "mllab-replay/2"
PACKAGES = [
    "textual",
    "rich",
    "scikit-learn",
    "pandas",
    "pytest",
    "pytest-timeout",
    "palmerpenguins",
]
TORCH_PROBE = """
import json, torch
info = {"version": torch.__version__, "cuda_build": torch.version.cuda,
        "cuda": torch.cuda.is_available()}
if info["cuda"]:
    info["device"] = torch.cuda.get_device_name(0)
print(json.dumps(info))
"""


def _line(out: Console, ok: bool | None, label: str, detail: str) -> None:
    mark, style = {True: ("✓", "green"), False: ("✗", "red"), None: ("!", "yellow")}[ok]
    line = Text(f" {mark} ", style=style)
    line.append(f"{label}: ", style="bold")
    line.append(detail)
    out.print(line)


def run_doctor(out: Console) -> int:
    problems = 0
    version = sys.version.split()[0]
    good_python = sys.version_info >= (3, 10)
    _line(
        out,
        good_python,
        "python",
        version if good_python else f"{version}; mllab needs 3.10 or newer",
    )
    problems += not good_python

    catalog: Catalog | None = None
    try:
        dirs = course_dirs()
        catalog = load_catalog(dirs.catalog, dirs.checks)
        problems += _course(out, dirs, catalog)
    except CourseNotFound as exc:
        # A wrong MLLAB_COURSE is one problem among others: doctor still checks the rest.
        _line(out, False, "course", str(exc))
        problems += 1
    except CatalogError as exc:
        _line(out, False, "course", f"{exc}; reinstall mllab")
        problems += 1

    for package in PACKAGES:
        try:
            _line(out, True, package, importlib.metadata.version(package))
        except importlib.metadata.PackageNotFoundError:
            _line(out, False, package, f"not installed: pip install {package}")
            problems += 1

    problems += _torch(out)

    if catalog is not None:
        try:
            workspace = find_workspace(None, catalog)
            _line(out, True, "workspace", str(workspace.root))
        except WorkspaceError:
            _line(out, None, "workspace", "none here; create one with `mllab init DIR`")
    summary = (
        "All good." if not problems else f"{problems} problem(s) found; fix them as shown above."
    )
    out.print(Text(summary, style="bold green" if not problems else "bold red"))
    return 0 if not problems else 1


def _torch(out: Console) -> int:
    # In a subprocess: the app never imports torch, and a broken install must not crash doctor.
    # In an empty folder: `python -c` imports from its current folder first, where a learner's
    # own torch.py or json.py (or a folder deleted under the shell) would pass for a broken torch.
    try:
        with tempfile.TemporaryDirectory(prefix="mllab-doctor-") as neutral:
            probe = subprocess.run(
                [sys.executable, "-c", TORCH_PROBE],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=neutral,
            )
    except subprocess.TimeoutExpired:
        _line(out, False, "torch", "importing torch took over 2 minutes")
        return 1
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        _line(out, False, "torch", f"cannot be imported ({last}); install it: pip install torch")
        return 1
    info = json.loads(probe.stdout.strip().splitlines()[-1])
    _line(out, True, "torch", info["version"])
    if info["cuda"]:
        _line(out, True, "cuda", f"available: {info['device']}; checks run on cpu and cuda")
    elif info["cuda_build"] is None:
        _line(
            out, None, "cuda", "this torch is a CPU-only build; cuda checks are reported as not run"
        )
    else:
        _line(out, None, "cuda", "no CUDA device visible; cuda checks are reported as not run")
    return 0


def _course(out: Console, dirs: CourseDirs, catalog: Catalog) -> int:
    """The course's files: a course with solutions, or a student release with its recordings."""
    release = not dirs.solutions.is_dir() and dirs.replay.is_dir()
    missing: dict[str, list[str]] = {}
    for exercise in catalog.exercises:
        wanted = {
            "stub": _stub_ready(dirs, exercise),
            "lesson": (dirs.exercises / exercise.lesson).is_file(),
            "checks": (dirs.checks / f"test_{exercise.id}.py").is_file(),
        }
        if release:
            wanted["recorded reference results"] = _recorded(dirs, exercise)
        else:
            wanted["solution"] = (dirs.solutions / exercise.path).is_file()
        for what, present in wanted.items():
            if not present:
                missing.setdefault(what, []).append(exercise.id)
    kind = "a student release, no solutions" if release else "with the reference solutions"
    detail = f"{len(catalog.exercises)} exercises in {dirs.catalog} ({kind})"
    if missing:
        fix = "ask your instructor for a new release" if release else "reinstall mllab"
        gaps = "; ".join(f"{what} missing for {', '.join(ids)}" for what, ids in missing.items())
        detail += f"; {gaps}: {fix}"
    _line(out, not missing, "course", detail)
    if release and not missing:
        _line(out, True, "checks", "judged with the reference results recorded for the public seed")
    return int(bool(missing))


def _recorded(dirs: CourseDirs, exercise: Exercise) -> bool:
    try:
        data = json.loads((dirs.replay / f"{exercise.id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("schema") == REPLAY_SCHEMA and "calls" in data


def _stub_ready(dirs: CourseDirs, exercise: Exercise) -> bool:
    try:
        return bool(stub_text(dirs, exercise))
    except StubError:
        return False
