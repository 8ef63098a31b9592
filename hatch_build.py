"""Build hook: ships the course folders inside the wheel as mllab/_course/.

An editable install reads them from the checkout instead, so edits show up without reinstalling.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CourseHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        for folder in ("exercises", "solutions"):
            build_data["force_include"][folder] = f"mllab/_course/{folder}"
