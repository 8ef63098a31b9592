"""The course overview: every exercise by track with its status, a progress bar and a filter."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, ProgressBar
from textual.widgets.option_list import Option

from mllab.catalog import Exercise
from mllab.lab import Lab
from mllab.progress import STATUS_MARK, STATUS_STYLE


def exercise_line(number: int, exercise: Exercise, status: str) -> Text:
    mark = STATUS_MARK.get(status, "·")
    text = Text(f" {mark} ", style=STATUS_STYLE.get(status, ""))
    text.append(f"{number:2}. {exercise.title}")
    text.append(f"  {exercise.points:g} pt", style="dim")
    if status != "not started":
        text.append(f"  {status}", style=STATUS_STYLE.get(status, ""))
    return text


def matches(exercise: Exercise, status: str, query: str) -> bool:
    """Every word of the query appears in the id, title, track, summary or status."""
    haystack = " ".join((exercise.id, exercise.title, exercise.track, exercise.summary, status))
    return all(word in haystack.lower() for word in query.lower().split())


class CourseScreen(Screen[None]):
    """Lists the course in order; Enter opens the highlighted exercise."""

    AUTO_FOCUS = "#exercises"  # arrows move through the course at once
    BINDINGS = [
        # Priority: "/" focuses the filter even from inside it, instead of being typed there.
        Binding("slash", "focus_filter", "Filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "resume", "Resume"),
    ]

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="course-progress"):
            yield Label("", id="course-score")
            yield ProgressBar(show_eta=False, id="course-bar")
        yield Input(placeholder="Filter: type words from a title, track or status", id="filter")
        yield OptionList(id="exercises")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.lab.catalog.title
        self.refresh_course()
        self.query_one("#exercises", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_course()

    def refresh_course(self) -> None:
        earned, total = self.lab.points()
        passed, count = self.lab.passed_count(), len(self.lab.catalog.exercises)
        self.query_one("#course-score", Label).update(
            Text(f"{passed}/{count} exercises passed · {earned:g}/{total:g} points ")
        )
        self.query_one("#course-bar", ProgressBar).update(total=total or 1, progress=earned)
        self.fill(self.query_one("#filter", Input).value)

    def fill(self, query: str) -> None:
        options = self.query_one("#exercises", OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        options.clear_options()
        numbers = {exercise.id: n for n, exercise in enumerate(self.lab.catalog.exercises, 1)}
        first: str | None = None
        for track, exercises in self.lab.tracks():
            shown = [e for e in exercises if matches(e, self.lab.status(e.id), query)]
            if not shown:
                continue
            options.add_option(Option(Text(track, style="bold"), disabled=True))
            for exercise in shown:
                line = exercise_line(numbers[exercise.id], exercise, self.lab.status(exercise.id))
                options.add_option(Option(line, id=exercise.id))
                first = first or exercise.id
        if not first:
            empty = Text("No exercise matches the filter.", style="dim")
            options.add_option(Option(empty, disabled=True))
            return
        target = highlighted or self.lab.resume_id() or first
        try:
            options.highlighted = options.get_option_index(target)
        except Exception:  # noqa: BLE001 - the target may be filtered out
            options.highlighted = options.get_option_index(first)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        options = self.query_one("#exercises", OptionList)
        shown = [options.get_option_at_index(i).id for i in range(options.option_count)]
        matched = [i for i in shown if i]
        if len(matched) == 1:  # one match: Enter opens it
            self.app.open_exercise(matched[0])  # type: ignore[attr-defined]
            return
        options.focus()

    @on(OptionList.OptionSelected, "#exercises")
    def open_exercise(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_exercise(event.option.id)  # type: ignore[attr-defined]

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one("#exercises", OptionList).focus()

    def action_resume(self) -> None:
        target = self.lab.resume_id()
        if target:
            self.app.open_exercise(target)  # type: ignore[attr-defined]
