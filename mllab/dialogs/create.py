"""Offered when `mllab` starts outside a workspace: create one, or quit."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class CreateWorkspace(ModalScreen[Path | None]):
    """Returns the folder to create, or None to quit."""

    BINDINGS = [Binding("escape", "quit", "Quit")]

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="create"):
            yield Label("There is no mllab workspace here yet.", classes="dialog-title")
            yield Label("Create one? It holds your exercise files, lessons and progress.")
            yield Input(str(self.default), id="folder")
            with Horizontal(classes="buttons"):
                yield Button("Create", variant="primary", id="create-button")
                yield Button("Quit", id="quit-button")

    @on(Button.Pressed, "#create-button")
    @on(Input.Submitted, "#folder")
    def create(self) -> None:
        value = self.query_one("#folder", Input).value.strip()
        if not value:
            self.notify("Type the folder to create.", severity="warning")
            return
        self.dismiss(Path(value).expanduser())

    @on(Button.Pressed, "#quit-button")
    def action_quit(self) -> None:
        self.dismiss(None)
