"""Oracles for a student release: where a check asks the reference about the learner's results.

A release holds no reference solution. Its checks replay the reference's results recorded for
the public inputs (grader/replay.py), but a few checks feed the reference with what the learner's
code produced: the accuracy of the weights the learner's training found, the scores of the
penalties the learner's search drew, where early stopping ends on the losses the learner's fit
logged. Those calls go to the oracle named here for the function,
which must give the reference's results without being an answer: a library call, or trusted
code in another form than the one learners write. `mllab release` refuses a release in which a
function's body is an exercise's answer, this file included.

ORACLES maps an exercise id to {reference function name: oracle}; the grader uses an oracle only
in a release, and only for a call that was not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch


def _perceptron_labels(w: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    # The step of the scores, z >= 0 counting as 1, in X's dtype: what a check needs to measure
    # the accuracy of the learner's line. The scores are summed as the reference sums them, so
    # that a point exactly on the line gets the reference's label.
    scores = X @ w + b
    return torch.where(scores >= 0, torch.ones_like(scores), torch.zeros_like(scores)).to(X.dtype)


def _ridge_cross_val_scores(
    X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], alpha: float
) -> np.ndarray:
    # scikit-learn's Ridge scored by R^2 on each fold: the oracle of model_selection's checks.
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import cross_val_score

    return cross_val_score(Ridge(alpha=alpha), X, y, cv=folds)


def _stopping_point(val_losses: list[float], patience: int) -> tuple[int, bool]:
    # The rule early_stopping's docstring states, on the validation losses the learner's fit
    # logged: min() keeps the first of equal losses, as "only a strictly lower loss counts".
    best = min(range(len(val_losses)), key=val_losses.__getitem__)
    return best, len(val_losses) - 1 - best >= patience


ORACLES: dict[str, dict[str, Callable[..., Any]]] = {
    "perceptron": {"predict": _perceptron_labels},
    "model_selection": {"cross_val_scores": _ridge_cross_val_scores},
    "training_loop": {"early_stopping": _stopping_point},
}
