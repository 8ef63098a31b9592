"""Learner stubs generated from marked reference solutions: the one file an author edits.

A reference solution marks the code a learner writes with two comment lines, so the file still
reads and runs as plain Python:

    def predict(w, b, X):
        \"\"\"The docstring is the specification; learners get it as it is.\"\"\"
        # TODO: the goal and the rule that applies (kept in the stub).
        # BEGIN SOLUTION
        z = X @ w + b
        return (z >= 0).to(X.dtype)
        # END SOLUTION

In the stub, a region inside a function becomes `raise NotImplementedError("<id>: implement
<function>")` at the marker's indentation; a region at module level (a helper only the reference
needs) disappears. The view of the reference shown to a learner after a pass drops the markers
and the TODO comments just above them. This module uses the standard library only: the wheel's
build hook imports it.
"""

from __future__ import annotations

import ast
import re

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<kind>BEGIN|END) SOLUTION\s*$")
_TODO = re.compile(r"^\s*# TODO\b")


class StubError(ValueError):
    """Markers that cannot be turned into a stub; the message names the file and the line."""


def _regions(lines: list[str], where: str) -> list[tuple[int, int, str]]:
    """(begin line index, end line index, indentation) of each marked region, in order."""
    regions = []
    begin: tuple[int, str] | None = None
    for index, line in enumerate(lines):
        match = _MARKER.match(line)
        if match is None:
            if BEGIN in line or END in line:
                raise StubError(f"{where}:{index + 1}: a marker must be a comment line of its own")
            continue
        if match["kind"] == "BEGIN":
            if begin is not None:
                raise StubError(f"{where}:{index + 1}: {BEGIN} inside another region")
            begin = (index, match["indent"])
        else:
            if begin is None:
                raise StubError(f"{where}:{index + 1}: {END} without a {BEGIN} before it")
            if match["indent"] != begin[1]:
                raise StubError(f"{where}:{index + 1}: {END} is not indented like its {BEGIN}")
            regions.append((begin[0], index, begin[1]))
            begin = None
    if begin is not None:
        raise StubError(f"{where}:{begin[0] + 1}: {BEGIN} is never closed by {END}")
    return regions


def _functions(source: str, where: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise StubError(
            f"{where}:{exc.lineno}: the solution is not valid Python: {exc.msg}"
        ) from None
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _enclosing(functions: list, line_number: int) -> str | None:
    """The innermost function whose body holds the 1-based `line_number`."""
    inside = [f for f in functions if f.lineno < line_number <= (f.end_lineno or f.lineno)]
    return max(inside, key=lambda f: f.lineno).name if inside else None


def has_markers(source: str) -> bool:
    return any(_MARKER.match(line) for line in source.splitlines())


def make_stub(source: str, exercise_id: str, where: str = "solution") -> str:
    """The learner's stub for a marked reference solution."""
    lines = source.splitlines(keepends=True)
    regions = _regions(lines, where)
    if not regions:
        raise StubError(f"{where}: no {BEGIN} / {END} region; mark the code learners write")
    functions = _functions(source, where)
    out: list[str] = []
    start = 0
    for begin, end, indent in regions:
        out += lines[start:begin]
        name = _enclosing(functions, begin + 1)
        if name is not None:
            out.append(f'{indent}raise NotImplementedError("{exercise_id}: implement {name}")\n')
        else:
            # A module-level region goes with the blank lines before it; those after it stay.
            while out and not out[-1].strip():
                out.pop()
        start = end + 1
    out += lines[start:]
    stub = "".join(out)
    try:
        ast.parse(stub)
    except SyntaxError as exc:
        raise StubError(f"{where}: the generated stub is not valid Python: {exc.msg}") from None
    return stub


def clean_solution(source: str) -> str:
    """The reference as a learner sees it after a pass: no markers, no TODOs above them."""
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for begin, end, _ in _regions(lines, "solution"):
        drop.update((begin, end))
        above = begin - 1
        todo = above
        while todo >= 0 and lines[todo].lstrip().startswith("#") and todo not in drop:
            if _TODO.match(lines[todo]):
                drop.update(range(todo, begin))
                break
            todo -= 1
    return "".join(line for index, line in enumerate(lines) if index not in drop)
