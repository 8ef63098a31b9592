"""After an exercise passes: the learner's file beside the reference solution."""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static


class SolutionScreen(Screen[None]):
    """Two read-only panes; escape goes back to the exercise."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, mine: Path, reference: str) -> None:
        super().__init__()
        self.mine = mine
        self.reference = reference

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="side-by-side"):
            for label, code in (self.yours(), ("Reference", self.reference)):
                with VerticalScroll(classes="code-pane"):
                    yield Label(label, classes="pane-title")
                    yield Static(Syntax(code, "python", line_numbers=True, word_wrap=True))
        yield Footer()

    def yours(self) -> tuple[str, str]:
        """The learner's pane: its title and code; the title says why when the file is gone."""
        try:
            return "Yours", self.mine.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "Yours: the file is missing from the workspace", ""
        except OSError as exc:
            return f"Yours: cannot be read ({exc.strerror or exc})", ""

    def on_mount(self) -> None:
        self.title = "Your solution and the reference"
