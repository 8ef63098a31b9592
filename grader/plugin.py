"""The pytest plugin: options, markers and fixtures for mllab's checks, and the report they make.

Loaded through the `pytest11` entry point; it stays inert for tests that carry no `exercise`
marker, so it never changes how other test suites run.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import pytest

from grader.events import FIGURE_INTERVAL, FIGURE_SCHEMA, FigureError, FigureWarning, figure_json
from grader.run import PUBLIC_SEED, GradingRun, Metrics

RUN = pytest.StashKey[GradingRun]()

_OPTIONS = [
    ("workspace", "folder holding the learner's files at the catalog's paths", None),
    ("exercise", "grade only these exercise ids (comma-separated, repeatable)", None),
    ("device", "devices to check on: cpu, cuda or all", "all"),
    ("seed", f"seed for random inputs; {PUBLIC_SEED} is the public one", str(PUBLIC_SEED)),
    ("report", "write the JSON report (mllab-report/1) to this file", None),
    ("events", "write the JSON-lines event stream to this file, or fd:N", None),
    ("timeout", "seconds one call into the learner's code may take", "10"),
    ("memory-mb", "memory limit of the submission worker, in MiB", "4096"),
    (
        "isolation",
        "how submission workers are isolated: process, bwrap (Linux), or auto: bwrap for a "
        "secret seed (refused where bwrap cannot run), process for the public one",
        "auto",
    ),
    ("hide", "a file or folder workers must not see (repeatable; outputs, submissions)", None),
    (
        "course-manifest",
        "JSON {file: digest} of the checks and solutions; grade nothing if the ones used differ",
        None,
    ),
    ("grader-memory-mb", "memory limit (data) of this grader process, in MiB", "8192"),
    ("record", "record each reference call and its result in this folder (for releases)", None),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mllab", "mllab grading")
    for name, help_text, default in _OPTIONS:
        group.addoption(
            f"--mllab-{name}",
            action="append" if name in ("exercise", "hide") else "store",
            dest=f"mllab_{name.replace('-', '_')}",
            help=f"{help_text} (ini: mllab_{name.replace('-', '_')})",
        )
        parser.addini(f"mllab_{name.replace('-', '_')}", help_text, default=default)


def option(config: pytest.Config, name: str) -> Any:
    key = f"mllab_{name.replace('-', '_')}"
    value = config.getoption(key)
    return value if value is not None else config.getini(key)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): ties a check to the exercise it grades")
    config.addinivalue_line("markers", "points(n): what a check is worth (default 1)")
    config.addinivalue_line(
        "markers",
        "needs_passing(*checks): a rule about how the code is written (or about inputs left "
        "unchanged) that earns its points only once these checks of its exercise have passed",
    )
    config.stash[RUN] = GradingRun(config, option)
    config.pluginmanager.register(_CollectErrors(config.stash[RUN]), "mllab-collect-errors")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames and metafunc.definition.get_closest_marker("exercise"):
        devices = metafunc.config.stash[RUN].devices
        metafunc.parametrize("device", devices, indirect=True, ids=devices)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    run = config.stash[RUN]
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("exercise")
        if marker is None:
            keep.append(item)
        elif run.selected(marker.args[0]):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    items[:] = _after_their_dependencies(items)
    run.collected([item for item in items if item.get_closest_marker("exercise")])


def _after_their_dependencies(items: list[pytest.Item]) -> list[pytest.Item]:
    """Each module's checks in file order, but a `needs_passing` check after those it names."""
    if not any(item.get_closest_marker("needs_passing") for item in items):
        return items
    names = {item: getattr(item, "originalname", item.name).removeprefix("test_") for item in items}
    levels: dict[tuple[Any, str], int] = {}

    def level(item: pytest.Item, seen: frozenset[str] = frozenset()) -> int:
        marker = item.get_closest_marker("needs_passing")
        key = (item.parent, names[item])
        if marker is None or names[item] in seen:
            return 0
        if key not in levels:
            wanted = {str(n).removeprefix("test_") for n in marker.args}
            deps = [o for o in items if o.parent is item.parent and names[o] in wanted]
            levels[key] = 1 + max((level(d, seen | {names[item]}) for d in deps), default=0)
        return levels[key]

    blocks: list[list[pytest.Item]] = []
    for item in items:  # consecutive items of one module form a block, sorted stably
        if blocks and blocks[-1][-1].parent is item.parent:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    return [item for block in blocks for item in sorted(block, key=level)]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Checks live one module per exercise (test_<id>.py). A run that selects exercises does not
    # import the other modules: their imports (scikit-learn, ...) cost seconds per run.
    run = config.stash.get(RUN, None)
    if run is None or not run.wanted or not collection_path.name.startswith("test_"):
        return None
    exercise_id = collection_path.stem.removeprefix("test_")
    try:
        known = exercise_id in run.catalog.ids
    except Exception:  # noqa: BLE001 - a broken catalog is reported when checks need it
        return None
    return True if known and exercise_id not in run.wanted else None


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A check without a `device` (a NumPy exercise) computes on the CPU: a cuda-only run skips it.
    run = item.config.stash[RUN]
    uses_device = "device" in getattr(item, "fixturenames", ())
    if item.get_closest_marker("exercise") and not uses_device and "cpu" not in run.devices:
        pytest.skip("this check runs on the CPU only, and this run asked for cuda only")


class _CollectErrors:
    """Turns a check module that fails to import into a report-level error."""

    def __init__(self, run: GradingRun) -> None:
        self.run = run

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.run.errors.append(
                f"could not load checks from {report.nodeid}: {report.longreprtext}"
            )


def pytest_collection_finish(session: pytest.Session) -> None:
    run = session.config.stash[RUN]
    if run.active and not (run.verify_isolation() and run.verify_course()):
        # Nothing is graded without the isolation asked for, nor with checks or references
        # that a submission may have rewritten.
        session.items[:] = [item for item in session.items if item not in run.checks]
        run.checks = []
    if run.active:
        run.started()
    if "sklearn" in sys.modules:
        # scikit-learn is an oracle here, called by the checks with arguments they control:
        # checking those arguments on every call costs more than many a whole check.
        import sklearn

        sklearn.set_config(skip_parameter_validation=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if item.get_closest_marker("exercise") is not None:
        item.config.stash[RUN].phase(item, call, report)
        _forget_values(call)
    return report


def _forget_values(call: pytest.CallInfo[None]) -> None:
    """A failed check's frames hold what the learner's code returned (perhaps hundreds of MiB):
    its message is taken, so let them go now rather than at the next failure."""
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if getattr(sys, name, None) is not None:
            setattr(sys, name, None)
    if call.excinfo is not None:
        with contextlib.suppress(RuntimeError):
            traceback.clear_frames(call.excinfo.tb)


def pytest_sessionfinish(session: pytest.Session) -> None:
    session.config.stash[RUN].finish()


# ------------------------------------------------------------------------------------ fixtures


def _run(request: pytest.FixtureRequest) -> GradingRun:
    return request.config.stash[RUN]


@pytest.fixture
def exercise(request: pytest.FixtureRequest) -> Any:
    """The catalog entry of the exercise this check grades."""
    return _run(request).exercise_for(request.node)


@pytest.fixture
def submission(request: pytest.FixtureRequest, exercise: Any) -> Any:
    """A proxy: `submission.fn(*args)` runs the learner's `fn` in the sandboxed worker."""
    proxy = _run(request).submission(exercise)
    yield proxy
    _run(request).record_output(request.node.nodeid, proxy.take_output())


@pytest.fixture
def source_tree(request: pytest.FixtureRequest, exercise: Any) -> Any:
    """The learner's file as an `ast.Module`, read in the grader and never run there."""
    return _run(request).source_tree(exercise)


@pytest.fixture
def reference(request: pytest.FixtureRequest, exercise: Any) -> Any:
    """The reference solution module, loaded in this trusted process.

    While recording for a release it records each call; in a release it replays them.
    """
    return _run(request).reference(exercise)


@pytest.fixture
def device(request: pytest.FixtureRequest) -> Any:
    """The torch.device a check runs on; a CUDA check without CUDA is reported as not run."""
    import torch

    name = request.param
    if name == "cuda" and not torch.cuda.is_available():
        pytest.skip(_run(request).cuda_reason())
    return torch.device(name)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A per-check seed derived from the run's seed; secret seeds give hidden inputs."""
    node = request.node
    name = getattr(node, "originalname", node.name)
    # Named by file, not by import path: a release's copy of the checks must draw the same inputs.
    # The prefix keeps the inputs checks have always drawn from grader/checks.
    module = f"grader.checks.{Path(node.module.__file__).stem}"
    text = f"{_run(request).seed}/{module}/{name}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@pytest.fixture
def rng(seed: int) -> Any:
    """A torch.Generator seeded for this check."""
    import torch

    return torch.Generator().manual_seed(seed)


@pytest.fixture
def metrics(request: pytest.FixtureRequest) -> Any:
    """`metrics.emit(name, value, step)` streams a live training metric to the app, and
    `metrics.figure(name, kind, data, step)` a figure (docs/events.md)."""
    live = LiveMetrics(_run(request), request.node)
    yield live
    live.flush()


class LiveMetrics(Metrics):
    """Metrics, and figures: the newest figure of a name replaces one not yet sent.

    A name sends at most one figure per FIGURE_INTERVAL; one held back goes with the next call
    after the interval, or when the check ends (before its result). A figure never changes what
    a check decides: data that does not fit its kind is dropped with a FigureWarning.
    """

    def __init__(self, run: GradingRun, item: pytest.Item) -> None:
        super().__init__(run, item)
        self.sent: dict[str, float] = {}
        self.held: dict[str, tuple[str, Any, int | None]] = {}

    def figure(self, name: str, kind: str, data: Any, step: int | None = None) -> None:
        """Show `data` as a figure of `kind` (scatter, heatmap, images) while the check runs.

        `data` is read when the figure is sent, at the latest when the check ends: pass arrays
        that are not changed in place afterwards.
        """
        if not self.watched:
            return  # skip the work
        self.held[name] = (kind, data, step)
        now = time.monotonic()
        for held in list(self.held):
            if now - self.sent.get(held, -math.inf) >= FIGURE_INTERVAL:
                self._send(held, now)

    def flush(self) -> None:
        for name in list(self.held):
            self._send(name, time.monotonic())

    def _send(self, name: str, now: float) -> None:
        kind, data, step = self.held.pop(name)
        try:
            encoded = figure_json(kind, data)
        except FigureError as exc:
            warnings.warn(f"figure {name!r} not sent: {exc}", FigureWarning, stacklevel=3)
            return
        self.sent[name] = now
        self.run.events.emit(
            "figure",
            check=self.nodeid,
            exercise=self.exercise,
            name=name,
            kind=kind,
            step=step,
            schema=FIGURE_SCHEMA,
            encoded={"data": encoded},
        )
