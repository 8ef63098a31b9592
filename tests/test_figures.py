"""Figures: the `figure` event a check sends through `metrics`, and the lab drawing it at 80x24."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from lab_fakes import FIGURES, FakeRuns, check
from rich.console import Console

from grader.events import MAX_FIGURE_BYTES, FigureError, figure_data, figure_json
from mllab.app import MllabApp
from mllab.catalog import load_catalog
from mllab.paths import course_dirs
from mllab.screens.exercise import ExerciseScreen
from mllab.summary import LiveLines
from mllab.widgets import cells
from mllab.widgets.checks import ChecksPanel
from mllab.widgets.figures import CellFigure, FigurePanel, ScatterFigure, clip_line
from mllab.workspace import init_workspace

pytest_plugins = ["pytester"]

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
CATALOG = load_catalog(course_dirs().catalog)

# ------------------------------------------------------------------------- the figure's data


def test_arrays_become_small_plain_json() -> None:
    data = figure_data(
        "scatter",
        {
            "x": torch.tensor([1.0 / 3, float("nan")], dtype=torch.float64),
            "y": np.array([2.0 / 3, np.inf]),
            "group": torch.tensor([0, 1]),
            "lines": [{"label": "w.x + b = 0", "coef": [np.float64(1.5), 2, -0.25]}],
            "caption": "x" * 500,
        },
    )
    assert data["x"] == [0.3333, None] and data["y"] == [0.6667, None]
    assert data["group"] == [0, 1] and data["lines"][0]["coef"] == [1.5, 2, -0.25]
    assert len(data["caption"]) == 120
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or Infinity tokens


@pytest.mark.parametrize("kind", sorted(FIGURES))
def test_each_kind_of_the_lab_fakes_is_well_formed(kind: str) -> None:
    assert figure_data(kind, FIGURES[kind]) == FIGURES[kind]


@pytest.mark.parametrize(
    ("kind", "data", "why"),
    [
        ("pie", {}, "unknown figure kind"),
        ("scatter", [1, 2], "is a dict"),
        ("scatter", {"x": [1.0, 2.0], "y": [1.0]}, "'y' has 1 entries, expected 2"),
        ("scatter", {"x": [1.0], "y": [1.0], "lines": [{"coef": [1.0, 2.0]}]}, "coef"),
        ("scatter", {"x": ["a"], "y": [1.0]}, "'x' is a list of numbers"),
        ("scatter", {"x": [1.0], "y": [1.0], "caption": 3}, "'caption' is a string"),
        ("heatmap", {"panels": []}, "at least one panel"),
        ("heatmap", {"panels": [{"values": [[1.0, 2.0], [3.0]]}]}, "'values'"),
        ("heatmap", {"panels": [{"values": [[1.0]], "xlabels": ["a", "b"]}]}, "xlabels"),
        ("images", {"rows": [{"images": [[1.0]]}]}, "an image"),
        ("images", {"rows": [{"images": []}], "range": [0]}, "'range'"),
        ("scatter", {"x": [object()], "y": [1.0]}, "not object"),
    ],
)
def test_data_that_does_not_fit_its_kind_is_refused(kind: str, data: Any, why: str) -> None:
    with pytest.raises(FigureError, match=why.replace("(", r"\(")):
        figure_data(kind, data)


def test_the_data_is_capped() -> None:
    side = 120  # 14,400 numbers of ~6 characters: more than the cap
    big = {"panels": [{"values": torch.rand(side, side, generator=torch.Generator())}]}
    with pytest.raises(FigureError, match=f"more than the {MAX_FIGURE_BYTES}"):
        figure_json("heatmap", big)
    small = {"panels": [{"values": torch.rand(40, 40, generator=torch.Generator())}]}
    text = figure_json("heatmap", small)
    assert len(text) <= MAX_FIGURE_BYTES and json.loads(text) == figure_data("heatmap", small)


def test_rounding_matches_four_significant_digits() -> None:
    values = np.random.default_rng(0).normal(size=2000) * 10.0 ** np.arange(-10, 10).repeat(100)
    got = figure_data("scatter", {"x": values, "y": torch.from_numpy(values)})
    assert got["x"] == got["y"] == [float(f"{v:.4g}") for v in values]


# --------------------------------------------------------------------- through the plugin

CHECKS = '''
"""Checks that send figures: well-formed, in a burst, too large, and malformed."""

import pytest
import torch

pytestmark = pytest.mark.exercise("perceptron")


def test_figures(metrics):
    """sends figures"""
    X = torch.tensor([[0.0, 1.0], [1.0, 0.0], [float("nan"), 2.0]])
    metrics.figure("line", "scatter", {"x": X[:, 0], "y": X[:, 1], "group": torch.tensor([0, 1, 1]),
                                       "lines": [{"label": "boundary", "coef": [1.0, -1.0, 0.0]}]})
    for step in range(1, 51):
        metrics.figure("burst", "heatmap", {"panels": [{"values": [[step, 0.0]]}]}, step=step)
    metrics.figure("huge", "images", {"rows": [{"images": torch.zeros(20, 40, 40)}]})
    metrics.figure("broken", "scatter", {"x": [1.0, 2.0], "y": [1.0]})
'''


def test_the_plugin_streams_well_formed_capped_coalesced_figures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_checks=CHECKS)
    events_path, report_path = pytester.path / "events.jsonl", pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "grader.plugin", f"--mllab-workspace={SOLUTIONS}",
        f"--mllab-events={events_path}", f"--mllab-report={report_path}", timeout=180,
    )  # fmt: skip
    # Figures that cannot be sent are dropped with a warning; the check's verdict is its own.
    result.assert_outcomes(passed=1, warnings=2)
    result.stdout.fnmatch_lines(["*FigureWarning: figure 'huge' not sent: the data takes*"])
    result.stdout.fnmatch_lines(["*FigureWarning: figure 'broken' not sent: 'y' has 1 entries*"])
    lines = events_path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line, parse_constant=_refuse) for line in lines]
    figures = [e for e in events if e["event"] == "figure"]
    for figure in figures:
        assert set(figure) == {
            "event", "time", "check", "exercise", "name", "kind", "step", "schema", "data",
        }  # fmt: skip
        assert figure["check"] == "test_checks.py::test_figures"
        assert figure["exercise"] == "perceptron" and figure["schema"] == "mllab-figure/1"
        assert len(json.dumps(figure["data"])) <= MAX_FIGURE_BYTES
    assert {f["name"] for f in figures} == {"line", "burst"}
    line = next(f for f in figures if f["name"] == "line")
    assert line["kind"] == "scatter" and line["data"]["x"] == [0.0, 1.0, None]
    # The burst coalesces: far fewer than 50 are sent, the newest always among them.
    steps = [f["step"] for f in figures if f["name"] == "burst"]
    assert steps[0] == 1 and steps[-1] == 50 and len(steps) < 10
    kinds = [e["event"] for e in events]
    assert max(i for i, k in enumerate(kinds) if k == "figure") < kinds.index("check_finished")
    # Reports never hold figures.
    report = report_path.read_text(encoding="utf-8")
    assert "burst" not in report and "boundary" not in report and "mllab-figure" not in report


def _refuse(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


GRADER_CHECKS = Path(__file__).resolve().parent.parent / "grader" / "checks"
# Training checks whose figure changes as the learner's model trains: the check, the figure,
# and the steps of its pictures in the order they are made.
ANIMATED = {
    # The standardized fit from zeros, after 2 and 3000 steps, then the raw one on the way.
    "test_linear_regression.py::test_standardized_vs_raw": (
        "diabetes fit", [0, 2, 3000, 10, 1000, 3000]),
    # The region at the start, after 3 and 20 steps (shorter runs), and after all 60.
    "test_autograd.py::test_learns_moons": ("moons region", [0, 3, 20, 60]),
}  # fmt: skip


def test_training_checks_animate_their_figure_on_the_solution(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    events_path = pytester.path / "events.jsonl"
    result = pytester.runpytest_subprocess(
        "-p", "grader.plugin", "-p", "pytest_timeout", f"--mllab-workspace={SOLUTIONS}",
        f"--mllab-events={events_path}", "--mllab-device=cpu",
        *(str(GRADER_CHECKS / check) for check in ANIMATED), timeout=180,
    )  # fmt: skip
    result.assert_outcomes(passed=len(ANIMATED))
    lines = events_path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line, parse_constant=_refuse) for line in lines]
    for nodeid, (name, steps) in ANIMATED.items():
        figures = [e for e in events if e["event"] == "figure" and e["name"] == name]
        assert figures and all(f["check"].startswith(nodeid) for f in figures)
        assert all(f["kind"] == "scatter" and len(f["data"]["x"]) > 300 for f in figures)
        # Pictures in training order, from the start to the judged weights; one that comes
        # within 0.05 s of the one before may be replaced by the next (on a fast machine).
        sent = [f["step"] for f in figures]
        remaining = iter(steps)
        assert sent[0] == 0 and sent[-1] == steps[-1] and all(s in remaining for s in sent), sent
        finished = next(i for i, e in enumerate(events) if e["event"] == "check_finished"
                        and e["check"]["nodeid"].startswith(nodeid))  # fmt: skip
        assert events.index(figures[-1]) < finished


WATCH = '''
import pytest

pytestmark = pytest.mark.exercise("perceptron")


def test_watch(metrics):
    """says whether anyone watches"""
    print("watched:", metrics.watched)
'''


@pytest.mark.parametrize("streamed", [True, False])
def test_checks_know_whether_anyone_watches(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    # Batch grading streams no events: checks then skip the runs that only feed a figure.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_checks=WATCH)
    events = [f"--mllab-events={pytester.path / 'events.jsonl'}"] if streamed else []
    result = pytester.runpytest_subprocess(
        "-s", "-p", "no:cacheprovider", "-p", "grader.plugin", f"--mllab-workspace={SOLUTIONS}",
        *events, timeout=180,
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*watched: {streamed}*"])


def test_the_command_line_ignores_figures() -> None:
    console = Console(record=True, width=80)
    LiveLines(console)({"event": "figure", "name": "line", "kind": "scatter", "data": {}})
    assert console.export_text() == ""


# ------------------------------------------------------------------------- drawing, pure


def test_a_line_is_clipped_to_the_plot() -> None:
    box = (-1.0, 1.0, -2.0, 2.0)
    assert clip_line([1.0, -1.0, 0.0], box) == [(-1.0, -1.0), (1.0, 1.0)]  # y = x
    assert clip_line([1.0, 0.0, -0.5], box) == [(0.5, -2.0), (0.5, 2.0)]  # x = 0.5, vertical
    assert clip_line([0.0, 1.0, -5.0], box) == []  # y = 5: outside
    assert clip_line([0.0, 0.0, 1.0], box) == [] and clip_line([None, 1.0, 0.0], box) == []


@pytest.mark.parametrize(("width", "height"), [(38, 8), (78, 15), (36, 9), (60, 20)])
@pytest.mark.parametrize("kind", ["heatmap", "images"])
def test_cell_figures_fit_the_space_they_are_given(kind: str, width: int, height: int) -> None:
    text, legend = getattr(cells, kind)(FIGURES[kind], width, height)
    rows = text.split()
    assert "▀" in text.plain and all(row.cell_len <= width for row in rows)
    assert len(rows) <= height and legend.cell_len < 80


@pytest.mark.parametrize(("width", "height"), [(20, 4), (1, 1), (0, 0)])
@pytest.mark.parametrize("kind", ["heatmap", "images"])
def test_too_small_a_space_is_cut_not_raised(kind: str, width: int, height: int) -> None:
    text, _ = getattr(cells, kind)(FIGURES[kind], max(1, width), max(1, height))
    # At scale 1 a heat map still draws (the widget shows what fits); images that do not fit
    # across are left out.
    assert ("▀" in text.plain) == (kind == "heatmap" or width >= 8)


def test_images_show_their_row_labels_when_there_is_room() -> None:
    roomy, legend = cells.images(FIGURES["images"], 78, 15)
    assert "originals" in roomy.plain and not legend.plain
    tight, legend = cells.images(FIGURES["images"], 38, 8)
    assert "originals" not in tight.plain and legend.plain == "top: originals · bottom: decoded"


def test_garbage_in_a_figure_is_drawn_around_not_raised() -> None:
    garbage = {"panels": [{"values": [[1, "x", None], 5, []], "ylabels": ["a"]}, "no", {}]}
    text, _ = cells.heatmap(garbage, 30, 10)
    assert "▀" in text.plain
    cells.images({"rows": [{"images": [[[True]], "x"]}], "range": ["a", None]}, 30, 10)


# ------------------------------------------------------------------------------ in the lab


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "course", CATALOG, course_dirs())
    return tmp_path / "course"


async def _until(pilot, condition, seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not get there in time")


async def _run(pilot, app: MllabApp) -> ExerciseScreen:
    await _until(pilot, lambda: app.screen.query("#exercises"))
    await pilot.press("enter")
    await _until(pilot, lambda: isinstance(app.screen, ExerciseScreen))
    await pilot.press("r")
    await _until(pilot, lambda: "to fix" in str(app.screen.query_one("#status").render()))
    await pilot.pause(0.3)  # a redraw tick of the figure
    return app.screen  # type: ignore[return-value]


RESULTS = [check("one"), check("two", "failed", message="w differs at [3]")]


@pytest.mark.parametrize("kind", ["scatter", "heatmap", "images"])
async def test_the_checks_tab_draws_a_figure_at_80x24(workspace: Path, kind: str) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(RESULTS, metrics=5, figures=(kind,)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _run(pilot, app)
        panel = screen.query_one(FigurePanel)
        assert panel.display and screen.query_one("#plot").display
        assert panel.region.width >= 30 and panel.region.height >= 8
        title = str(screen.query_one("#figure-title").render())
        assert title.startswith(f"a {kind} · ") and FIGURES[kind]["caption"] in title
        widget = screen.query_one(ScatterFigure if kind == "scatter" else CellFigure)
        assert widget.display and widget.region.height >= 6
        shown = str(widget.render())
        if kind == "scatter":
            assert any(0x2800 < ord(c) <= 0x28FF for c in shown)  # braille dots
            assert "Gentoo" in str(screen.query_one("#figure-legend").render())
        else:
            assert "▀" in shown
        # The checks stay in view above the plot and the figure.
        assert screen.query_one(ChecksPanel).region.height >= 4
        await pilot.press("z")
        await pilot.pause(0.2)
        assert not screen.query_one(ChecksPanel).display
        assert panel.region.height >= 15
        await pilot.press("z")
        await pilot.pause(0.2)
        assert screen.query_one(ChecksPanel).display


async def test_a_new_run_hides_the_last_runs_figure_until_one_arrives(workspace: Path) -> None:
    runs = FakeRuns(RESULTS, figures=("heatmap",))
    app = MllabApp(CATALOG, workspace, runner=runs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _run(pilot, app)
        assert screen.query_one(FigurePanel).display
        assert not screen.query_one("#plot").display  # no metrics in this run
        runs.hang = True
        await pilot.press("r")
        await pilot.pause(0.2)
        assert not screen.query_one(FigurePanel).display and not screen.query_one("#live").display
        assert screen.query_one(FigurePanel).figures == {}
        await pilot.press("z")  # nothing to zoom into yet: the checks stay
        await pilot.pause(0.1)
        assert screen.query_one(ChecksPanel).display
        await pilot.press("c")


async def test_a_malformed_figure_event_is_ignored_or_drawn_around(workspace: Path) -> None:
    app = MllabApp(CATALOG, workspace, runner=FakeRuns(RESULTS))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _run(pilot, app)
        panel = screen.query_one(FigurePanel)
        for event in (
            {"event": "figure", "kind": "pie", "data": {}},
            {"event": "figure", "kind": "scatter", "data": "x"},
        ):
            screen.post_message(ExerciseScreen.GraderEvent(event))
        await pilot.pause(0.3)
        assert not panel.display
        odd = {"x": [1, "a", None], "y": [2], "group": "x", "lines": [{"coef": "x"}, 3]}
        screen.post_message(
            ExerciseScreen.GraderEvent({"event": "figure", "kind": "scatter", "data": odd})
        )
        await pilot.pause(0.3)
        assert panel.display and screen.query_one(ScatterFigure).display
