"""Import boundaries: the app never imports torch, the core never imports textual; docstrings."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules the app process loads; importing them must not pull in torch or numpy.
APP_MODULES = [
    "mllab.cli",
    "mllab.runner",
    "mllab.warm",
    "mllab.catalog",
    "mllab.workspace",
    "mllab.progress",
    "mllab.files",
    "mllab.summary",
    "mllab.commands.check",
    "mllab.commands.browse",
    "mllab.commands.devcheck",
    "mllab.commands.grade",
    "mllab.commands.options",
    "mllab.commands.release",
    "mllab.batch.submissions",
    "mllab.batch.records",
    "mllab.batch.gradebook",
    "mllab.batch.engine",
    "mllab.release.build",
    "mllab.release.catalog_toml",
    "mllab.release.templates",
    "grader.sandbox.isolation",
    "grader.sandbox.trusted",
    "grader.sandbox.output",
    "mllab.lab",
    "mllab.app",
    "grader.report",
    "grader.formats",
    "grader.events",
]

# The non-UI core and the grader; importing them must not pull in textual.
CORE_MODULES = [
    "mllab.catalog",
    "mllab.warm",
    "grader.warm",
    "grader.sandbox.zygote",
    "grader.sandbox.forked",
    "grader.sandbox.children",
    "mllab.workspace",
    "mllab.progress",
    "mllab.files",
    "mllab.runner",
    "mllab.paths",
    "mllab.lab",
    "grader.codec",
    "grader.compare",
    "grader.plugin",
    "grader.run",
    "grader.sandbox.host",
    "grader.sandbox.worker",
    "grader.sandbox.isolation",
    "grader.sandbox.trusted",
    "grader.sandbox.protocol",
    "grader.replay",
    "mllab.batch.engine",
    "mllab.release.build",
    "grader.report",
    "grader.formats",
]

# Imports each module in turn and reports which one first brought in a forbidden module.
PROBE = """
import importlib, json, sys
modules, forbidden = json.loads(sys.argv[1]), json.loads(sys.argv[2])
culprits = {}
for name in modules:
    importlib.import_module(name)
    for banned in forbidden:
        if banned in sys.modules and banned not in culprits:
            culprits[banned] = name
print(json.dumps(culprits))
"""


def start_probe(modules: list[str], forbidden: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, json.dumps(modules), json.dumps(forbidden)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def finish_probe(process: subprocess.Popen[str]) -> dict[str, str]:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probes() -> dict[str, dict[str, str]]:
    # The probes run side by side: the core one imports torch (grader.compare), which is slow.
    started = {
        "app": start_probe(APP_MODULES, ["torch", "numpy"]),
        "core": start_probe(CORE_MODULES, ["textual"]),
        "self-test": start_probe(["mllab.paths", "mllab.catalog"], ["tomllib", "tomli"]),
    }
    return {name: finish_probe(process) for name, process in started.items()}


def test_app_modules_do_not_import_torch_or_numpy(probes: dict[str, dict[str, str]]) -> None:
    culprits = probes["app"]
    assert culprits == {}, f"imported by (the first module that pulled it in): {culprits}"


def test_core_and_grader_modules_do_not_import_textual(probes: dict[str, dict[str, str]]):
    culprits = probes["core"]
    assert culprits == {}, f"imported by (the first module that pulled it in): {culprits}"


def test_probe_notices_a_forbidden_import(probes: dict[str, dict[str, str]]) -> None:
    # Guards the probe itself: the module that does import the TOML parser is reported.
    assert set(probes["self-test"].values()) == {"mllab.catalog"}


PY_FILES = sorted(
    path
    for folder in ("mllab", "grader", "solutions")  # exercises/ holds no code: stubs are generated
    for path in (ROOT / folder).rglob("*.py")
    if "__pycache__" not in path.parts
)


def test_there_are_files_to_check() -> None:
    folders = {path.relative_to(ROOT).parts[0] for path in PY_FILES}
    assert folders == {"mllab", "grader", "solutions"}


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_has_a_docstring(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstring = ast.get_docstring(tree)
    assert docstring and docstring.strip(), f"{path.relative_to(ROOT)} has no module docstring"
