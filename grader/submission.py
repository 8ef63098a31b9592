"""What a check holds: a proxy whose calls run in the exercise's submission worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.errors import SubmissionError
from grader.sandbox.host import Limits, Reporter, Worker
from grader.sandbox.output import CappedOutput


class WorkerPool:
    """One worker per exercise, restarted after a crash; an import failure is remembered."""

    def __init__(self, workspace: Path, limits: Limits) -> None:
        self.workspace = workspace
        self.limits = limits
        self.workers: dict[str, Worker] = {}
        self.failures: dict[str, str] = {}
        self.import_output: dict[str, bytes] = {}

    def worker(self, exercise_id: str, relative: str) -> Worker:
        if exercise_id in self.failures:
            raise SubmissionError(self.failures[exercise_id])
        current = self.workers.get(exercise_id)
        if current is not None and current.alive:
            return current
        if current is not None:
            current.close()
        source = self.workspace / relative
        if not source.is_file():
            message = (
                f"{relative} is missing from the workspace {self.workspace}; restore it "
                "(`mllab init` writes a fresh stub) or point --workspace at the right folder"
            )
            self.failures[exercise_id] = message
            raise SubmissionError(message)
        worker = Worker(source, relative, self.limits)
        self.workers[exercise_id] = worker
        try:
            worker.start()
        except SubmissionError as exc:
            # Importing the same file again would fail the same way; don't pay for it per check.
            self.failures[exercise_id] = str(exc)
            self.import_output[exercise_id] = worker.take_raw_output()
            worker.close()
            raise
        return worker

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
        try:
            worker = self._pool.worker(self._exercise_id, self._relative)
        except SubmissionError:
            self.output.write(self._pool.import_output.get(self._exercise_id, b""))
            raise
        try:
            return worker.call_full(
                function, args, kwargs, return_args, reporter=reporter, timeout=timeout
            )
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
