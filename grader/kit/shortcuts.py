"""One rule for 'write this yourself': find the library shortcuts a learner's file uses.

A `Shortcuts` rule lists what is forbidden by qualified name ("torch.nn" forbids the module and
everything in it; "torch.nn.functional.conv2d" one function) and, for values whose type cannot
be known from the source (a tensor in a variable), by method or keyword name ("backward",
"requires_grad"). Names are resolved through the file's imports and simple aliases, so
`import torch.nn.functional as F; F.conv2d(...)`, `from torch import sigmoid as s; s(x)` and
`conv = torch.conv2d; conv(...)` are all found, while the learner's own things are not: a
function of theirs named `conv2d`, a class with its own `backward` method, or `.grad` on an
object whose class sets `self.grad`.

    rule = Shortcuts("autograd", names={"torch.autograd", "torch.func"},
                     methods={"backward", "requires_grad", "requires_grad_"})
    expect_no_shortcuts(source_tree, exercise.path, rule, advice="Work the gradients out ...")
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from grader.errors import CheckFailure


@dataclass(frozen=True)
class Shortcuts:
    """What an exercise asks learners to write themselves, and where the rule applies.

    `what` explains a finding in messages ("a ready-made layer"). `functions`, when given,
    limits the rule to the bodies of these top-level functions (or "Class.method" names), so
    provided code elsewhere in the file may use anything.
    """

    what: str
    names: frozenset[str] | set[str] = field(default_factory=frozenset)
    methods: frozenset[str] | set[str] = field(default_factory=frozenset)
    functions: frozenset[str] | set[str] | None = None

    def forbids(self, qualified: str) -> bool:
        return any(qualified == n or qualified.startswith(n + ".") for n in self.names)

    def applies_in(self, scope: tuple[str, ...]) -> bool:
        if self.functions is None:
            return True
        return bool(scope) and (scope[0] in self.functions or ".".join(scope) in self.functions)


@dataclass(frozen=True, order=True)
class Use:
    """One use of a shortcut: where, the code as written, what it resolves to, and why."""

    line: int
    function: str
    code: str
    target: str
    what: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", in {self.function}" if self.function else "")
        plain = self.target in ("", self.code) or self.code.startswith(("import ", "from "))
        resolved = "" if plain else f", that is {self.target}"
        return f"{where}: {self.code}{resolved} ({self.what})"


def expect_no_shortcuts(
    tree: ast.Module, path: str, *rules: Shortcuts, advice: str, limit: int = 8
) -> None:
    """Fail, listing where, if the learner's file uses anything the rules forbid."""
    found = find_shortcuts(tree, *rules)
    if found:
        listed = "\n  ".join(str(use) for use in found[:limit])
        more = f"\n  ... and {len(found) - limit} more" if len(found) > limit else ""
        raise CheckFailure(
            f"{path} uses what this exercise asks you to write yourself:\n  {listed}{more}\n"
            f"{advice}"
        )


def find_shortcuts(tree: ast.Module, *rules: Shortcuts) -> list[Use]:
    """Every use of something a rule forbids, in line order (one per line, function and code)."""
    return sorted(set(_Finder(tree, rules).run()))


# ------------------------------------------------------------------------------------ resolver

_IMPORTERS = ("importlib.import_module", "__import__")


class _Finder:
    def __init__(self, tree: ast.Module, rules: tuple[Shortcuts, ...]) -> None:
        self.tree = tree
        self.rules = rules
        self.aliases: dict[str, str] = {}  # local name -> qualified name it refers to
        self.stars: list[str] = []  # modules imported with `from M import *`
        self.own = _own_names(tree)
        self.attributes = _own_attributes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        self.stars.append(node.module)
                    else:
                        self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for name in self.own:  # a def or class of the learner's replaces an import of that name
            self.aliases.pop(name, None)
        # `conv = torch.conv2d` makes `conv` an alias (twice: an alias of an alias).
        for _ in range(2):
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        resolved = self.resolve(node.value, frozenset())
                        if resolved:
                            self.aliases[target.id] = resolved[0]

    def resolve(self, node: ast.AST, shadowed: frozenset[str]) -> list[str]:
        """The qualified names `node` may refer to; empty when unknown (a local value)."""
        if isinstance(node, ast.Name):
            if node.id in shadowed or node.id in self.own:
                return []
            if node.id in self.aliases:
                return [self.aliases[node.id]]
            if hasattr(builtins, node.id):
                return [node.id] if node.id in ("__import__", "getattr") else []
            return [f"{module}.{node.id}" for module in reversed(self.stars)]
        if isinstance(node, ast.Attribute):
            return [f"{base}.{node.attr}" for base in self.resolve(node.value, shadowed)]
        if isinstance(node, ast.Call) and node.args:
            callee = self.resolve(node.func, shadowed)
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if "getattr" in callee and len(args) >= 2 and isinstance(args[1], str):
                return [f"{base}.{args[1]}" for base in self.resolve(node.args[0], shadowed)]
            if isinstance(args[0], str) and "importlib.import_module" in callee:
                return [args[0]]
            if isinstance(args[0], str) and "__import__" in callee:
                return [args[0].split(".")[0]]
        return []

    def run(self) -> Iterator[Use]:
        yield from self.visit(self.tree, (), frozenset())

    def visit(
        self, node: ast.AST, scope: tuple[str, ...], shadowed: frozenset[str]
    ) -> Iterator[Use]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for outer in (*node.decorator_list, *_defaults(node)):
                yield from self.visit(outer, scope, shadowed)
            inner = (*scope, node.name)
            if not isinstance(node, ast.ClassDef):
                shadowed = shadowed | self.locals_of(node)
            for statement in node.body:
                yield from self.visit(statement, inner, shadowed)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield from self.imports(node, scope)
            return
        found = self.check(node, scope, shadowed)
        if found:
            yield from found
            return
        for child in ast.iter_child_nodes(node):
            yield from self.visit(child, scope, shadowed)

    def imports(self, node: ast.Import | ast.ImportFrom, scope: tuple[str, ...]) -> Iterator[Use]:
        if isinstance(node, ast.ImportFrom) and (node.level or not node.module):
            return
        for alias in node.names:
            if alias.name == "*" or (alias.asname or alias.name) in self.own:
                continue
            if isinstance(node, ast.Import):
                target, code = alias.name, f"import {alias.name}"
            else:
                target, code = (
                    f"{node.module}.{alias.name}",
                    f"from {node.module} import {alias.name}",
                )
            code += f" as {alias.asname}" if alias.asname else ""
            yield from self.report(node, scope, code, [target], target)

    def check(self, node: ast.AST, scope: tuple[str, ...], shadowed: frozenset[str]) -> list[Use]:
        """What `node` itself uses (an empty list lets the walk go on into its parts)."""
        found: list[Use] = []
        loaded = not isinstance(node, ast.Name) or isinstance(node.ctx, ast.Load)
        if isinstance(node, ast.Name | ast.Attribute | ast.Call) and loaded:
            found += self.report(node, scope, ast.unparse(node), self.resolve(node, shadowed), None)
        if not found and isinstance(node, ast.Attribute) and node.attr not in self.attributes:
            found += self.by_method(node, scope, node.attr, ast.unparse(node))
        if isinstance(node, ast.keyword) and node.arg and node.arg not in self.attributes:
            value = node.value
            if not (isinstance(value, ast.Constant) and value.value in (False, None)):
                found += self.by_method(node, scope, node.arg, f"{node.arg}={ast.unparse(value)}")
        return found

    def report(
        self,
        node: ast.AST,
        scope: tuple[str, ...],
        code: str,
        targets: list[str],
        shown: str | None,
    ) -> Iterator[Use]:
        for rule in self.rules:
            if not rule.applies_in(scope):
                continue
            for target in targets:
                if rule.forbids(target):
                    yield Use(_line(node), ".".join(scope), code, shown or target, rule.what)
                    return

    def by_method(
        self, node: ast.AST, scope: tuple[str, ...], name: str, code: str
    ) -> Iterator[Use]:
        for rule in self.rules:
            if rule.applies_in(scope) and name in rule.methods:
                yield Use(_line(node), ".".join(scope), _short(code), "", rule.what)
                return

    def locals_of(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
        """Names a function binds itself (parameters, plain assignments): they hide imports."""
        args = function.args
        params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        stored = {
            node.id
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        }
        # An alias assigned here (`F = torch.nn.functional`) keeps resolving inside this
        # function; the same name bound to a plain value in another function stays local there.
        aliased_here = {
            node.targets[0].id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and self.resolve(node.value, frozenset())
        }
        return frozenset(params | (stored - aliased_here))


def _own_names(tree: ast.Module) -> set[str]:
    """Top-level functions and classes the learner's file defines."""
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _own_attributes(tree: ast.AST) -> set[str]:
    """Attribute names the file's classes define: methods, class variables, `self.x = ...`."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                for target in _targets(item):
                    if isinstance(target, ast.Name):
                        names.add(target.id)
            for inner in ast.walk(node):
                for target in _targets(inner):
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in ("self", "cls")
                    ):
                        names.add(target.attr)
    return names


def _targets(node: ast.AST) -> Iterable[ast.AST]:
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


def _defaults(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.ClassDef):
        return [*node.bases, *node.keywords]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return [d for d in (*node.args.defaults, *node.args.kw_defaults) if d is not None]


def _line(node: ast.AST) -> int:
    return int(getattr(node, "lineno", 0))


def _short(code: str, limit: int = 60) -> str:
    return code if len(code) <= limit else code[: limit - 3] + "..."
