"""Watches the learner's file and says when it changed: debounced, and safe with editors that
save by writing a new file and renaming it over the old one (the folder is watched, not the file).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from textual import work
from textual.message import Message
from textual.widget import Widget

DEBOUNCE_MS = 200  # at most this long to group a burst of events
STEP_MS = 20  # a burst ends after this long without events: an editor's save is one burst
POLL_SECONDS = 0.5  # how often a watcher whose folder is gone looks for it again


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
        while not self.stop.is_set():
            if not folder.is_dir():
                # Gone (deleted, or a branch without it): watching it is over until it is back,
                # so look for it now and then; the file coming back with it is a change.
                await self._sleep(POLL_SECONDS)
                if folder.is_dir() and self.path.is_file():
                    self.post_message(self.Changed())
                continue
            watch = awatch(
                folder, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self.stop, recursive=False
            )
            async with contextlib.aclosing(watch):  # leaving the loop ends the OS watch now
                async for changes in watch:
                    if any(Path(p).name == name for _, p in changes) and self.path.is_file():
                        self.post_message(self.Changed())
                    if not folder.is_dir():
                        break  # a watch on a deleted folder never reports again

    async def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less if the watcher is stopped meanwhile."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
