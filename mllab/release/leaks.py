"""Finds reference solutions in what students get: whole files, and answers hidden in other code.

An *answer* is a function of a marked reference solution whose body holds learner code: it
encloses a `# BEGIN SOLUTION` region, or sits inside a module-level one (a helper only the
reference needs). Its fingerprint is the AST of its body without the docstring, so a copy with
other comments, formatting or docstring is still found, wherever it is: in a stub's provided
helper, a check module, the grader, or a Python file inside a wheel.
"""

from __future__ import annotations

import ast
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mllab.stubs import _functions, _regions

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Leak:
    """A file of the student edition that holds a reference solution, or part of one."""

    where: str  # the file, and for a wheel the member inside it
    what: str  # "the whole file of <solution>", or "<function>: the body of <exercise>.<answer>"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def fingerprint(function: Function) -> str | None:
    """The body's AST without the docstring; None for a body that is only a docstring."""
    body = list(function.body)
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        body = body[1:]
    if not body:
        return None
    return ast.dump(ast.Module(body=body, type_ignores=[]), annotate_fields=False)


def answers(source: str, label: str) -> dict[str, str]:
    """fingerprint -> "<label>.<function>" for every answer in one marked solution."""
    lines = source.splitlines(keepends=True)
    regions = _regions(lines, label)
    functions = _functions(source, label)
    found: dict[str, str] = {}
    for function in functions:
        start, end = function.lineno, function.end_lineno or function.lineno
        # Region lines are 0-based indexes; a function spans 1-based lines start..end.
        encloses = any(start <= begin + 1 <= end for begin, _, _ in regions)
        inside = any(begin + 1 < start and end <= stop + 1 for begin, stop, _ in regions)
        key = fingerprint(function)
        if key is not None and (encloses or inside):
            found.setdefault(key, f"{label}.{function.name}")
    return found


def course_answers(solutions: Path, labels: dict[str, str]) -> tuple[dict[str, str], set[bytes]]:
    """Every answer of the course's solutions (`labels`: catalog path -> exercise id), and the
    solution files' bytes."""
    fingerprints: dict[str, str] = {}
    for relative, exercise_id in labels.items():
        path = solutions / relative
        if not path.is_file():
            continue
        fingerprints.update(answers(path.read_bytes().decode("utf-8"), exercise_id))
    # Every file under solutions/ (the catalog's, and helpers an exercise imports) must not ship.
    files = {p.read_bytes() for p in solutions.rglob("*.py") if p.is_file()}
    return fingerprints, files - {b""}


def _python_files(root: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file under root, and of every member of a wheel or zip there."""
    for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
        if not path.is_file():
            continue
        name = str(path.relative_to(root)) if root.is_dir() else path.name
        data = path.read_bytes()
        yield name, data
        if path.suffix in (".whl", ".zip"):
            yield from _members(name, data)


def _members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        for member in archive.infolist():
            if not member.is_dir():
                inner = archive.read(member)
                yield f"{name}!{member.filename}", inner
                if member.filename.endswith((".whl", ".zip")):
                    yield from _members(f"{name}!{member.filename}", inner)


def scan(
    roots: Iterable[Path], fingerprints: dict[str, str], solution_files: set[bytes]
) -> list[Leak]:
    """Every leak under `roots` (folders or single files, wheels and zips opened)."""
    leaks: list[Leak] = []
    for root in roots:
        for name, data in _python_files(root):
            if data in solution_files:
                leaks.append(Leak(name, "the whole file of a reference solution"))
                continue
            if not name.endswith(".py"):
                continue
            leaks += _in_source(name, data, fingerprints)
    return leaks


def _in_source(name: str, data: bytes, fingerprints: dict[str, str]) -> list[Leak]:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return []  # not Python that could run; nothing to copy an answer from
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            key = fingerprint(node)
            if key is not None and key in fingerprints:
                found.append(Leak(name, f"{node.name} has the body of {fingerprints[key]}"))
    return found
