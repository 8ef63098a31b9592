"""Build hook: ships the course inside the wheel as mllab/_course/, stubs generated.

The checkout keeps one source per exercise, its marked reference solution; the wheel gets the
catalog and lessons, the stub generated from each solution, and the solutions themselves: this is
the self-study edition (`mllab-edu X.Y.Z`), whose lab shows the reference after a pass. The
student edition, without solutions and with recorded reference results instead, is built by
`mllab release` (mllab/release/wheel.py), never by this hook. An editable install reads the
checkout instead and generates stubs when asked.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib


def _stubs_module(root: Path) -> Any:
    # Loaded by path: the build environment has none of mllab's dependencies installed.
    spec = importlib.util.spec_from_file_location("_mllab_stubs", root / "mllab" / "stubs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CourseHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        stubs = _stubs_module(root)
        catalog = tomllib.loads((root / "exercises" / "catalog.toml").read_text(encoding="utf-8"))
        self._scratch = tempfile.TemporaryDirectory(prefix="mllab-wheel-stubs-")
        for entry in catalog.get("exercise", []):
            source = root / "solutions" / entry["path"]
            stub = stubs.make_stub(source.read_text(encoding="utf-8"), entry["id"], str(source))
            target = Path(self._scratch.name, entry["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(stub, encoding="utf-8")
            build_data["force_include"][str(target)] = f"mllab/_course/exercises/{entry['path']}"
        for folder in ("exercises", "solutions"):
            build_data["force_include"][str(root / folder)] = f"mllab/_course/{folder}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            scratch.cleanup()
