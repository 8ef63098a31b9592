"""A built-in editor for the learner's file, for when no $EDITOR is set."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea


class EditorScreen(Screen[None]):
    """Python highlighting, ctrl+s saves (and so runs the checks when watching), escape closes."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "close", "Close", priority=True),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.saved_text = path.read_text(encoding="utf-8", errors="replace")

    def compose(self) -> ComposeResult:
        yield Header()
        try:
            area = TextArea.code_editor(self.saved_text, language="python", id="editor")
        except Exception:  # noqa: BLE001 - highlighting needs tree-sitter; editing does not
            area = TextArea.code_editor(self.saved_text, id="editor")
        yield area
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Editing {self.path.name}"
        self.sub_title = "ctrl+s saves · escape closes"
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        try:
            self.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"could not save {self.path}: {exc}", severity="error")
            return
        self.saved_text = text
        self.notify(f"Saved {self.path.name}", timeout=2)

    def action_close(self) -> None:
        if self.query_one(TextArea).text != self.saved_text:
            self.notify("Unsaved changes: ctrl+s saves them; escape again discards them.")
            self.saved_text = self.query_one(TextArea).text
            return
        self.app.pop_screen()
