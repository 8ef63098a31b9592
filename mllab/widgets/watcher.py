"""Watches the learner's file and says when it changed: debounced, and safe with editors that
save by writing a new file and renaming it over the old one (the folder is watched, not the file).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work
from textual.message import Message
from textual.widget import Widget

DEBOUNCE_MS = 200  # at most this long to group a burst of events
STEP_MS = 20  # a burst ends after this long without events: an editor's save is one burst


class FileWatcher(Widget):
    """Invisible; posts `FileWatcher.Changed` after the file is written, at most once per burst."""

    DEFAULT_CSS = "FileWatcher { display: none; }"

    class Changed(Message):
        """The watched file was written (or replaced)."""

    def __init__(self, path: Path, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.path = path
        self.stop = asyncio.Event()

    def on_mount(self) -> None:
        self.watch_file()

    def on_unmount(self) -> None:
        self.stop.set()

    @work(exclusive=True, exit_on_error=False, group="watch")
    async def watch_file(self) -> None:
        from watchfiles import awatch

        folder, name = self.path.parent, self.path.name
        if not folder.is_dir():
            return
        async for changes in awatch(
            folder, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self.stop, recursive=False
        ):
            if any(Path(changed).name == name for _, changed in changes) and self.path.is_file():
                self.post_message(self.Changed())
