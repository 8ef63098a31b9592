"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mllab.warm import WarmGrader


@pytest.fixture(scope="module")
def warm() -> Iterator[WarmGrader]:
    """A warm grader for the course of this checkout, ready, for one test module."""
    grader = WarmGrader().start()
    assert grader.wait_ready(180), "the warm grader did not get ready"
    yield grader
    grader.close()
