"""The live list of an exercise's checks: one row per check, updated from grader events."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from mllab.summary import MARKS

# The outcomes' marks are the command line's; a live row also has two states before them.
ICON = {"pending": ("○", "dim"), "running": ("◌", "yellow"), **MARKS}


def check_text(check: dict[str, Any], state: str) -> Text:
    """One check as the learner reads it: icon, title, device, points, then the message."""
    icon, style = ICON.get(state, ("?", ""))
    title = str(check.get("title") or check.get("name") or "check")
    device = check.get("device")
    text = Text(f"{icon} ", style=style)
    text.append(title, style="bold" if state in ("failed", "error") else "")
    if device:
        text.append(f"  [{device}]", style="dim")
    points, max_points = check.get("points"), check.get("max_points")
    if isinstance(max_points, int | float) and max_points:
        earned = f"{points:g}/" if isinstance(points, int | float) else ""
        shown = f"{earned}{max_points:g}"
        text.append(f"  {shown} pt", style="dim")
    message = str(check.get("message") or "")
    if state in ("failed", "error") and message:
        text.append("\n" + message.rstrip(), style="red" if state == "error" else "")
    elif state == "not_run" and message:
        text.append(f"\n  not run: {message.splitlines()[0]}", style="dim")
    return text


class CheckRow(Static):
    """A single check; its text is plain `rich.text.Text`, so messages never parse as markup."""


class ChecksPanel(VerticalScroll):
    """Checks of the current run, keyed by pytest node id, in the order the grader lists them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: dict[str, CheckRow] = {}
        self.checks: dict[str, dict[str, Any]] = {}
        self.not_run: dict[str, int] = {}
        self.not_run_row: CheckRow | None = None
        self.done: set[str] = set()

    def _reset(self) -> None:
        self.remove_children()
        self.rows.clear()
        self.checks.clear()
        self.not_run.clear()
        self.not_run_row = None
        self.done.clear()

    def show_message(self, text: str, style: str = "dim") -> None:
        self._reset()
        self.mount(CheckRow(Text(text, style=style), classes="note"))

    def plan(self, checks: list[dict[str, Any]]) -> None:
        """A new run: list every check it will run as pending."""
        self._reset()
        rows = []
        for check in checks:
            nodeid = str(check.get("nodeid"))
            self.checks[nodeid] = check
            row = CheckRow(check_text(check, "pending"), classes="check")
            self.rows[nodeid] = row
            rows.append(row)
        if rows:
            self.mount(*rows)
        else:
            self.mount(CheckRow(Text("This exercise has no checks.", style="dim")))

    def show_last(self, checks: list[dict[str, Any]]) -> None:
        """The checks of the last recorded run, as they ended (the exercise reopened)."""
        self.plan(checks)
        for check in checks:
            self.finished(check)

    def started(self, check: dict[str, Any]) -> None:
        row = self.rows.get(str(check.get("nodeid")))
        if row is not None:
            row.update(check_text(check, "running"))

    def finished(self, check: dict[str, Any]) -> None:
        nodeid = str(check.get("nodeid"))
        self.done.add(nodeid)
        merged = {**self.checks.get(nodeid, {}), **check}
        self.checks[nodeid] = merged
        row = self.rows.get(nodeid)
        state = str(check.get("outcome", "error"))
        if state == "not_run":
            # Checks that cannot run here (no CUDA) share one reason: one line says it.
            if row is not None:
                row.display = False
            self._count_not_run(str(check.get("message") or "not run here").splitlines()[0])
            return
        if row is None:
            row = CheckRow(classes="check")
            self.rows[nodeid] = row
            self.mount(row)
        row.update(check_text(merged, state))
        row.set_class(state in ("failed", "error"), "-failed")

    def _count_not_run(self, reason: str) -> None:
        self.not_run[reason] = self.not_run.get(reason, 0) + 1
        text = Text()
        for why, count in self.not_run.items():
            text.append(f"– {count} check(s) not run: {why}\n", style="dim")
        if self.not_run_row is None:
            self.not_run_row = CheckRow(classes="check")
            self.mount(self.not_run_row)
        self.not_run_row.update(text)

    def cancelled(self) -> None:
        if not self.rows:  # cancelled while the grader was starting: no "Starting…" left behind
            self.show_message("Cancelled before any check ran.")
            return
        for nodeid, row in self.rows.items():
            if nodeid not in self.done:
                row.update(check_text(self.checks[nodeid], "not_run").append(" (cancelled)"))
