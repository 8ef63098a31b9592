"""The authors' rule that a stub's TODOs state goals, not code.

A TODO says what to achieve and which rule applies; the statements are the learner's to write,
and the how lives in the catalog's hints. `mllab dev check` reports TODO comment lines that
dictate code (an assignment, indexing, a torch/np call, `@`, `.T`, a method call) and fails when
more than `LIMIT` of a course's TODO lines do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIMIT = 0.10
# An exercise may lean on code words a little more than the course as a whole.
EXERCISE_LIMIT = 0.20

_TODO = re.compile(r"^\s*# TODO\b")
_COMMENT = re.compile(r"^\s*#")
_MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$")
_CODE = [
    re.compile(r"(?<![=!<>])=(?!=)\s*\S"),  # an assignment: `x = ...` (not ==, <=, >=, !=)
    re.compile(r"[A-Za-z_)\]]\["),  # indexing: x[...], f(x)[...]
    re.compile(r"\b(torch|np|numpy|F|nn)\.\w"),  # a library call or attribute
    re.compile(r"\s@\s|\w@\w"),  # matrix product
    re.compile(r"\.T\b"),  # transpose
    re.compile(r"\.[A-Za-z_]\w*\("),  # a method call: x.sum(, .to(
    re.compile(r"\b[a-z_]\w*\([^)]*[,=][^)]*\)"),  # a call with its arguments: f(a, b)
    re.compile(r"\b[A-Za-z_]\w*\s*\*\*?\s*[A-Za-z_(]"),  # an expression: lr * error, x ** 2
]


@dataclass(frozen=True)
class TodoLine:
    line: int
    text: str
    dictates_code: bool


def dictates_code(text: str) -> bool:
    """True when a TODO comment line reads like code rather than a goal."""
    body = re.sub(r"^\s*#\s*(TODO:?)?", "", text)
    return any(pattern.search(body) for pattern in _CODE)


def todo_lines(source: str) -> list[TodoLine]:
    """Every comment line of every TODO block: the `# TODO` line and the comments that follow."""
    found: list[TodoLine] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        if _TODO.match(line):
            inside = True
        elif not _COMMENT.match(line) or _MARKER.match(line):
            inside = False
        if inside:
            found.append(TodoLine(number, line.strip(), dictates_code(line)))
    return found


def share(lines: list[TodoLine]) -> float:
    return sum(line.dictates_code for line in lines) / len(lines) if lines else 0.0
