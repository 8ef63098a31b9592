"""What answers a reference call in a student release when the recording cannot, without a solution.

A release's recording answers every call a check made with the reference solution's own results.
A call fed with the learner's results, or one whose result is a live object (a model), needs
code, and a release holds no solution. Two kinds of trusted code stand in, both shipped with the
release and both proven by `mllab release` to hold no answer:

- the exercise's *provided* functions, run from the pristine stub in `exercises/`: they are the
  reference's own code (a stub keeps them as they are), and a provided function counts only if
  nothing it uses is left for the learner to write;
- the course's *oracles*, `checks/oracles.py`: `ORACLES = {exercise id: {function: callable}}`,
  library calls or other formulations that give the reference function's results.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ORACLES_FILE = "oracles.py"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _raises_stub_error(node: ast.AST, exercise_id: str) -> bool:
    """True if `node` holds the stub's `raise NotImplementedError("<id>: implement ...")`."""
    prefix = f"{exercise_id}: implement "
    for inner in ast.walk(node):
        if isinstance(inner, ast.Raise) and isinstance(inner.exc, ast.Call):
            args = inner.exc.args
            if (
                isinstance(inner.exc.func, ast.Name)
                and inner.exc.func.id == "NotImplementedError"
                and args
                and isinstance(args[0], ast.Constant)
                and str(args[0].value).startswith(prefix)
            ):
                return True
    return False


def provided_names(stub: str, exercise_id: str) -> set[str]:
    """The module-level functions and classes of a stub that work as shipped: no stub `raise`
    in them, and no use of a name that has one (directly or through other provided code)."""
    tree = ast.parse(stub)
    definitions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    uses = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & definitions.keys()
        for name, node in definitions.items()
    }
    unfinished = {
        name for name, node in definitions.items() if _raises_stub_error(node, exercise_id)
    }
    changed = True
    while changed:
        reached = {name for name in definitions if uses[name] & unfinished} - unfinished
        unfinished |= reached
        changed = bool(reached)
    return set(definitions) - unfinished


class StandIns:
    """The provided functions and oracles of one exercise, loaded only when first needed."""

    def __init__(self, exercise_id: str, stub: Path | None, checks: Path | None) -> None:
        self.exercise_id = exercise_id
        self.stub = stub
        self.checks = checks
        self._provided: dict[str, Any] | None = None
        self._oracles: dict[str, Callable[..., Any]] | None = None

    def find(self, name: str) -> Callable[..., Any] | None:
        """The code answering `name`: the exercise's provided code, else the course's oracle."""
        provided = self.provided()
        if name in provided:
            return provided[name]
        return self.oracles().get(name)

    def provided(self) -> dict[str, Any]:
        if self._provided is None:
            self._provided = {}
            if self.stub is not None and self.stub.is_file():
                try:
                    names = provided_names(self.stub.read_text(encoding="utf-8"), self.exercise_id)
                    if names:
                        module = _load(self.stub, f"_mllab_stub_{self.exercise_id}")
                        self._provided = {n: getattr(module, n) for n in names}
                except Exception:  # noqa: BLE001 - a stub that cannot load provides nothing
                    self._provided = {}
        return self._provided

    def oracles(self) -> dict[str, Callable[..., Any]]:
        if self._oracles is None:
            self._oracles = {}
            path = self.checks / ORACLES_FILE if self.checks is not None else None
            if path is not None and path.is_file():
                module = _load(path, "_mllab_release_oracles")
                table = getattr(module, "ORACLES", {})
                self._oracles = dict(table.get(self.exercise_id, {}))
        return self._oracles
