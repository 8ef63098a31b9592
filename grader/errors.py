"""Exceptions that carry a verdict's message to the learner as it is."""

from __future__ import annotations


class CheckFailure(AssertionError):
    """A check failed for a reason that the message explains in full (no grader traceback)."""


class SubmissionError(CheckFailure):
    """The learner's code raised, crashed, hung or broke a limit while a check called it."""


class CallTimedOut(SubmissionError):
    """A call to the learner's code ran past its time limit (the worker was stopped)."""
