"""A built-in editor for the learner's file, for when no $EDITOR is set or it fails; and the
hand-over to the learner's own editor."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea


class EditorScreen(Screen[None]):
    """Python highlighting, ctrl+s saves (and so runs the checks when watching), escape closes."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "close", "Close", priority=True),
    ]

    def __init__(self, path: Path, start: str | None = None) -> None:
        """Edit `path` (OSError if it cannot be read), or begin from `start` when it is missing."""
        super().__init__()
        self.path = path
        self.start = path.read_text(encoding="utf-8", errors="replace") if start is None else start
        # What the file on disk holds, so closing warns about unsaved text ("" when missing).
        self.saved_text = self.start if start is None else ""

    def compose(self) -> ComposeResult:
        yield Header()
        try:
            area = TextArea.code_editor(self.start, language="python", id="editor")
        except Exception:  # noqa: BLE001 - highlighting needs tree-sitter; editing does not
            area = TextArea.code_editor(self.start, id="editor")
        yield area
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Editing {self.path.name}"
        self.sub_title = "ctrl+s saves · escape closes"
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        try:
            # The folder too may have gone (the file was deleted with it): saving brings it back.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"could not save {self.path}: {exc}", severity="error")
            return
        self.saved_text = text
        self.notify(f"Saved {self.path.name}", timeout=2)

    def action_close(self) -> None:
        if self.may_leave("escape again discards them"):
            self.app.pop_screen()

    def may_leave(self, again: str) -> bool:
        """True when leaving loses nothing; else warn, once: leaving again discards the changes."""
        text = self.query_one(TextArea).text
        if text == self.saved_text:
            return True
        self.notify(f"Unsaved changes: ctrl+s saves them; {again}.")
        self.saved_text = text
        return False


def run_editor(app: App[object], editor: str, path: Path) -> str | None:
    """Hand the terminal to `editor` on `path`; None if it ran and exited cleanly, else why not.

    Every failure is caught inside the suspended block: an exception escaping it would leave the
    terminal out of application mode (a blank screen that echoes keys).
    """
    try:
        command = [*shlex.split(editor), str(path)]
    except ValueError as exc:
        return f"$EDITOR ({editor!r}) cannot be read as a command: {exc}"
    if not command[:-1] or shutil.which(command[0]) is None:
        return f"the editor {editor!r} (from $VISUAL/$EDITOR) is not installed or not on PATH"
    failure: str | None = None
    try:
        with app.suspend():
            try:
                code = subprocess.run(command, check=False).returncode
                if code != 0:
                    failure = f"the editor {editor!r} exited with code {code}"
            except OSError as exc:
                failure = f"could not start the editor {editor!r}: {exc}"
    except SuspendNotSupported:
        return f"this terminal cannot hand over to {editor!r}"
    return failure
