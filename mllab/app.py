"""The lab: the Textual app a learner gets by typing `mllab`. Wiring only; screens do the work."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from mllab.catalog import Catalog
from mllab.dialogs.create import CreateWorkspace
from mllab.dialogs.help import HelpScreen
from mllab.lab import Lab, RunnerFactory
from mllab.paths import CourseDirs, course_dirs
from mllab.runner import GraderRun
from mllab.screens.course import CourseScreen
from mllab.screens.editor import EditorScreen
from mllab.screens.exercise import ExerciseScreen
from mllab.warm import WarmGrader
from mllab.workspace import MARKER, WorkspaceError, find_workspace, init_workspace


def child_workspaces(folder: Path) -> list[Path]:
    """Workspaces one level below `folder` (where `mllab init NAME` puts one)."""
    try:
        return sorted(p for p in folder.iterdir() if (p / MARKER).is_dir())
    except OSError:
        return []


class MllabApp(App[None]):
    """Opens the workspace found from `start` (or offers to create one) and resumes there."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "mllab"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        catalog: Catalog,
        start: Path | None = None,
        *,
        dirs: CourseDirs | None = None,
        runner: RunnerFactory = GraderRun,
        warm: WarmGrader | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.start = start or Path.cwd()
        self.dirs = dirs or course_dirs()
        self.runner = warm.runner if warm is not None else runner
        self.warm = warm
        self.lab: Lab | None = None

    def on_mount(self) -> None:
        if self.warm is not None:
            # After the first frame: importing torch in the warm grader takes a core for seconds.
            self.call_after_refresh(self.warm.start)
        try:
            workspace = find_workspace(None, self.catalog, self.start)
        except WorkspaceError:
            inside = child_workspaces(self.start)
            if len(inside) == 1:
                # Started in the folder that holds the workspace: open it, don't offer another.
                self.notify(f"Opened the workspace in {inside[0].name}/.", timeout=4)
                self.open_lab(inside[0])
                return
            self.push_screen(CreateWorkspace(self.start / "mllab-course"), self.created)
            return
        self.open_lab(workspace.root)

    def created(self, folder: Path | None) -> None:
        if folder is None:
            self.exit()
            return
        target = folder if folder.is_absolute() else self.start / folder
        try:
            # Inside the try: a name too long, or a folder that cannot be searched, raises here.
            there = (target / MARKER).is_dir()
            files = [] if there else init_workspace(target, self.catalog, self.dirs)
        except (WorkspaceError, OSError) as exc:
            self.notify(str(exc), title="Could not create the workspace", severity="error")
            self.push_screen(CreateWorkspace(target), self.created)
            return
        if there:
            self.open_lab(target)  # it is there already: open it rather than refuse
            return
        self.notify(f"Created {target} with {len(files)} files.", title="Workspace ready")
        self.open_lab(target)

    def open_lab(self, root: Path) -> None:
        workspace = find_workspace(str(root), self.catalog)
        self.lab = Lab(self.catalog, workspace, dirs=self.dirs, runner=self.runner)
        if self.lab.progress.notice:
            self.notify(self.lab.progress.notice, title="Progress file", severity="warning")
        self.push_screen(CourseScreen(self.lab))
        current = self.lab.progress.current
        if current in self.catalog.ids:
            self.open_exercise(current)

    def open_exercise(self, exercise_id: str, replace: bool = False) -> None:
        assert self.lab is not None
        screen = ExerciseScreen(self.lab, exercise_id)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    async def action_quit(self) -> None:
        """Quit (q, ctrl+q, the palette), but not at once over unsaved work in the editor."""
        for screen in self.screen_stack:
            if isinstance(screen, EditorScreen) and not screen.may_leave("ctrl+q again quits"):
                return
        await super().action_quit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
