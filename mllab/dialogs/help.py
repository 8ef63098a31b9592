"""The help screen: what the lab does and which keys do it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# mllab

Implement each exercise in its file; the lab runs its checks every time you save.

## The course
- **↑/↓, Enter**: pick and open an exercise
- **/**: filter by words from a title, track or status (Enter opens a single match);
  **Escape** clears
- **r**: resume where you left off

## An exercise
- **←/→** or **Tab**: the next tab (1-4 pick one); **↑/↓, PageUp/PageDown** scroll it
- **e**: edit your file (in `$VISUAL`/`$EDITOR`, or the built-in editor)
- **r**: run the checks now; **c**: cancel a run at once
- **w**: watch mode on/off (checks run on every save)
- **h**: reveal the next hint
- **d**: run checks on all devices, cpu only, or cuda only
- **z**: the live plot and figures fill the Checks tab (again: back)
- **s**: after all checks pass, your file beside the reference solution
- **n**: the next exercise; **Escape**: back to the course

## Everywhere
- **ctrl+p**: command palette (themes, keys, quit)
- **?**: this help; **q**: quit

From a shell: `mllab check`, `mllab hint ID`, `mllab list`, `mllab --help`.
"""


class HelpScreen(ModalScreen[None]):
    """Dismissed with escape, q or ?."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
