"""Model selection: train/validation/test splits, k-fold cross-validation, hyperparameter search,
and bootstrap confidence intervals.

Given, complete (read them, call them, do not change them): the model being tuned, ridge
regression (`ridge_fit`, `ridge_predict`, `r2_score`), and `accuracy` for the bootstrap.

What you write, in order, below the "you write" line:

1. `train_val_test_split`, `kfold_indices`, `stratified_kfold_indices`: which rows go where;
2. `cross_val_scores`, `grid_search`, `random_search`: score ridge regression on those folds
   and pick its penalty alpha;
3. `bootstrap_ci`: an interval around an accuracy.

Rules that hold throughout:
- The split functions return row indices (int64 arrays), never rows of data: the caller picks
  rows with them later.
- Every random choice comes from a generator made from the call's seed,
  np.random.default_rng(seed), never from the global np.random functions, so the same seed
  always gives the same result and another seed a different one.
- A model is never fitted on the rows it is scored on.
- No function changes its arguments (shuffle a copy of the indices, never y), and the
  splitters and searches are yours: calling sklearn's does not count.

Read lesson.md, then run `mllab check model_selection`; `mllab hint model_selection` gives hints
one at a time.
"""

from __future__ import annotations

import numpy as np

Fold = tuple[np.ndarray, np.ndarray]

# ------------------------------------------------------- provided: the model (complete, keep)


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Fit ridge regression with an intercept: minimise |y - X @ w - b|^2 + alpha * |w|^2.

    The model sklearn.linear_model.Ridge(alpha) fits. Found here as an ordinary least-squares
    problem: the centred rows stacked on sqrt(alpha) * I, with zeros as their targets, so that
    the squared error of the extra rows is the penalty. Then b = mean(y) - mean(X) @ w.
    Shapes: X (N, D) float64, y (N,) float64. Returns (w (D,), b float).
    """
    centre = X.mean(axis=0)
    stacked = np.vstack([X - centre, np.sqrt(alpha) * np.eye(X.shape[1])])
    targets = np.concatenate([y - y.mean(), np.zeros(X.shape[1])])
    w = np.linalg.lstsq(stacked, targets, rcond=None)[0]
    return w, float(y.mean() - centre @ w)


def ridge_predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """Predictions X @ w + b. Shapes: w (D,), X (N, D). Returns (N,)."""
    return X.dot(w) + b


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The coefficient of determination R^2 = 1 - SS_res / SS_tot; higher is better, 1 is perfect.

    Shapes: y_true (N,), y_pred (N,). Returns a float (as sklearn.metrics.r2_score).
    """
    residual = np.sum((y_true - y_pred) ** 2)
    total = np.sum((y_true - y_true.mean()) ** 2)
    return float(1 - residual / total)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples predicted correctly. Shapes: (N,) and (N,). Returns a float."""
    return np.count_nonzero(y_true == y_pred) / len(y_true)


# ------------------------------------------------------------------ you write: splits and folds


def train_val_test_split(
    y: np.ndarray, val_fraction: float, test_fraction: float, seed: int, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the row indices 0..N-1 at random into a training, a validation and a test part.

    Shuffle with rng = np.random.default_rng(seed). Of a group of m rows, the test part takes
    round(test_fraction * m), the validation part round(val_fraction * m), training the rest.
    Without stratify the group is all N rows. With stratify=True, split the rows of each class
    (each value of y) as its own group, so every part keeps the class proportions of y.

    Shapes: y (N,) int labels. Returns (train, val, test): int64 index arrays that together
    hold every index 0..N-1 exactly once (their order does not matter).
    """
    # TODO: shuffle each group of rows with one seeded generator and cut it into a test,
    #       a validation and a training piece of the sizes in the docstring; then join the
    #       pieces of each part. Without stratify there is one group (all rows); with it,
    #       one group per label, which is what keeps the class proportions.
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    if stratify:
        groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    else:
        groups = [np.arange(len(y))]
    train, val, test = [], [], []
    for group in groups:
        shuffled = rng.permutation(group)
        n_test = round(test_fraction * len(group))
        n_val = round(val_fraction * len(group))
        test.append(shuffled[:n_test])
        val.append(shuffled[n_test : n_test + n_val])
        train.append(shuffled[n_test + n_val :])
    return np.concatenate(train), np.concatenate(val), np.concatenate(test)
    # END SOLUTION


def kfold_indices(n: int, k: int, seed: int | None = None) -> list[Fold]:
    """Split the row indices 0..n-1 into k folds; return one (train, test) pair per fold.

    Order the indices 0..n-1, or shuffle them with np.random.default_rng(seed) when seed is
    not None, and cut them into k consecutive test folds. The first n % k folds hold n // k + 1
    indices, the others n // k, so no row is left out. Each fold's training part is every
    index not in its test part. Unshuffled, this is sklearn.model_selection.KFold(k).split.

    Returns a list of k tuples (train, test) of int64 index arrays.
    """
    # TODO: put the indices in order (shuffled only when a seed is given) and cut them into
    #       k consecutive test blocks with the sizes in the docstring, so the remainder rows
    #       are tested too. Pair each block with all the other indices as its training part.
    # BEGIN SOLUTION
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    folds = []
    start = 0
    for size in sizes:
        stop = start + size
        folds.append((np.concatenate([order[:start], order[stop:]]), order[start:stop]))
        start = stop
    return folds
    # END SOLUTION


def stratified_kfold_indices(y: np.ndarray, k: int, seed: int | None = None) -> list[Fold]:
    """k folds in which every class is spread as evenly as possible over the test folds.

    Order the indices (shuffled with np.random.default_rng(seed) when seed is not None), sort
    them by label, smallest first, with a stable sort (so the shuffled order survives within
    each class), then deal them out like cards: the i-th index in that order goes to test fold
    i % k. Every fold then holds n_c // k or n_c // k + 1 rows of each class c (n_c rows in
    all), and the fold sizes differ by at most one, as in sklearn's StratifiedKFold.

    Shapes: y (N,) int labels. Returns a list of k tuples (train, test) of int64 index arrays.
    """
    # TODO: order the indices as kfold_indices does, regroup them by label (smallest label
    #       first) without disturbing their order inside a label, and deal them out over the
    #       k test folds like cards. The dealing runs on from one label to the next; it does
    #       not restart at fold 0. A fold's training part is every index outside its test part.
    # BEGIN SOLUTION
    n = len(y)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    order = order[np.argsort(y[order], kind="stable")]
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % k
    return [(np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)) for fold in range(k)]
    # END SOLUTION


# ------------------------------------------------------------------------- cross-validation


def cross_val_scores(X: np.ndarray, y: np.ndarray, folds: list[Fold], alpha: float) -> np.ndarray:
    """Score ridge(alpha) on every fold: fit on the training rows, R^2 on the test rows.

    Shapes: X (N, D) float64, y (N,) float64; folds as kfold_indices returns them.
    Returns (k,) float64, one R^2 per fold, in the order of folds.
    """
    # TODO: for every fold, fit ridge regression on that fold's training rows only and score
    #       its R^2 on that fold's test rows only, with the provided functions. One score per
    #       fold, in the order of folds, as a float64 array.
    # BEGIN SOLUTION
    scores = []
    for train, test in folds:
        w, b = ridge_fit(X[train], y[train], alpha)
        scores.append(r2_score(y[test], ridge_predict(w, b, X[test])))
    return np.array(scores)
    # END SOLUTION


def grid_search(
    X: np.ndarray, y: np.ndarray, alphas: np.ndarray, folds: list[Fold]
) -> tuple[float, np.ndarray]:
    """Try every alpha; keep the one with the highest mean cross-validated R^2.

    On a tie, take the first such alpha. Shapes: alphas (A,) float64.
    Returns (best_alpha as a float, mean_scores (A,) float64 with mean_scores[i] for alphas[i]).
    """
    # TODO: average your cross-validated scores over the folds for each alpha, then keep the
    #       alpha whose mean is highest (R^2 rewards, it does not cost). On a tie, the first.
    # BEGIN SOLUTION
    mean_scores = np.array([cross_val_scores(X, y, folds, alpha).mean() for alpha in alphas])
    return float(alphas[np.argmax(mean_scores)]), mean_scores
    # END SOLUTION


def random_search(
    X: np.ndarray,
    y: np.ndarray,
    low: float,
    high: float,
    n_iter: int,
    folds: list[Fold],
    seed: int,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Try n_iter alphas drawn at random, log-uniformly between low and high; keep the best.

    log10(alpha) is drawn uniformly from [log10(low), log10(high)], independently for each
    try, with a generator made by np.random.default_rng(seed): each power of ten between low
    and high gets the same share of tries.
    Returns (best_alpha as a float, alphas (n_iter,) float64, mean_scores (n_iter,) float64),
    with mean_scores[i] for alphas[i], scored and chosen as in grid_search.
    """
    # TODO: draw the n_iter alphas log-uniformly as the docstring says, from a generator
    #       made from seed, then score them and pick the best exactly as grid_search does.
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    alphas = 10 ** rng.uniform(np.log10(low), np.log10(high), size=n_iter)
    best_alpha, mean_scores = grid_search(X, y, alphas, folds)
    return best_alpha, alphas, mean_scores
    # END SOLUTION


# -------------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    y_true: np.ndarray, y_pred: np.ndarray, n_boot: int, level: float, seed: int
) -> tuple[float, float, float]:
    """A percentile bootstrap confidence interval for the accuracy of y_pred.

    Repeat n_boot times: draw N row indices uniformly from 0..N-1 with replacement (so some
    rows appear twice and some not at all), using one generator np.random.default_rng(seed)
    for all rounds, and compute the accuracy of y_pred on those rows. The interval runs from
    the (1 - level) / 2 quantile of these n_boot accuracies to the (1 + level) / 2 quantile,
    that is from the 100 * (1 - level) / 2 th to the 100 * (1 + level) / 2 th percentile
    (2.5 and 97.5 for level 0.95).

    Shapes: y_true (N,) int, y_pred (N,) int; level in (0, 1), e.g. 0.95.
    Returns (estimate, low, high) as floats; estimate is the accuracy on all N rows.
    """
    # TODO: n_boot times, resample N rows with replacement (one seeded generator for all
    #       rounds) and record the accuracy on the resample. The interval's ends are the two
    #       percentiles in the docstring. The estimate is the accuracy on all rows, not an
    #       average of the resamples. Return three Python floats.
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    n = len(y_true)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        rows = rng.integers(0, n, size=n)
        stats[b] = accuracy(y_true[rows], y_pred[rows])
    tail = (1 - level) / 2
    low, high = np.percentile(stats, [100 * tail, 100 * (1 - tail)])
    return accuracy(y_true, y_pred), float(low), float(high)
    # END SOLUTION
