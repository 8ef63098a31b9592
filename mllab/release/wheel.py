"""The student edition: a wheel of mllab that bundles a release's course and no solution.

mllab comes in two editions of one distribution, `mllab-edu`:
- the self-study edition, `mllab-edu X.Y.Z`, built from a checkout (`pip wheel .`, hatch_build.py):
  the course with its reference solutions, which the lab shows after a pass;
- the student edition, `mllab-edu X.Y.Z+student.<digest>`, built here by `mllab release` into the
  release's `wheels/` folder: mllab and the grader as installed, with the release's course
  (catalog, stubs, lessons, checks, recorded reference results) bundled as mllab/_course, and
  no `solutions/`. The digest names the course it carries; the release's requirements.txt
  points at the file, so students install it with no index and no hand editing.

The wheel is written by hand (a zip with a dist-info folder): building it needs no build backend
and works from a checkout or from an installed mllab alike.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from mllab import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

DISTRIBUTION = "mllab-edu"
EDITION_TAG = "student"
PACKAGES = ("mllab", "grader")
_SKIP_PARTS = {"__pycache__", "_course"}  # _course: the self-study course, with its solutions
ENTRY_POINTS = "[console_scripts]\nmllab = mllab.cli:main\n\n[pytest11]\nmllab = grader.plugin\n"
SUMMARY = "mllab, student edition: a terminal lab for learning machine learning, no solutions."


class WheelError(RuntimeError):
    """The student edition cannot be built; the message says why."""


def _package_dir(name: str) -> Path:
    module = sys.modules.get(name) or __import__(name)
    return Path(next(iter(module.__path__))).resolve()


def dependencies() -> list[str]:
    """mllab's requirements: from pyproject.toml in a checkout, else from the installed metadata."""
    pyproject = _package_dir("mllab").parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("scripts", {}).get("mllab") == "mllab.cli:main":
            return [str(d) for d in project.get("dependencies", [])]
    for dist in importlib.metadata.distributions():
        scripts = [e for e in dist.entry_points if e.group == "console_scripts"]
        if any(e.name == "mllab" and e.value == "mllab.cli:main" for e in scripts):
            return [r for r in dist.requires or [] if "extra" not in r.partition(";")[2]]
    raise WheelError("cannot find mllab's requirements (no pyproject.toml and no installed mllab)")


def _program_files() -> Iterator[tuple[str, bytes]]:
    """mllab and the grader as installed, without compiled files, the self-study course, or the
    check modules (the edition's course carries its own, in mllab/_course/checks)."""
    for package in PACKAGES:
        root = _package_dir(package)
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or _SKIP_PARTS & set(relative.parts) or path.suffix == ".pyc":
                continue
            name = f"{package}/{relative.as_posix()}"
            if name.startswith("grader/checks/test_"):
                continue
            yield name, path.read_bytes()


def _course_files(course: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(course.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield f"mllab/_course/{path.relative_to(course).as_posix()}", path.read_bytes()


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _metadata(version: str, requires: list[str]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DISTRIBUTION}",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        "License: MIT",
        "Requires-Python: >=3.10",
        *(f"Requires-Dist: {requirement}" for requirement in requires),
    ]
    return "\n".join(lines) + "\n"


def _digest(items: Iterable[tuple[str, bytes]]) -> str:
    """A short digest of (name, bytes) pairs, in their order."""
    total = hashlib.sha256()
    for name, data in items:
        total.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return total.hexdigest()[:10]


def course_digest(course: Path) -> str:
    """A short digest of a release's course: the student edition's version names it."""
    return _digest(_course_files(course))


def build_student_wheel(course: Path, target: Path) -> Path:
    """Write the student edition for the release course at `course` into the folder `target`."""
    return build_wheel(target, course, EDITION_TAG)


def build_wheel(target: Path, course: Path | None, tag: str) -> Path:
    """A wheel of mllab as installed, version `X.Y.Z+<tag>.<digest>`, bundling `course` as
    mllab/_course (or no course: then mllab is always run with --course)."""
    files = dict(_program_files())
    if course is not None:
        course_files = dict(_course_files(course))
        digest = _digest(course_files.items())
        files.update(course_files)
    else:
        digest = _digest(files.items())
    version = f"{__version__}+{tag}.{digest}"
    stem = f"{re.sub(r'[-.]+', '_', DISTRIBUTION)}-{version}"
    info = f"{stem}.dist-info"
    files[f"{info}/METADATA"] = _metadata(version, dependencies()).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: mllab release\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = ENTRY_POINTS.encode()
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{stem}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    path.write_bytes(buffer.getvalue())
    return path
