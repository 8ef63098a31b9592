"""The state of one grading run: selected exercises, workers, events and collected results."""

from __future__ import annotations

import ast
import datetime
import importlib.util
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader import formats, replay
from grader.errors import CheckFailure
from grader.events import SCHEMA as EVENTS_SCHEMA
from grader.events import EventWriter, finite
from grader.report import CheckResult, ExerciseResult, Report
from grader.sandbox.host import Limits
from grader.sandbox.isolation import ISOLATIONS
from grader.submission import Submission, WorkerPool
from mllab.catalog import Catalog, Exercise, load_catalog
from mllab.paths import course_dirs

PUBLIC_SEED = 0
DEVICES = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu", "cuda"]}


class GradingRun:
    """Everything the plugin's hooks and fixtures share; lives in the pytest config's stash."""

    def __init__(self, config: pytest.Config, option: Callable[[pytest.Config, str], Any]) -> None:
        self.config = config
        self.option = option
        self.dirs = course_dirs()
        self._catalog: Catalog | None = None
        self._pool: WorkerPool | None = None
        self._references: dict[str, types.ModuleType] = {}
        device = str(option(config, "device"))
        if device not in DEVICES:
            raise pytest.UsageError(f"--mllab-device must be cpu, cuda or all, not {device!r}")
        self.devices = DEVICES[device]
        try:
            self.seed = int(option(config, "seed"))
        except ValueError:
            raise pytest.UsageError("--mllab-seed must be a whole number") from None
        self.seed_kind = "public" if self.seed == PUBLIC_SEED else "secret"
        self.isolation = str(option(config, "isolation"))
        if self.isolation not in ISOLATIONS:
            raise pytest.UsageError(f"--mllab-isolation must be one of {', '.join(ISOLATIONS)}")
        record = option(config, "record")
        self.record_to = Path(record).resolve() if record else None
        if self.record_to is not None and self.seed != PUBLIC_SEED:
            raise pytest.UsageError("--mllab-record records the public seed's calls only")
        self.recordings: dict[str, replay.Recording] = {}
        wanted = option(config, "exercise") or []
        wanted = [wanted] if isinstance(wanted, str) else wanted
        self.wanted = {
            part.strip() for entry in wanted for part in entry.split(",") if part.strip()
        }
        self.events = EventWriter(option(config, "events"))
        self.checks: list[pytest.Item] = []
        self.partial: dict[str, dict[str, Any]] = {}
        self.results: dict[str, CheckResult] = {}
        self.outputs: dict[str, str] = {}
        self.errors: list[str] = []
        self.started_at = time.monotonic()
        self.active = False

    # ------------------------------------------------------------------------------ course

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.dirs.catalog)
        return self._catalog

    def selected(self, exercise_id: str) -> bool:
        return not self.wanted or exercise_id in self.wanted

    def exercise_for(self, item: pytest.Item) -> Exercise:
        marker = item.get_closest_marker("exercise")
        if marker is None or not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: a check needs @pytest.mark.exercise(id)")
        try:
            return self.catalog.get(marker.args[0])
        except KeyError:
            raise pytest.UsageError(
                f"{item.nodeid}: exercise {marker.args[0]!r} is not in {self.catalog.source}"
            ) from None

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            workspace = self.option(self.config, "workspace") or "."
            limits = Limits(
                call_timeout=float(self.option(self.config, "timeout")),
                memory_mb=int(self.option(self.config, "memory-mb")),
                blocked_folders=(str(self.dirs.solutions),),
                isolation=self.isolation,
            )
            self._pool = WorkerPool(Path(workspace).resolve(), limits)
        return self._pool

    def source_tree(self, exercise: Exercise) -> ast.Module:
        """The learner's file parsed (never run here), for checks about how it is written."""
        path = self.pool.workspace / exercise.path
        try:
            return ast.parse(path.read_text(encoding="utf-8"), filename=exercise.path)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
            raise CheckFailure(f"could not read {exercise.path}: {exc}") from None

    def submission(self, exercise: Exercise) -> Submission:
        return Submission(self.pool, exercise.id, exercise.path)

    def reference(self, exercise: Exercise) -> Any:
        """The reference module; a recording proxy for a release, a replay inside a release."""
        if self.record_to is not None:
            recording = self.recordings.setdefault(exercise.id, replay.Recording(exercise.id))
            return replay.RecordingReference(self._reference_module(exercise), recording)
        solution = self.dirs.solutions / exercise.path
        if not solution.is_file() and self.dirs.replay.is_dir():
            return replay.open_replay(self.dirs.replay, exercise.id, self.seed == PUBLIC_SEED)
        return self._reference_module(exercise)

    def _reference_module(self, exercise: Exercise) -> types.ModuleType:
        if exercise.id not in self._references:
            path = self.dirs.solutions / exercise.path
            if not path.is_file():
                raise RuntimeError(f"the reference solution {path} is missing")
            name = f"_mllab_reference_{exercise.id}"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._references[exercise.id] = module
        return self._references[exercise.id]

    def cuda_reason(self) -> str:
        import torch

        if torch.version.cuda is None:
            return (
                f"this torch ({torch.__version__}) is a CPU-only build, so CUDA checks cannot run"
            )
        return "no CUDA device is available on this machine"

    def metrics_for(self, item: pytest.Item) -> Metrics:
        return Metrics(self, item)

    def record_output(self, nodeid: str, text: str) -> None:
        if text:
            self.outputs[nodeid] = self.outputs.get(nodeid, "") + text

    # ------------------------------------------------------------------------------ events

    def collected(self, items: list[pytest.Item]) -> None:
        self.checks = items
        # Ordinary test suites run with this plugin loaded; they get no events and no report.
        asked = self.option(self.config, "report") or self.option(self.config, "events")
        self.active = bool(items) or bool(asked) or bool(self.errors)

    def started(self) -> None:
        self.events.emit(
            "run_started",
            schema=EVENTS_SCHEMA,
            seed_kind=self.seed_kind,
            devices=self.devices,
            checks=[self.describe(item) for item in self.checks],
        )

    def describe(self, item: pytest.Item) -> dict[str, Any]:
        points = item.get_closest_marker("points")
        device = getattr(item, "callspec", None)
        doc = (getattr(item, "obj", None).__doc__ or "").strip().splitlines()
        return {
            "nodeid": item.nodeid,
            "exercise": self.exercise_for(item).id,
            "name": getattr(item, "originalname", item.name).removeprefix("test_"),
            "title": doc[0] if doc else "",
            "device": device.params.get("device") if device is not None else None,
            "max_points": float(points.args[0]) if points and points.args else 1.0,
        }

    def phase(
        self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> None:
        state = self.partial.setdefault(item.nodeid, {"outcome": None, "message": ""})
        if report.when == "setup":
            self.events.emit("check_started", check=self.describe(item))
        if report.skipped and state["outcome"] is None:
            state["outcome"], state["message"] = "not_run", _skip_reason(report)
        elif report.failed and state["outcome"] in (None, "passed"):
            state["outcome"], state["message"] = _failure(call, report)
        elif report.passed and report.when == "call" and state["outcome"] is None:
            state["outcome"] = "passed"
        state["duration"] = state.get("duration", 0.0) + report.duration
        if report.when == "teardown":
            self._finish_check(item, state)

    def _finish_check(self, item: pytest.Item, state: dict[str, Any]) -> None:
        info = self.describe(item)
        outcome = state["outcome"] or "error"
        output = self.outputs.pop(item.nodeid, "")
        result = CheckResult(
            name=info["name"],
            title=info["title"],
            outcome=outcome,
            points=info["max_points"] if outcome == "passed" else 0.0,
            max_points=info["max_points"],
            device=info["device"],
            message=state["message"],
            nodeid=item.nodeid,
            duration=round(state["duration"], 4),
            output=output,
        )
        self.results[item.nodeid] = result
        if output:
            self.events.emit("output", check=item.nodeid, exercise=info["exercise"], text=output)
        self.events.emit("check_finished", exercise=info["exercise"], check=result.to_dict())

    def finish(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self.record_to is not None:
            import torch

            for recording in self.recordings.values():
                recording.save(self.record_to, torch.__version__)
        if not self.active:
            self.events.close()
            return
        report = self.report()
        path = self.option(self.config, "report")
        if path:
            Path(path).write_text(formats.to_json(report), encoding="utf-8")
        self.events.emit("run_finished", report=report.to_dict())
        self.events.close()

    def report(self) -> Report:
        by_exercise: dict[str, list[CheckResult]] = {}
        for item in self.checks:
            result = self.results.get(item.nodeid)
            if result is not None:
                by_exercise.setdefault(self.exercise_for(item).id, []).append(result)
        exercises = tuple(
            ExerciseResult(id=entry.id, title=entry.title, checks=tuple(by_exercise[entry.id]))
            for entry in self.catalog.exercises
            if entry.id in by_exercise
        )
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return Report(
            exercises=exercises,
            seed_kind=self.seed_kind,
            errors=tuple(self.errors),
            created=created,
        )


class Metrics:
    """Live metrics from a check: each `emit` becomes one `metric` event."""

    def __init__(self, run: GradingRun, item: pytest.Item) -> None:
        self.run = run
        self.nodeid = item.nodeid
        self.exercise = run.exercise_for(item).id

    def labelled(self, label: str) -> Callable[[str, float, int | None], None]:
        """A `log` for a learner's run whose series show as "<name> (<label>)"."""

        def log(name: str, value: float, step: int | None = None) -> None:
            self.emit(f"{name} ({label})", value, step)

        return log

    def emit(self, name: str, value: float, step: int | None = None) -> None:
        self.run.events.emit(
            "metric",
            check=self.nodeid,
            exercise=self.exercise,
            name=name,
            step=step,
            value=finite(float(value)),
        )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure(call: pytest.CallInfo[None], report: pytest.TestReport) -> tuple[str, str]:
    """A failed phase's outcome and message: an assertion is the learner's, anything else ours."""
    excinfo = call.excinfo
    if excinfo is None:
        return "error", report.longreprtext[-2000:]
    exc = excinfo.value
    if report.when == "call" and isinstance(exc, AssertionError):
        return "failed", str(exc)
    if report.when == "call" and isinstance(exc, pytest.fail.Exception):
        return "failed", str(exc.msg)
    detail = str(excinfo.getrepr(style="short"))[-2000:]
    return "error", f"the grader failed while checking ({type(exc).__name__}): {exc}\n{detail}"
