"""The state of one grading run: selected exercises, workers, events and collected results."""

from __future__ import annotations

import ast
import datetime
import importlib.util
import json
import resource
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
from grader.sandbox import isolation, trusted
from grader.sandbox.host import Limits
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
        asked = str(option(config, "isolation"))
        if asked not in isolation.CHOICES:
            raise pytest.UsageError(
                f"--mllab-isolation must be one of {', '.join(isolation.CHOICES)}"
            )
        # Decided when grading starts (so that a run of the project's own tests never probes).
        self.isolation_asked = asked
        self._isolation: str | None = None
        self.memory_limited = False
        self._snapshot: trusted.Snapshot | None = None
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
        self.result_exercise: dict[str, str] = {}
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
    def isolation(self) -> str:
        """The isolation this run grades with: `auto` is bwrap for a secret seed."""
        if self._isolation is None:
            try:
                self._isolation = isolation.resolve(self.isolation_asked, self.seed != PUBLIC_SEED)
            except isolation.IsolationUnavailable as exc:
                asked = f"--mllab-isolation={self.isolation_asked}"
                raise pytest.UsageError(f"{asked}: {exc}") from None
        return self._isolation

    @property
    def workspace(self) -> Path:
        return Path(self.option(self.config, "workspace") or ".").resolve()

    @property
    def snapshot(self) -> trusted.Snapshot:
        """The learner's files and the references, read once before any learner code of this
        run: what a worker runs, what source_tree parses and what `reference` executes are these
        bytes, whatever a worker writes to disk afterwards."""
        if self._snapshot is None:
            entries = [e for e in self.catalog.exercises if self.selected(e.id)]
            self._snapshot = trusted.Snapshot.take(
                self.workspace, [e.path for e in entries], self.dirs.solutions
            )
        return self._snapshot

    def hidden(self) -> tuple[list[str], list[str]]:
        """What a worker must not see (the course, the packages, the workspace, the outputs),
        and the files whose absence each sandboxed worker proves at boot."""
        dirs = self.dirs
        paths = [dirs.root, dirs.solutions, dirs.checks, dirs.replay, dirs.exercises]
        paths += [Path(isolation.grader_package()), self.workspace]
        paths += [p for p in (trusted.mllab_package(),) if p is not None]
        paths += [Path(p) for p in (self.option(self.config, "report"),) if p]
        paths += [Path(p) for p in trusted.option_list(self.option(self.config, "hide"))]
        # Other copies on the import path: a checkout's root, installed mllab or grader packages.
        paths += trusted.course_copies(sys.path)
        hidden = sorted({str(Path(p).absolute()) for p in paths})
        probe = trusted.probe_files([dirs.solutions, dirs.checks], limit=400)
        probe += [str(self.workspace / e.path) for e in self.catalog.exercises]
        return hidden, probe

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            self.protect()
            hidden, probe = self.hidden()
            limits = Limits(
                call_timeout=float(self.option(self.config, "timeout")),
                memory_mb=int(self.option(self.config, "memory-mb")),
                hidden=tuple(hidden),
                probe=tuple(probe),
                blocked=(str(self.dirs.solutions), str(self.dirs.checks), str(self.dirs.replay)),
                isolation=self.isolation,
            )
            # Batch grading (mllab grade) is the run that passes a course manifest.
            batch = bool(self.option(self.config, "course-manifest"))
            self._pool = WorkerPool(self.workspace, limits, self.snapshot.learner, batch)
        return self._pool

    def protect(self) -> None:
        """Before the first worker: this process under a memory limit of its own, and closed
        to inspection by processes of the same user (ptrace, /proc/PID/fd, mem, environ)."""
        if self.memory_limited:
            return
        self.memory_limited = True
        isolation.protect_process()
        limit = int(self.option(self.config, "grader-memory-mb")) * 2**20
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if limit > 0 and (soft == resource.RLIM_INFINITY or soft > limit):
            # The soft limit only: the worker sets limits of its own, which may be higher.
            resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))

    def source_tree(self, exercise: Exercise) -> ast.Module:
        """The learner's file parsed (never run here), for checks about how it is written: the
        same bytes the worker runs."""
        data = self.snapshot.learner.get(exercise.path)
        if data is None:
            raise CheckFailure(f"could not read {exercise.path}: it is missing from the workspace")
        try:
            return ast.parse(data.decode("utf-8"), filename=exercise.path)
        except (UnicodeDecodeError, SyntaxError, ValueError) as exc:
            # The same words as the worker's import failure: one clean message, no traceback.
            raise CheckFailure(f"{exercise.path} could not be imported: {exc}") from None

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
            source = self.snapshot.references.get(exercise.path)
            if source is None:
                raise RuntimeError(f"the reference solution {path} is missing")
            name = f"_mllab_reference_{exercise.id}"
            spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            module.__file__ = str(path)
            sys.modules[name] = module
            # The bytes read (and, in a batch, verified) before any learner code ran.
            exec(compile(source, str(path), "exec", dont_inherit=True), module.__dict__)
            self._references[exercise.id] = module
        return self._references[exercise.id]

    def cuda_reason(self) -> str:
        import torch

        if torch.version.cuda is None:
            return (
                f"this torch ({torch.__version__}) is a CPU-only build, so CUDA checks cannot run"
            )
        return "no CUDA device is available on this machine"

    def record_output(self, nodeid: str, text: str) -> None:
        if text:
            self.outputs[nodeid] = self.outputs.get(nodeid, "") + text

    # ------------------------------------------------------------------------------ events

    def collected(self, items: list[pytest.Item]) -> None:
        self.checks = items
        # Ordinary test suites run with this plugin loaded; they get no events and no report.
        asked = self.option(self.config, "report") or self.option(self.config, "events")
        self.active = bool(items) or bool(asked) or bool(self.errors)

    def verify_isolation(self) -> bool:
        """The isolation is decided before the first check: where it cannot be had, the run
        grades nothing and says why (an error), rather than failing check after check."""
        if not self.checks:
            return True
        try:
            chosen = self.isolation
        except pytest.UsageError as exc:
            self.errors.append(str(exc))
            return False
        return chosen in isolation.ISOLATIONS

    def verify_course(self) -> bool:
        """With --mllab-course-manifest (batch grading), the check modules just imported and
        the references read must be the ones the batch started with: a submission graded
        earlier with process isolation could have rewritten them. False (and an error) if not."""
        text = self.option(self.config, "course-manifest")
        if not text or not self.checks:
            return True
        try:
            manifest = json.loads(text)
        except ValueError:
            manifest = None
        checks = self.dirs.checks.resolve()
        used = {Path(item.path) for item in self.checks}
        files = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
        used |= {Path(f) for f in files if isinstance(f, str) and Path(f).is_relative_to(checks)}
        chosen = [(e.id, e.path) for e in self.catalog.exercises if self.selected(e.id)]
        changed = (
            trusted.changed_since(manifest, checks, used, self.snapshot.references, chosen)
            if isinstance(manifest, dict)
            else ["the manifest itself"]
        )
        if not changed:
            return True
        self.errors.append(
            f"the course changed on disk since this batch began ({', '.join(changed[:3])}), so "
            "nothing was graded: a submission graded with --isolation process may have written "
            "to it. Restore the course and grade again with the default (bwrap) isolation"
        )
        return False

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
        message = state["message"]
        if outcome == "passed":
            outcome, message = self.needs_passing(item, info)
        output = self.outputs.pop(item.nodeid, "")
        result = CheckResult(
            name=info["name"],
            title=info["title"],
            outcome=outcome,
            points=info["max_points"] if outcome == "passed" else 0.0,
            max_points=info["max_points"],
            device=info["device"],
            message=message,  # cleaned by CheckResult, before any event sees it
            nodeid=item.nodeid,
            duration=round(state["duration"], 4),
            output=output,
        )
        self.results[item.nodeid] = result
        self.result_exercise[item.nodeid] = info["exercise"]
        if output:
            self.events.emit("output", check=item.nodeid, exercise=info["exercise"], text=output)
        self.events.emit("check_finished", exercise=info["exercise"], check=result.to_dict())

    def needs_passing(self, item: pytest.Item, info: dict[str, Any]) -> tuple[str, str]:
        """A check marked `needs_passing(names...)` (a rule about how code is written, or about
        inputs left unchanged) earns its points only once the checks it names have passed:
        functions that merely return would pass it on their own."""
        marker = item.get_closest_marker("needs_passing")
        if marker is None:
            return "passed", ""
        wanted = [str(name).removeprefix("test_") for name in marker.args]
        exercise = info["exercise"]
        failing, unknown = [], []
        for name in wanted:
            results = [
                r for nodeid, r in self.results.items()
                if r.name == name and self.result_exercise.get(nodeid) == exercise
                and (info["device"] is None or r.device in (None, info["device"]))
            ]  # fmt: skip
            if not results:
                unknown.append(name)
            elif any(r.outcome in ("failed", "error") for r in results):
                failing.append(name)
        if unknown:
            return "error", (
                f"needs_passing names {', '.join(unknown)}, which did not run before this check "
                "in this exercise (a check's name without test_, of the same module)"
            )
        if failing:
            shown = ", ".join(failing)
            return "failed", (
                f"not counted yet: this rule is scored once {shown} "
                f"{'passes' if len(failing) == 1 else 'pass'}; fix "
                f"{'that check' if len(failing) == 1 else 'those checks'} first"
            )
        return "passed", ""

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
        # A worker that could not start (or not in its sandbox) makes the whole run an error:
        # never a score of 0 for an honest submission.
        failures = list(self._pool.start_failures.values()) if self._pool is not None else []
        return Report(
            exercises=exercises,
            seed_kind=self.seed_kind,
            errors=(*self.errors, *dict.fromkeys(failures)),  # cleaned by Report
            created=created,
        )


class Metrics:
    """Live metrics from a check: each `emit` becomes one `metric` event."""

    def __init__(self, run: GradingRun, item: pytest.Item) -> None:
        self.run = run
        self.nodeid = item.nodeid
        self.exercise = run.exercise_for(item).id

    @property
    def watched(self) -> bool:
        """Whether anyone sees this run live (the lab); batch grading and plain pytest do not,
        so a check can skip learner runs that only feed a figure."""
        return self.run.events.stream is not None

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
    if isinstance(exc, CheckFailure):
        # The learner's file, met in a fixture (source_tree) as much as in the check itself.
        return "failed", str(exc)
    if report.when == "call" and isinstance(exc, AssertionError):
        return "failed", str(exc)
    if report.when == "call" and isinstance(exc, pytest.fail.Exception):
        return "failed", str(exc.msg)
    detail = str(excinfo.getrepr(style="short"))[-2000:]
    return "error", f"the grader failed while checking ({type(exc).__name__}): {exc}\n{detail}"
