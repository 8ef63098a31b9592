"""Expect failing: grid_search, random_search
Mistake: the search keeps the alpha with the lowest mean score.
Habits from minimising losses carry over, but R^2 is a score: higher is better, so argmin
picks the worst alpha.

Everything else comes from solutions/model_selection/selection.py.
"""

import numpy as np


def grid_search(
    X: np.ndarray, y: np.ndarray, alphas: np.ndarray, folds: list[Fold]
) -> tuple[float, np.ndarray]:
    """Try every alpha; keep the one with the highest mean cross-validated R^2.

    On a tie, take the first such alpha. Shapes: alphas (A,) float64.
    Returns (best_alpha as a float, mean_scores (A,) float64 with mean_scores[i] for alphas[i]).
    """
    mean_scores = np.array([cross_val_scores(X, y, folds, alpha).mean() for alpha in alphas])
    return float(alphas[np.argmin(mean_scores)]), mean_scores
