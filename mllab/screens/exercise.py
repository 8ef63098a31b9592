"""One exercise: its lesson, live checks, the learner's output, a live plot, hints and actions."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Footer,
    Header,
    Log,
    MarkdownViewer,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState, get_current_worker

from grader.report import Report
from mllab.lab import Lab
from mllab.runner import GraderFailed
from mllab.widgets.checks import ChecksPanel
from mllab.widgets.figures import FigurePanel
from mllab.widgets.metrics import MetricsPlot
from mllab.widgets.watcher import FileWatcher

TABS = ("lesson", "checks", "output", "hints")
# What scrolls in each tab: it takes the focus, so arrows and PageDown work at once.
SCROLLS = {"lesson": "MarkdownViewer", "checks": "#check-list", "output": "#output-log",
           "hints": "#hint-scroll"}  # fmt: skip


class ExerciseScreen(Screen[None]):
    """Runs the exercise's checks on demand and on save, and shows what happens live."""

    AUTO_FOCUS = None  # on_mount focuses what scrolls in the open tab, not the tab bar
    BINDINGS = [
        Binding("r", "run", "Run checks"),
        Binding("c", "cancel", "Cancel", show=False),
        Binding("e", "edit", "Edit"),
        Binding("h", "hint", "Hint"),
        Binding("w", "toggle_watch", "Watch", show=False),
        Binding("d", "device", "Device", show=False),
        Binding("s", "solution", "Solution", show=False),
        Binding("n", "next", "Next"),
        Binding("z", "zoom", "Zoom plot", show=False),
        Binding("escape", "back", "Course"),
        # Tabs switch at once, whatever has focus; arrows and PageDown then scroll the tab.
        Binding("tab", "tab(1)", "Next tab", show=False, priority=True),
        Binding("shift+tab", "tab(-1)", "Previous tab", show=False, priority=True),
        Binding("right", "tab(1)", "Next tab", show=False, priority=True),
        Binding("left", "tab(-1)", "Previous tab", show=False, priority=True),
        *[Binding(str(n), f"show_tab('{t}')", t, show=False) for n, t in enumerate(TABS, 1)],
    ]

    @dataclass
    class GraderEvent(Message):
        """One event from the grader's stream."""

        event: dict[str, Any]

    @dataclass
    class GraderDone(Message):
        """The run ended: a report, or why there is none."""

        report: Report | None
        error: str | None
        cancelled: bool

    def __init__(self, lab: Lab, exercise_id: str) -> None:
        super().__init__()
        self.lab = lab
        self.exercise = lab.exercise(exercise_id)
        self.runner: Any = None
        self.watching = True
        self.completed = 0
        self.total = 0
        # The save a run judges: its file's hash and when it was saved. A newer save during the
        # run sets `rerun`: the run is cancelled and started again on the newest file.
        self.judged: str | None = None
        self.saved_at = ""
        self.rerun = False

    # ----------------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with TabbedContent(id="tabs", initial="lesson"):
            with TabPane("Lesson", id="lesson"):
                viewer = MarkdownViewer(
                    self.lab.lesson_text(self.exercise), show_table_of_contents=False
                )
                viewer.can_focus = True  # so arrows and PageDown scroll the lesson at once
                yield viewer
            with TabPane("Checks", id="checks"):
                with Vertical():
                    yield ChecksPanel(id="check-list")
                    with Horizontal(id="live"):
                        yield MetricsPlot(id="plot")
                        yield FigurePanel(id="figure")
            with TabPane("Output", id="output"):
                yield Log(id="output-log", highlight=False)
            with TabPane("Hints", id="hints"), VerticalScroll(id="hint-scroll"):
                yield Static(id="hint-text")
        yield FileWatcher(self.lab.learner_file(self.exercise), id="watcher")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.exercise.title
        self.sub_title = self.exercise.path
        # The plot appears with the first metric and the figure with the first figure, so small
        # terminals keep room for the checks.
        self.hide_live()
        last = self.lab.last_checks(self.exercise.id)
        if last:
            self.query_one(ChecksPanel).show_last(last)
        else:
            self.query_one(ChecksPanel).show_message(
                "Press r to run the checks, or save your file: checks run on every save."
            )
        self.show_hints()
        note = Text("Last result shown in the Checks tab; r runs again.", "dim") if last else None
        self.show_status(note)
        try:
            self.lab.open(self.exercise.id)
        except OSError as exc:  # a read-only or full disk: the lab works on, unsaved
            self.not_saved(exc)
        self.focus_tab()

    def focus_tab(self) -> None:
        """Focus what scrolls in the active tab, so arrows and PageDown work without Tab."""
        active = self.query_one("#tabs", TabbedContent).active or TABS[0]
        self.query_one(SCROLLS[active]).focus()

    def action_tab(self, step: int) -> None:
        active = self.query_one("#tabs", TabbedContent).active or TABS[0]
        self.action_show_tab(TABS[(TABS.index(active) + step) % len(TABS)])

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self.focus_tab()

    def on_unmount(self) -> None:
        # Leaving (or quitting) mid-run: the grader lives in its own session, so stop it here.
        if self.runner is not None:
            self.runner.cancel()

    # ----------------------------------------------------------------------------- status

    def show_status(self, note: Text | None = None) -> None:
        text = Text()
        if self.runner is not None:
            # Not the last verdict: it is about to be replaced.
            text.append(f"running {self.completed}/{self.total or '?'} checks", "bold yellow")
            text.append(" (c cancels)", style="dim")
        else:
            status = self.lab.status(self.exercise.id)
            style = {"passed": "bold green", "failing": "bold red"}.get(status, "dim")
            text.append(status, style=style)
        if self.saved_at:
            text.append(f"  · save of {self.saved_at}", style="dim")
        text.append(f"  · {self.lab.device}", style="dim")
        text.append("  · watching" if self.watching else "  · watch off", style="dim")
        if note is not None:
            text.append("\n")
            text.append_text(note)
        self.query_one("#status", Static).update(text)

    def not_saved(self, exc: OSError) -> None:
        """Say that progress could not be written; what the learner did still shows."""
        self.notify(f"could not save progress: {exc}", severity="error")

    def show_hints(self) -> None:
        shown = self.lab.hints_shown(self.exercise)
        hints = self.exercise.hints
        text = Text()
        for number, hint in enumerate(hints[:shown], 1):
            text.append(f"Hint {number}/{len(hints)}\n", style="bold")
            text.append(hint + "\n\n")
        if not hints:
            text.append("This exercise has no hints; the lesson has what you need.", style="dim")
        elif shown < len(hints):
            text.append(f"Press h for hint {shown + 1} of {len(hints)}.", style="dim")
        else:
            text.append("That was the last hint.", style="dim")
        self.query_one("#hint-text", Static).update(text)

    # -------------------------------------------------------------------------------- runs

    def action_run(self) -> None:
        if self.runner is not None:
            self.notify("Checks are already running; press c to cancel them.", timeout=3)
            return
        path = self.lab.learner_file(self.exercise)
        if not path.is_file():
            self.show_status(Text(f"{self.exercise.path} is missing from the workspace.", "red"))
            return
        self.rerun = False
        self.judged = self.lab.fingerprint(self.exercise)
        try:
            self.saved_at = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
        except OSError:
            self.saved_at = ""
        self.runner = self.lab.start_run(self.exercise)
        self.completed, self.total = 0, 0
        self.query_one(ChecksPanel).show_message("Starting the grader…")
        self.query_one("#plot", MetricsPlot).clear_series()
        self.query_one(FigurePanel).clear()
        self.hide_live()
        self.query_one("#output-log", Log).clear()
        self.action_show_tab("checks")
        self.show_status()
        self.grade(self.runner)

    @work(thread=True, exclusive=True, exit_on_error=False, group="grader")
    def grade(self, runner: Any) -> None:
        worker = get_current_worker()
        try:
            for event in runner.events():
                if worker.is_cancelled:
                    runner.cancel()
                    break
                self.post_message(self.GraderEvent(event))
        except GraderFailed as exc:
            self.post_message(self.GraderDone(None, str(exc), False))
            return
        cancelled = bool(getattr(runner, "cancelled", False)) or worker.is_cancelled
        self.post_message(self.GraderDone(getattr(runner, "report", None), None, cancelled))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A crash inside the run worker is shown, never raised: the app must stay up.
        if event.worker.group == "grader" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.finish(None, f"the run failed: {type(error).__name__}: {error}", False)

    def on_exercise_screen_grader_event(self, message: GraderEvent) -> None:
        event, kind = message.event, message.event.get("event")
        panel = self.query_one(ChecksPanel)
        if kind == "preparing":
            panel.show_message(str(event.get("text", "Starting the grader…")))
        elif kind == "run_started":
            checks = [c for c in event.get("checks", []) if isinstance(c, dict)]
            self.total = len(checks)
            panel.plan(checks)
            self.show_status()
        elif kind == "check_started" and isinstance(event.get("check"), dict):
            panel.started(event["check"])
        elif kind == "check_finished" and isinstance(event.get("check"), dict):
            self.completed += 1
            panel.finished(event["check"])
            self.show_status()
        elif kind == "figure":
            if self.query_one(FigurePanel).add(event):
                self.show_live("#figure")
        elif kind == "metric":
            plot = self.query_one("#plot", MetricsPlot)
            self.show_live("#plot")
            value = event.get("value")
            if isinstance(value, int | float):
                step = event.get("step")
                step = step if isinstance(step, int) else None
                plot.add(str(event.get("name")), float(value), step, str(event.get("check")))
        elif kind == "output" and event.get("text"):
            log = self.query_one("#output-log", Log)
            # A blank line between one check's output and the next check's heading.
            log.write_line(f"{chr(10) if log.line_count else ''}── output of "
                           f"{str(event.get('check', '')).split('::')[-1]} ──")  # fmt: skip
            log.write(str(event["text"]))
            log.write_line("")

    def hide_live(self) -> None:
        for selector in ("#live", "#plot", "#figure"):
            self.query_one(selector).display = False
        self.query_one("#live").remove_class("-figure")
        self.remove_class("-zoomed")  # a new run shows its checks until there is a plot

    def show_live(self, selector: str) -> None:
        """Show the plot (#plot) or the figure (#figure), and the row that holds them."""
        live = self.query_one("#live")
        live.display = True
        live.set_class(selector == "#figure" or live.has_class("-figure"), "-figure")
        self.query_one(selector).display = True

    def on_exercise_screen_grader_done(self, message: GraderDone) -> None:
        self.finish(message.report, message.error, message.cancelled)

    def finish(self, report: Report | None, error: str | None, cancelled: bool) -> None:
        self.runner = None
        if self.rerun or (self.watching and self.lab.fingerprint(self.exercise) != self.judged):
            # A newer save came in: this verdict is for a file that is gone; judge the new one.
            self.action_run()
            return
        if cancelled:
            self.query_one(ChecksPanel).cancelled()
            self.show_status(Text("Run cancelled; your recorded result is unchanged.", "yellow"))
            return
        if error is not None or report is None:
            reason = error or "the grader sent no report"
            self.query_one(ChecksPanel).show_message(f"The grader failed: {reason}", "red")
            self.show_status(Text("The grader failed; your progress is unchanged.", "red"))
            self.notify(reason.splitlines()[0], title="Grader failed", severity="error")
            return
        was_passed = self.lab.status(self.exercise.id) == "passed"
        recorded: list[str] | None
        try:
            recorded = self.lab.record(report, {self.exercise.id: self.judged})
        except OSError as exc:
            recorded = None  # the verdict still shows; the notice says it was not saved
            self.not_saved(exc)
        result = next((r for r in report.exercises if r.id == self.exercise.id), None)
        if result is None or not result.judged:
            self.show_status(
                Text(
                    "No check could run here (cuda only without a GPU?); d picks the device. "
                    "Your recorded result is unchanged.",
                    "yellow",
                )  # fmt: skip
            )
        elif recorded is not None and self.exercise.id not in recorded:
            self.show_status(Text("Your file changed during the run: r judges the new one.", "red"))
        elif result.passed:
            self.celebrate(result.score, result.max_score, first=not was_passed)
        else:
            failed = sum(c.outcome in ("failed", "error") for c in result.checks)
            note = f"{failed} check(s) to fix · {result.score:g}/{result.max_score:g} points"
            self.show_status(Text(note, style="red"))

    def celebrate(self, score: float, max_score: float, first: bool) -> None:
        following = self.lab.next_id(self.exercise.id)
        after = "n: next exercise" if following else "that was the whole course!"
        note = Text(f"🎉 All checks pass ({score:g}/{max_score:g} points). ", "bold green")
        note.append(f"s: compare with the reference · {after}")
        self.show_status(note)
        if first:  # once per pass, not on every re-run; the status line keeps saying it
            self.notify(f"{self.exercise.title}: all checks pass!", title="Well done", timeout=3)

    def action_cancel(self) -> None:
        if self.runner is None:
            self.notify("Nothing is running.", timeout=2)
            return
        # Killing the grader ends its event stream, so the run worker finishes by itself.
        self.runner.cancel()

    # ------------------------------------------------------------------------ watch mode

    @on(FileWatcher.Changed)
    def file_changed(self) -> None:
        if not self.watching:
            return
        if self.runner is None:
            self.action_run()
        elif self.lab.fingerprint(self.exercise) != self.judged:
            # Every save counts: stop judging the old file; finish() starts on the new one.
            self.rerun = True
            self.runner.cancel()
            self.query_one(ChecksPanel).show_message("You saved again: restarting the checks…")

    def action_toggle_watch(self) -> None:
        self.watching = not self.watching
        self.show_status()

    # -------------------------------------------------------------------------- actions

    def action_edit(self) -> None:
        from mllab.screens.editor import run_editor

        path = self.lab.learner_file(self.exercise)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.built_in_editor()
            return
        problem = run_editor(self.app, editor, path)
        if problem is not None:
            # Never a dead end: say what went wrong and edit in the lab instead.
            self.notify(f"{problem}; using the built-in editor.", title="Editor", timeout=8,
                        severity="warning")  # fmt: skip
            self.built_in_editor()
            return
        if self.watching and self.runner is None:
            self.action_run()

    def built_in_editor(self) -> None:
        """The lab's editor on the learner's file; on the exercise's stub when the file is gone."""
        from mllab.screens.editor import EditorScreen

        path = self.lab.learner_file(self.exercise)
        try:
            screen = EditorScreen(path)
        except FileNotFoundError:
            stub = self.lab.stub(self.exercise)
            if stub is None:
                self.notify(
                    f"{self.exercise.path} is missing from the workspace.", severity="error"
                )
                return
            self.notify(
                f"{self.exercise.path} is missing from the workspace: this is the exercise's "
                "stub; ctrl+s saves it there.",
                severity="warning",
                timeout=8,
            )
            screen = EditorScreen(path, stub)
        except OSError as exc:  # a folder in its place, or no permission to read it
            self.notify(f"could not open {self.exercise.path}: {exc}", severity="error")
            return
        self.app.push_screen(screen)

    def action_zoom(self) -> None:
        """The live plot and figure fill the Checks tab, or share it with the checks again."""
        if not self.has_class("-zoomed") and not self.query_one("#live").display:
            self.notify("No plot or figure yet: they appear while a training check runs.")
            return
        self.toggle_class("-zoomed")
        self.action_show_tab("checks")

    def action_hint(self) -> None:
        if not self.exercise.hints:
            self.notify("This exercise has no hints.", timeout=3)
        else:
            try:
                self.lab.reveal_hint(self.exercise)
            except OSError as exc:  # revealed all the same: the learner asked for it
                self.not_saved(exc)
            self.show_hints()
        self.action_show_tab("hints")

    def action_device(self) -> None:
        device = self.lab.cycle_device()
        about = {
            "all": "cpu, and cuda where a GPU is present",
            "cpu": "cpu only",
            "cuda": "cuda only (reported as not run without a GPU)",
        }[device]
        self.notify(f"Checks run on {about}.", timeout=3)
        self.show_status()

    def action_solution(self) -> None:
        if self.lab.status(self.exercise.id) != "passed":
            self.notify("The reference solution opens once all checks pass. Try h for a hint.")
            return
        solution = self.lab.solution_text(self.exercise)
        if solution is None:
            self.notify("This course was installed without reference solutions.")
            return
        from mllab.screens.solution import SolutionScreen

        self.app.push_screen(SolutionScreen(self.lab.learner_file(self.exercise), solution))

    def action_next(self) -> None:
        following = self.lab.next_id(self.exercise.id)
        if following is None:
            if self.lab.status(self.exercise.id) == "passed":
                self.notify("Every exercise passes. Well done!")
            else:
                self.notify("Every other exercise passes: this is the last exercise left.")
            return
        self.app.open_exercise(following, replace=True)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        if self.runner is not None:
            self.action_cancel()
        self.app.pop_screen()
