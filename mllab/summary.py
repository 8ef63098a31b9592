"""Terminal output for `mllab check`: a live line per finished check and a closing summary."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.report import Report

MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "magenta"),
         "not_run": ("–", "yellow")}  # fmt: skip


OUTPUT_LINES = 8


def _points(value: float) -> str:
    return f"{value:g}"


class LiveLines:
    """Prints one line as each check finishes (learner text is never parsed as markup)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.not_run: dict[str, int] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "run_started":
            count = len(event.get("checks", []))
            self.console.print(Text(f"Running {count} checks…", style="dim"))
        elif event.get("event") == "run_finished":
            # Checks that cannot run here (no CUDA) share one reason: say it once, not per check.
            for reason, count in self.not_run.items():
                mark, style = MARKS["not_run"]
                self.console.print(Text(f" {mark} {count} not run: {reason}", style=style))
        elif event.get("event") == "check_finished":
            check = event.get("check", {})
            if check.get("outcome") == "not_run":
                reason = str(check.get("message", "")).strip()
                self.not_run[reason] = self.not_run.get(reason, 0) + 1
                return
            mark, style = MARKS.get(check.get("outcome"), ("?", ""))
            device = f" [{check['device']}]" if check.get("device") else ""
            line = Text(f" {mark} ", style=style)
            line.append(f"{event.get('exercise')} · {check.get('name')}{device}")
            if check.get("outcome") != "passed" and check.get("message"):
                first = str(check["message"]).strip().splitlines()[0][:300]
                line.append(f"  {first}", style="dim")
            # One line per check, cut with an ellipsis: the summary below has the full message.
            self.console.print(line, no_wrap=True, overflow="ellipsis")


def render_summary(console: Console, report: Report) -> None:
    """A table of exercises and scores, then each failing check's full message and output."""
    table = Table(title="mllab check", title_justify="left", expand=False)
    table.add_column("exercise")
    table.add_column("score", justify="right")
    table.add_column("checks")
    for exercise in report.exercises:
        counts = {o: sum(c.outcome == o for c in exercise.checks) for o in MARKS}
        parts = [f"{counts[o]} {o.replace('_', ' ')}" for o in MARKS if counts[o]]
        style = ("green" if exercise.passed else "red") if exercise.judged else MARKS["not_run"][1]
        table.add_row(
            Text(exercise.id, style=style),
            f"{_points(exercise.score)}/{_points(exercise.max_score)}",
            ", ".join(parts),
        )
    console.print(table)
    for exercise in report.exercises:
        for check in exercise.checks:
            if check.outcome in ("passed", "not_run"):
                continue
            mark, style = MARKS[check.outcome]
            device = f" [{check.device}]" if check.device else ""
            console.print(
                Text(f"{mark} {exercise.id} · {check.name}{device}", style=f"bold {style}")
            )
            console.print(Text(check.message.rstrip()))
            if check.output:
                lines = check.output.rstrip().splitlines()
                shown = lines[-OUTPUT_LINES:]
                label = (
                    "Your output"
                    if len(shown) == len(lines)
                    else (f"Your output (last {len(shown)} of {len(lines)} lines)")
                )
                console.print(Text(f"{label}:", style="dim"))
                console.print(Text("\n".join(line[:300] for line in shown)))
            console.print()
    for error in report.errors:
        console.print(Text(f"grader error: {error}", style="magenta"))
    not_run = sum(c.outcome == "not_run" for c in report.checks)
    total = Text(f"Total: {_points(report.score)}/{_points(report.max_score)} points", style="bold")
    if not_run:
        total.append(f"  ({not_run} checks not run, e.g. no CUDA here)", style="dim")
    console.print(total)
