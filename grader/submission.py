"""What a check holds: a proxy whose calls run in the exercise's submission worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.errors import CallTimedOut, SubmissionError
from grader.sandbox.host import Limits, Reporter, Worker, WorkerStartError
from grader.sandbox.output import CappedOutput


class WorkerPool:
    """One worker per exercise, restarted after a crash; an import failure is remembered."""

    def __init__(
        self,
        workspace: Path,
        limits: Limits,
        contents: dict[str, bytes] | None = None,
        batch: bool = False,
    ) -> None:
        self.workspace = workspace
        # A class's submission (mllab grade): its workspace is a staging folder of ours.
        self.batch = batch
        self.limits = limits
        # The learner's files as read before any learner code ran (grader/sandbox/trusted.py).
        self.contents = contents
        self.workers: dict[str, Worker] = {}
        self.failures: dict[str, str] = {}
        self.start_failures: dict[str, str] = {}
        self.import_output: dict[str, bytes] = {}
        # (exercise, function) -> why its call timed out: later calls fail at once with the same
        # message, so a loop that never ends costs one timeout per run, not one per check.
        self.hung: dict[tuple[str, str], str] = {}
        self.told: set[str] = set()  # exercises whose import traceback a check has shown

    def worker(self, exercise_id: str, relative: str) -> Worker:
        if exercise_id in self.start_failures:
            raise WorkerStartError(self.start_failures[exercise_id])
        if exercise_id in self.failures:
            raise SubmissionError(self._import_failure(exercise_id))
        current = self.workers.get(exercise_id)
        if current is not None and current.alive:
            return current
        if current is not None:
            current.close()
        source = self.workspace / relative
        missing = relative not in self.contents if self.contents is not None else None
        if missing or (missing is None and not source.is_file()):
            message = (
                f"{relative} is not in the submission: it is graded from that path"
                if self.batch
                else f"{relative} is missing from the workspace {self.workspace}; restore it (a "
                "workspace made elsewhere, `mllab init /tmp/fresh-course`, holds a fresh stub to "
                "copy) or point --workspace at the right folder"
            )
            self.failures[exercise_id] = message
            raise SubmissionError(message)
        content = self.contents.get(relative) if self.contents is not None else None
        worker = Worker(source, relative, self.limits, content)
        self.workers[exercise_id] = worker
        try:
            worker.start()
        except WorkerStartError as exc:
            # The grader's problem, not the learner's: every check of the exercise errors, and
            # the run's report says why (a batch makes it an error row, never a 0).
            self.start_failures[exercise_id] = str(exc)
            worker.close()
            raise
        except SubmissionError as exc:
            # Importing the same file again would fail the same way; don't pay for it per check.
            self.failures[exercise_id] = str(exc)
            self.told.add(exercise_id)  # this check shows the traceback; later ones point here
            self.import_output[exercise_id] = worker.take_raw_output()
            worker.close()
            raise
        return worker

    def _import_failure(self, exercise_id: str) -> str:
        """The full message (and traceback) for the first check that meets it; its first line
        and a pointer for the others, so the learner reads the traceback once."""
        message = self.failures[exercise_id]
        if exercise_id not in self.told:
            self.told.add(exercise_id)
            return message
        first = message.splitlines()[0] if message else "the file could not be imported"
        return f"{first} (the traceback is under the first check that failed this way)"

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()


class Submission:
    """`submission.predict(w, b, X)` runs the learner's `predict` in the worker.

    Arguments and results cross the process boundary as plain data; results come back as trusted
    values (exact tensors, arrays, numbers, strings, containers) or `grader.codec.Opaque`.
    """

    def __init__(self, pool: WorkerPool, exercise_id: str, relative: str) -> None:
        self._pool = pool
        self._exercise_id = exercise_id
        self._relative = relative
        # One cap for the whole check: many calls that each print a little still add up.
        self.output = CappedOutput()

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        return self._call(function, args, kwargs, return_args=False)["value"]

    def call_with_inputs(self, function: str, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """The result and the positional arguments as the learner's code left them."""
        reply = self._call(function, args, kwargs, return_args=True)
        return reply["value"], reply["args"]

    def call_logged(
        self,
        function: str,
        *args: Any,
        log: Callable[[str, float, int | None], None],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a whole training function that takes a `log` argument, for up to `timeout` s.

        The learner's function is called with `log=<callable>`; each `log(name, value, step)` it
        makes reaches `log` here while it runs (usually `metrics.emit`, to draw live curves).
        Those values are only shown: verdicts come from what the function returns.
        """
        reporter = Reporter(log)
        return self._call(function, args, kwargs, False, reporter, timeout)["value"]

    def _call(
        self,
        function: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        return_args: bool,
        reporter: Reporter | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        hung = self._pool.hung.get((self._exercise_id, function))
        if hung is not None:
            raise SubmissionError(f"{hung}\n(an earlier call to {function}() in this run timed "
                                  "out, so this one was not made)")  # fmt: skip
        try:
            worker = self._pool.worker(self._exercise_id, self._relative)
        except SubmissionError:
            self.output.write(self._pool.import_output.pop(self._exercise_id, b""))
            raise
        try:
            return worker.call_full(
                function, args, kwargs, return_args, reporter=reporter, timeout=timeout
            )
        except CallTimedOut as exc:
            self._pool.hung[(self._exercise_id, function)] = str(exc)
            raise
        finally:
            self._collect(worker)

    def _collect(self, worker: Worker) -> None:
        self.output.write(worker.take_raw_output())

    def take_output(self) -> str:
        return self.output.take()

    def __getattr__(self, function: str) -> Callable[..., Any]:
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self.call(function, *args, **kwargs)
