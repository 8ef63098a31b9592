"""Classic learners without gradients: nearest neighbours, naive Bayes, a tree split, k-means.

Your task: write the nine functions below, in four groups. Each group stands alone, so
start with any; within a group, go in order (later functions may call earlier ones).

- `pairwise_distances`, `knn_classify`, `knn_regress`: k-nearest neighbours;
- `naive_bayes_fit`, `naive_bayes_predict_proba`: Gaussian naive Bayes;
- `gini`, `best_split`: the root split of a decision tree;
- `kmeans_plus_plus`, `kmeans`: clustering with k-means++ starts and Lloyd's iterations.

Rules. Use NumPy only, no scikit-learn or SciPy: arrays in, arrays (and Python numbers)
out. Never modify an input in place. Ties are broken the way scikit-learn breaks them, as
each docstring says; the checks compare with scikit-learn. Small helper functions of your
own are welcome. lesson.md derives the rules and works each group by hand;
`mllab hint neighbours_trees_clusters` gives one hint at a time. Then run
`mllab check neighbours_trees_clusters`.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------- nearest neighbours


def pairwise_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Euclidean distance between every row of A and every row of B, without Python loops.

    D[i, j] = sqrt(sum_d (A[i, d] - B[j, d])^2)

    Shapes: A (M, D), B (N, D) float64. Returns (M, N) float64, all entries >= 0.
    """
    # TODO: every distance at once, by broadcasting the rows of A against the rows of B.
    #       If you expand the square instead, rounding can leave a tiny negative number
    #       where the distance is 0: clip it to 0 before the square root.
    # BEGIN SOLUTION
    diff = A[:, None, :] - B[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def _neighbours(X_train: np.ndarray, X_query: np.ndarray, k: int) -> np.ndarray:
    """Indices (M, k) of each query's k nearest training rows, nearest first."""
    distances = pairwise_distances(X_query, X_train)
    # A stable sort breaks distance ties by the lower training index.
    return np.argsort(distances, axis=1, kind="stable")[:, :k]
    # END SOLUTION


def knn_classify(
    X_train: np.ndarray, y_train: np.ndarray, X_query: np.ndarray, k: int
) -> np.ndarray:
    """Predict each query's class by a majority vote of its k nearest training points.

    Neighbours: the k training rows with the smallest Euclidean distance to the query
    (equal distances: the lower training index first, as a stable sort orders them).
    Vote: the most frequent label among them; when several labels tie for most votes,
    the smallest of those labels wins (scikit-learn's KNeighborsClassifier does the same).

    Labels are non-negative integers but need not run 0, 1, ..., C-1: (2, 5, 8, 11) is a
    valid set, and the prediction must be one of those numbers, not a position among them.

    Shapes: X_train (N, D) float64, y_train (N,) int64, X_query (M, D) float64, 1 <= k <= N.
    Returns (M,) int64 labels taken from y_train.
    """
    # TODO: for every query, rank the training rows by distance (ties: lower index first)
    #       and let the k nearest vote with their labels; a tied vote goes to the smallest
    #       label. Rank the training rows of each query, not the queries of each row.
    # BEGIN SOLUTION
    neighbours = _neighbours(X_train, X_query, k)
    classes = np.unique(y_train)
    votes = (y_train[neighbours][:, :, None] == classes).sum(axis=1)  # (M, C)
    # argmax keeps the first maximum, and classes are sorted: ties go to the smallest label.
    return classes[votes.argmax(axis=1)]
    # END SOLUTION


def knn_regress(
    X_train: np.ndarray, y_train: np.ndarray, X_query: np.ndarray, k: int
) -> np.ndarray:
    """Predict each query's value as the mean target of its k nearest training points.

    Neighbours are chosen as in knn_classify.

    Shapes: X_train (N, D), y_train (N,), X_query (M, D) float64, 1 <= k <= N.
    Returns (M,) float64.
    """
    # TODO: the same k neighbours as in knn_classify; predict the mean of their targets.
    # BEGIN SOLUTION
    return y_train[_neighbours(X_train, X_query, k)].mean(axis=1)
    # END SOLUTION


# ---------------------------------------------------------------------------- naive Bayes


def naive_bayes_fit(
    X: np.ndarray, y: np.ndarray, var_smoothing: float = 1e-9
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit Gaussian naive Bayes (scikit-learn's GaussianNB).

    classes   = the sorted distinct labels of y                           (C,)
    priors[c] = fraction of the rows whose label is classes[c]            (C,)
    means[c]  = mean of those rows, per feature                           (C, D)
    variances[c] = their variance per feature (divide by the count, not count - 1), plus
                   epsilon = var_smoothing * (largest variance of any feature over all of X),
                   so that a feature constant within a class never gives a zero variance.

    Shapes: X (N, D) float64, y (N,) int64. Returns (classes int64, priors, means, variances).
    """
    # TODO: estimate, class by class in sorted order, the prior and each feature's mean and
    #       variance over that class's rows; then smooth every variance with the one epsilon
    #       the docstring defines from all of X. A variance, not a standard deviation.
    # BEGIN SOLUTION
    classes = np.unique(y)
    epsilon = var_smoothing * X.var(axis=0).max()
    priors = np.array([np.mean(y == c) for c in classes])
    means = np.stack([X[y == c].mean(axis=0) for c in classes])
    variances = np.stack([X[y == c].var(axis=0) for c in classes]) + epsilon
    return classes, priors, means, variances
    # END SOLUTION


def naive_bayes_predict_proba(
    priors: np.ndarray, means: np.ndarray, variances: np.ndarray, X: np.ndarray
) -> np.ndarray:
    """Posterior class probabilities P(class c | x) for every row of X.

    Work with logs, summing over the features d (the "naive" independence assumption):
        joint[n, c] = log(priors[c])
                      - 0.5 * sum_d log(2 * pi * variances[c, d])
                      - 0.5 * sum_d (X[n, d] - means[c, d])^2 / variances[c, d]
    then normalise each row with log-sum-exp, which never overflows or divides 0 by 0:
        m[n] = max_c joint[n, c]
        log_norm[n] = m[n] + log(sum_c exp(joint[n, c] - m[n]))
        proba[n, c] = exp(joint[n, c] - log_norm[n])

    Shapes: priors (C,), means (C, D), variances (C, D), X (N, D) float64.
    Returns (N, C) float64; each row sums to 1.
    """
    # TODO: the joint log-likelihood of every row and class from the docstring (no loop
    #       over rows), then normalise each row in log space with log-sum-exp, so rows far
    #       from every class still give finite probabilities that sum to 1.
    # BEGIN SOLUTION
    log_det = np.log(2.0 * np.pi * variances).sum(axis=1)  # (C,)
    squared = ((X[:, None, :] - means[None]) ** 2 / variances[None]).sum(axis=2)  # (N, C)
    joint = np.log(priors) - 0.5 * log_det - 0.5 * squared
    top = joint.max(axis=1, keepdims=True)
    log_norm = top + np.log(np.exp(joint - top).sum(axis=1, keepdims=True))
    return np.exp(joint - log_norm)
    # END SOLUTION


# ---------------------------------------------------------------------------- decision trees


def gini(y: np.ndarray) -> float:
    """Gini impurity of a set of labels: 1 - sum_k p_k^2, p_k the fraction with label k.

    0 for a pure set; 1 - 1/K for K equally common labels.

    Shapes: y (N,) int64 with N >= 1. Returns a Python float.
    """
    # TODO: the impurity from the fraction of the labels in each class, as a Python float.
    # BEGIN SOLUTION
    _, counts = np.unique(y, return_counts=True)
    p = counts / len(y)
    return float(1.0 - (p**2).sum())
    # END SOLUTION


def best_split(X: np.ndarray, y: np.ndarray) -> tuple[int, float, float]:
    """The split "X[:, feature] <= threshold" of one node with the lowest weighted Gini impurity.

    Candidates: every feature j, and every midpoint between consecutive distinct sorted
    values of X[:, j]. A candidate sends the rows with X[:, j] <= threshold left, the others
    right, and scores
        impurity = (n_left / n) * gini(y_left) + (n_right / n) * gini(y_right).
    Return the lowest score; on an exact tie keep the first candidate found, visiting
    features in order and thresholds from small to large.

    Shapes: X (N, D) float64, y (N,) int64; some feature has two distinct values.
    Returns (feature, threshold, impurity): a Python int and two Python floats.
    """
    # TODO: try every candidate of the docstring in the stated order, score it with the
    #       size-weighted impurity of its two sides, and keep the lowest; an exact tie keeps
    #       the earlier candidate. Return a Python int and two Python floats.
    # BEGIN SOLUTION
    n = len(y)
    best = (-1, 0.0, np.inf)
    for feature in range(X.shape[1]):
        values = np.unique(X[:, feature])
        for threshold in (values[:-1] + values[1:]) / 2.0:
            left = X[:, feature] <= threshold
            n_left = int(left.sum())
            impurity = (n_left * gini(y[left]) + (n - n_left) * gini(y[~left])) / n
            if impurity < best[2]:
                best = (feature, float(threshold), impurity)
    return best
    # END SOLUTION


# ---------------------------------------------------------------------------- k-means

# BEGIN SOLUTION


def _squared_distances(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(N, k) squared distances from every point to every centre."""
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


# END SOLUTION


def kmeans_plus_plus(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Choose k starting centres among the rows of X with k-means++.

    With rng = np.random.default_rng(seed), and exactly these random calls in this order:
      1. the first centre is X[i] with i = rng.integers(N) (every row equally likely);
      2. for each further centre: let d2[n] be the squared distance from X[n] to the nearest
         centre chosen so far, and pick X[i] with i = rng.choice(N, p=d2 / d2.sum()):
         a row is chosen with probability proportional to its squared distance, so far-away
         rows are favoured and rows already chosen (d2 = 0) are never chosen again.

    Shapes: X (N, D) float64 with at least k distinct rows; 1 <= k <= N; seed an int.
    Returns (k, D) float64: copies of the chosen rows, in the order chosen.
    """
    # TODO: one generator from seed, and exactly the random calls of the docstring in that
    #       order (any other draw changes the result). After each choice, bring every row's
    #       squared distance to its nearest chosen centre up to date.
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    n = len(X)
    chosen = [int(rng.integers(n))]
    d2 = ((X - X[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        index = int(rng.choice(n, p=d2 / d2.sum()))
        chosen.append(index)
        d2 = np.minimum(d2, ((X - X[index]) ** 2).sum(axis=1))
    return X[chosen].copy()


def _update_centres(
    X: np.ndarray, labels: np.ndarray, centres: np.ndarray, d2: np.ndarray
) -> np.ndarray:
    """Cluster means; an empty cluster moves to the points worst served by their own centre."""
    k = len(centres)
    counts = np.bincount(labels, minlength=k)
    new = centres.copy()
    for j in np.flatnonzero(counts):
        new[j] = X[labels == j].mean(axis=0)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        own = d2[np.arange(len(X)), labels]
        farthest = np.argsort(-own, kind="stable")
        for j, index in zip(empty, farthest, strict=False):
            new[j] = X[index]
    return new
    # END SOLUTION


def kmeans(
    X: np.ndarray, centres: np.ndarray, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means from the given starting centres (scikit-learn's KMeans with init=centres).

    Repeat at most max_iter times:
      1. assign: labels[n] = index of the centre nearest to X[n] (ties: the lower index);
      2. if no label changed since the previous round, stop;
      3. update: each centre becomes the mean of the points assigned to it. A cluster with no
         points has no mean: its centre jumps onto the point worst served right now, the one
         with the largest squared distance (this round's, before any centre moves) to the
         centre it is assigned to; with several empty clusters, the empty ones in increasing
         order take the worst, second worst, ... (equal distances: the lower row first).
    Finally assign every point to its nearest final centre once more (no change if the loop
    stopped in step 2) and compute
        inertia = sum_n ||X[n] - centres[labels[n]]||^2.

    Shapes: X (N, D) float64, centres (k, D) float64 (not modified), max_iter >= 1.
    Returns (centres (k, D) float64, labels (N,) int64, inertia a Python float).
    """
    # TODO: Lloyd's loop as the docstring lists it (assign, stop when no label changed,
    #       update with the empty-cluster rule), on a copy of the given centres; the first
    #       round must never count as "no change". Then the final assignment and the inertia.
    # BEGIN SOLUTION
    centres = centres.copy()
    labels = np.full(len(X), -1)
    for _ in range(max_iter):
        d2 = _squared_distances(X, centres)
        new_labels = d2.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _update_centres(X, labels, centres, d2)
    d2 = _squared_distances(X, centres)
    labels = d2.argmin(axis=1)
    inertia = float(d2[np.arange(len(X)), labels].sum())
    return centres, labels, inertia
    # END SOLUTION
