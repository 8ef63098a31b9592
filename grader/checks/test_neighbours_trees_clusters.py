"""Checks for the classic learners: k-nearest neighbours, naive Bayes, tree splits and k-means."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from grader.codec import type_name
from grader.compare import (
    assert_array_close,
    assert_array_equal,
    assert_number_close,
    expect_array,
    expect_number,
)
from grader.datasets import iris, penguins_frame
from grader.errors import CheckFailure

pytestmark = pytest.mark.exercise("neighbours_trees_clusters")

PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPREAD_SEEDS = 60  # k-means++ runs in the statistical check


# ------------------------------------------------------------------------------------ data


@functools.lru_cache(maxsize=1)
def _iris() -> tuple[np.ndarray, np.ndarray]:
    return iris()


@functools.lru_cache(maxsize=1)
def _penguins() -> tuple[np.ndarray, np.ndarray]:
    """The four body measurements (342 complete rows) and the species as 0, 1, 2."""
    frame = penguins_frame().dropna(subset=[*PENGUIN_FEATURES, "species"])
    X = frame[PENGUIN_FEATURES].to_numpy(dtype=np.float64)
    y = frame["species"].astype("category").cat.codes.to_numpy().astype(np.int64)
    return X, y


def _standardize(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _blobs(seed: int, n_per: int = 40, k: int = 4, spread: float = 0.8) -> np.ndarray:
    """k round clusters of n_per points in 2-D, centres drawn uniformly in [-6, 6]^2."""
    gen = np.random.default_rng(seed)
    centres = gen.uniform(-6.0, 6.0, (k, 2))
    return np.concatenate([gen.normal(centre, spread, (n_per, 2)) for centre in centres])


def _clear_queries(X_train: np.ndarray, X_query: np.ndarray, k: int) -> np.ndarray:
    """The queries whose k-th and (k+1)-th nearest training points are not tied in distance."""
    d = np.sqrt(((X_query[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2))
    ordered = np.sort(d, axis=1)
    return X_query[ordered[:, k] - ordered[:, k - 1] > 1e-9]


def _split_rows(seed: int, n: int, n_query: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[n_query:], order[:n_query]


# ---------------------------------------------------------------------------- nearest neighbours


def test_pairwise_distances(submission, seed):
    """pairwise_distances gives every Euclidean distance between two sets of rows"""
    gen = np.random.default_rng(seed)
    A = gen.normal(0.0, 3.0, (7, 3))
    B = np.concatenate([gen.normal(0.0, 3.0, (4, 3)), A[2:3]])  # one pair at distance 0
    want = np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2))
    assert_array_close(
        submission.pairwise_distances(A, B),
        want,
        name="pairwise_distances(A, B) for A (7, 3) and B (5, 3)",
        rtol=1e-7,
        atol=1e-6,
        hint="D[i, j] = ||A[i] - B[j]||: broadcast A[:, None, :] - B[None, :, :] and sum over "
        "the last axis; with the |a|^2 - 2ab + |b|^2 trick, clip at 0 before the sqrt",
    )


@pytest.mark.points(2)
def test_knn_classify_matches_sklearn(submission, seed):
    """knn_classify votes like scikit-learn's KNeighborsClassifier, ties to the smallest label"""
    from sklearn.neighbors import KNeighborsClassifier

    gen = np.random.default_rng(seed)
    X_iris, y_iris = _iris()
    train, query = _split_rows(seed, len(y_iris), 50)
    X_peng, y_peng = _penguins()
    X_peng = _standardize(X_peng)
    p_train, p_query = _split_rows(seed + 1, len(y_peng), 80)
    X_rand = gen.normal(size=(60, 3))
    y_rand = gen.integers(0, 4, 60) * 3 + 2  # labels 2, 5, 8, 11: votes often tie
    cases = [
        ("iris", X_iris[train], y_iris[train], X_iris[query] + gen.normal(0, 0.01, (50, 4)), 5),
        ("penguins", X_peng[p_train], y_peng[p_train], X_peng[p_query], 7),
        ("random labels", X_rand, y_rand, gen.normal(size=(40, 3)), 4),
    ]
    for label, X_train, y_train, X_query, k in cases:
        queries = _clear_queries(X_train, X_query, k)
        oracle = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
        assert_array_equal(
            submission.knn_classify(X_train, y_train, queries, k),
            oracle.predict(queries),
            name=f"knn_classify on {label} with k={k}",
            hint="distances from each query to every training row, np.argsort along axis=1, "
            "the first k labels, then the most common one (a tie goes to the smallest label)",
        )


def test_knn_regress_matches_sklearn(submission, seed):
    """knn_regress averages its neighbours' targets like KNeighborsRegressor"""
    from sklearn.neighbors import KNeighborsRegressor

    X_peng, _ = _penguins()
    features, mass = _standardize(X_peng[:, :3]), X_peng[:, 3]
    train, query = _split_rows(seed, len(mass), 60)
    for k in (1, 6):
        queries = _clear_queries(features[train], features[query], k)
        oracle = KNeighborsRegressor(n_neighbors=k, algorithm="brute")
        oracle.fit(features[train], mass[train])
        assert_array_close(
            submission.knn_regress(features[train], mass[train], queries, k),
            oracle.predict(queries),
            name=f"knn_regress of penguin body mass with k={k}",
            rtol=1e-9,
            hint="the mean of y_train over each query's k nearest training rows",
        )


# ---------------------------------------------------------------------------- naive Bayes


def _nb_params(result: Any, n_classes: int, d: int) -> list[Any]:
    if not isinstance(result, tuple | list) or len(result) != 4:
        raise CheckFailure(
            "naive_bayes_fit should return a tuple (classes, priors, means, variances), "
            f"got {type_name(result)}"
        )
    shapes = [(n_classes,), (n_classes,), (n_classes, d), (n_classes, d)]
    names = ["classes", "priors", "means", "variances"]
    for value, shape, name in zip(result, shapes, names, strict=True):
        expect_array(value, name=f"naive_bayes_fit's {name}", shape=shape)
    return list(result)


def _nb_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    X_iris, y_iris = _iris()
    X_peng, y_peng = _penguins()
    gen = np.random.default_rng(seed)
    X_flat = gen.normal(size=(30, 3)) * np.array([1.0, 5.0, 0.3])
    y_flat = np.repeat([3, 7, 9], 10)
    X_flat[y_flat == 7, 1] = 2.5  # constant within class 7: only the smoothing keeps var > 0
    return [
        ("iris", X_iris, y_iris),
        ("penguins", X_peng, y_peng),
        ("a feature constant within class 7", X_flat, y_flat),
    ]


@pytest.mark.points(2)
def test_naive_bayes_fit_matches_sklearn(submission, seed):
    """naive_bayes_fit finds GaussianNB's classes, priors, means and smoothed variances"""
    from sklearn.naive_bayes import GaussianNB

    for label, X, y in _nb_cases(seed):
        oracle = GaussianNB().fit(X, y)
        classes, priors, means, variances = _nb_params(
            submission.naive_bayes_fit(X, y), len(oracle.classes_), X.shape[1]
        )
        where = f"naive_bayes_fit on {label}"
        assert_array_equal(classes, oracle.classes_, name=f"{where}: classes")
        assert_array_close(priors, oracle.class_prior_, name=f"{where}: priors", rtol=1e-12)
        assert_array_close(means, oracle.theta_, name=f"{where}: means", rtol=1e-10, atol=1e-12)
        assert_array_close(
            variances,
            oracle.var_,
            name=f"{where}: variances",
            rtol=1e-8,
            atol=0.0,
            hint="per class and feature, X[y == c].var(axis=0) (divide by the count), plus "
            "epsilon = 1e-9 * X.var(axis=0).max(): a variance, not a standard deviation, and "
            "smoothed so that no variance is 0",
        )


@pytest.mark.points(2)
def test_naive_bayes_proba_matches_sklearn(submission, reference, seed):
    """naive_bayes_predict_proba matches GaussianNB, even for points far from every class"""
    from sklearn.naive_bayes import GaussianNB

    for label, X, y in _nb_cases(seed):
        oracle = GaussianNB().fit(X, y)
        params = reference.naive_bayes_fit(X, y)[1:]
        # Far away every class's likelihood underflows to 0: only log-sum-exp stays finite.
        far = X[:4] * 40.0 + 500.0
        for part, queries in (("its own rows", X), ("far-away points", far)):
            assert_array_close(
                submission.naive_bayes_predict_proba(*params, queries),
                oracle.predict_proba(queries),
                name=f"naive_bayes_predict_proba on {label}, {part}",
                rtol=1e-6,
                atol=1e-9,
                hint="sum the log prior and the per-feature Gaussian log densities, then "
                "subtract each row's log-sum-exp (shift by the row's maximum before exp)",
            )


# ---------------------------------------------------------------------------- decision trees


def test_gini(submission, seed):
    """gini gives 1 - sum of squared class fractions"""
    gen = np.random.default_rng(seed)
    cases = {
        "a pure set": np.array([4, 4, 4]),
        "two equal classes": np.array([0, 1, 0, 1]),
        "labels 0, 0, 1, 2": np.array([0, 0, 1, 2]),
        "30 random labels": gen.integers(0, 5, 30),
    }
    for label, y in cases.items():
        _, counts = np.unique(y, return_counts=True)
        want = 1.0 - float(((counts / len(y)) ** 2).sum())
        assert_number_close(
            submission.gini(y),
            want,
            name=f"gini of {label}",
            rtol=1e-12,
            atol=1e-12,
            hint="p_k = count of label k / N; gini = 1 - sum(p_k ** 2) (square the fractions)",
        )


def _stump_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    X_iris, y_iris = _iris()
    X_peng, y_peng = _penguins()
    gen = np.random.default_rng(seed)
    X_rand = gen.normal(size=(80, 3))
    y_rand = (X_rand[:, 1] + 0.8 * gen.normal(size=80) > 0.3).astype(np.int64)
    y_rand[X_rand[:, 2] > 1.2] = 2
    return [
        ("versicolor and virginica", X_iris[y_iris > 0], y_iris[y_iris > 0]),
        ("iris sepals", X_iris[:, :2], y_iris),
        ("penguins", X_peng, y_peng),
        ("random data", X_rand, y_rand),
    ]


def _unique_best(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether one split scores clearly better than every other candidate."""
    n, scores = len(y), []
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        for threshold in (values[:-1] + values[1:]) / 2.0:
            left = X[:, j] <= threshold
            parts = [y[left], y[~left]]
            gini_sum = sum(
                len(p) * (1.0 - (np.bincount(p) / len(p)) @ (np.bincount(p) / len(p)))
                for p in parts
            )
            scores.append(gini_sum / n)
    best, second = np.partition(np.array(scores), 1)[:2]
    return bool(second - best > 1e-9)


@pytest.mark.points(2)
def test_best_split_matches_sklearn(submission, seed):
    """best_split picks the root split of DecisionTreeClassifier(max_depth=1)"""
    from sklearn.tree import DecisionTreeClassifier

    for label, X, y in _stump_cases(seed):
        tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y).tree_
        sizes = tree.n_node_samples
        want_impurity = (sizes[1] * tree.impurity[1] + sizes[2] * tree.impurity[2]) / sizes[0]
        if not _unique_best(X, y):
            continue  # two equally good splits: scikit-learn picks either, so skip this case
        result = submission.best_split(X, y)
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise CheckFailure(
                "best_split should return a tuple (feature, threshold, impurity), "
                f"got {type_name(result)}"
            )
        feature, threshold, impurity = result
        where = f"best_split on {label}"
        hint = (
            "weigh each child's gini by its share of the rows: (n_left * gini_left + n_right "
            "* gini_right) / n, and try every feature at midpoints of its sorted unique values"
        )
        if type(feature) is not int:
            raise CheckFailure(f"{where}: feature should be a Python int, got {type_name(feature)}")
        if feature != int(tree.feature[0]):
            raise CheckFailure(
                f"{where} chose feature {feature}, but the best split is on feature "
                f"{int(tree.feature[0])} at {tree.threshold[0]:.4g}. Hint: {hint}"
            )
        # scikit-learn stores thresholds from float32 copies of X, hence the rtol.
        assert_number_close(
            threshold, float(tree.threshold[0]), name=f"{where}: threshold", rtol=1e-6, hint=hint
        )
        assert_number_close(
            impurity, want_impurity, name=f"{where}: weighted impurity", rtol=1e-9, hint=hint
        )


# ---------------------------------------------------------------------------- k-means


def _rows_in(C: Any, X: np.ndarray, k: int, call: str) -> list[int]:
    """The row index of X that each returned centre equals exactly."""
    expect_array(C, name=call, shape=(k, X.shape[1]))
    found = []
    for i, centre in enumerate(np.asarray(C, dtype=np.float64)):
        rows = np.flatnonzero((X == centre).all(axis=1))
        if rows.size == 0:
            raise CheckFailure(
                f"{call}: centre {i} is {np.round(centre, 4).tolist()}, which is not a row of X; "
                "k-means++ chooses its centres among the data points"
            )
        found.append(int(rows[0]))
    if len(set(found)) < k:
        raise CheckFailure(
            f"{call} chose the same data point twice (rows {found}); a point already chosen has "
            "squared distance 0 to the nearest centre, so its probability must be 0"
        )
    return found


def _spread_data(seed: int) -> np.ndarray:
    """Two tight groups of 30 points 4 apart and one lone point 6 away from the first group."""
    gen = np.random.default_rng(seed)
    near = gen.normal((0.0, 0.0), 0.05, (30, 2))
    far = gen.normal((4.0, 0.0), 0.05, (30, 2))
    return np.concatenate([near, far, [[0.0, 6.0]]])


def test_kmeans_plus_plus_spreads_out(submission, seed):
    """kmeans_plus_plus picks data points, favouring far ones by chance (squared distance)"""
    X = _spread_data(seed)
    group = np.repeat([0, 1, 2], [30, 30, 1])
    lone = same_group = 0
    for run in range(SPREAD_SEEDS):
        call = f"kmeans_plus_plus(X, 2, seed={seed + run})"
        first, second = _rows_in(submission.kmeans_plus_plus(X, 2, seed + run), X, 2, call)
        lone += second == 60
        same_group += group[first] == group[second]
    # With squared-distance sampling the lone point comes second about 1 time in 10 (at most
    # 13 of 60 over 18,000 simulated runs); the first centre's own group about 1 in 3,000.
    if lone > SPREAD_SEEDS // 2:
        raise CheckFailure(
            f"kmeans_plus_plus chose the lone far point as the second centre in {lone} of "
            f"{SPREAD_SEEDS} seeds, about 6 were expected: the next centre must be drawn at "
            "random with probability d2 / d2.sum() (rng.choice), not be the farthest point"
        )
    if same_group > 6:
        raise CheckFailure(
            f"kmeans_plus_plus chose a second centre right next to the first in {same_group} of "
            f"{SPREAD_SEEDS} seeds, almost never expected: weigh each point by its squared "
            "distance to the nearest chosen centre (rng.choice(N, p=d2 / d2.sum()))"
        )


def test_kmeans_plus_plus_matches_reference(submission, reference, seed):
    """kmeans_plus_plus makes the same random draws as the reference for the same seed"""
    X_iris, _ = _iris()
    for data, k, label in ((X_iris, 3, "iris"), (_blobs(seed), 4, "blobs")):
        for run in range(3):
            call = f"kmeans_plus_plus on {label} with k={k}, seed={seed + run}"
            got = submission.kmeans_plus_plus(data, k, seed + run)
            assert_array_equal(
                got,
                reference.kmeans_plus_plus(data, k, seed + run),
                name=call,
                hint="rng = np.random.default_rng(seed); first i = rng.integers(N); then for "
                "each next centre i = rng.choice(N, p=d2 / d2.sum()), where d2 is the squared "
                "distance to the nearest centre so far; no other random calls",
            )


def _kmeans_result(result: Any, k: int, X: np.ndarray, call: str) -> tuple[Any, Any, float]:
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise CheckFailure(
            f"{call} should return a tuple (centres, labels, inertia), got {type_name(result)}"
        )
    expect_array(result[0], name=f"{call}: centres", shape=(k, X.shape[1]))
    expect_array(result[1], name=f"{call}: labels", shape=(len(X),))
    return result[0], result[1], expect_number(result[2], name=f"{call}: inertia")


def _show_clusters(metrics, X: np.ndarray, start: np.ndarray, centres, labels, caption: str):
    """Draw 2-D points coloured by cluster, with each centre's way from its start: a picture."""
    data: dict[str, Any] = {"x": X[:, 0], "y": X[:, 1], "caption": caption}
    marks = [{"label": "start", "x": start[:, 0], "y": start[:, 1]}]
    if labels is not None:
        data.update(group=labels, groups=["cluster 1", *map(str, range(2, len(start) + 1))])
        marks.append({"label": "centres", "x": centres[:, 0], "y": centres[:, 1]})
        data["lines"] = [
            {"label": "moved" if j == 0 else "", "x": [a[0], c[0]], "y": [a[1], c[1]]}
            for j, (a, c) in enumerate(zip(start.tolist(), centres.tolist(), strict=True))
        ]
    metrics.figure("k-means on blobs", "scatter", {**data, "marks": marks})


@pytest.mark.points(2)
def test_kmeans_matches_sklearn(submission, reference, seed, metrics):
    """kmeans from given centres converges where scikit-learn's KMeans does, inertia included"""
    from sklearn.cluster import KMeans

    X_iris, _ = _iris()
    X_peng, _ = _penguins()
    cases = [("iris", X_iris, 3), ("penguins", _standardize(X_peng), 3), ("blobs", _blobs(seed), 4)]
    for label, X, k in cases:
        start = reference.kmeans_plus_plus(X, k, seed)
        oracle = KMeans(k, init=start, n_init=1, algorithm="lloyd", tol=0.0, max_iter=300).fit(X)
        call = f"kmeans on {label} with k={k}"
        if label == "blobs":
            _show_clusters(metrics, X, start, None, None, "starting centres")
        centres, labels, inertia = _kmeans_result(submission.kmeans(X, start), k, X, call)
        if label == "blobs":
            _show_clusters(metrics, X, start, centres, labels, "your clusters")
        hint = (
            "repeat: assign each point to its nearest centre, stop when no label changes, "
            "else move each centre to the mean of its points"
        )
        assert_array_equal(labels, oracle.labels_, name=f"{call}: labels", hint=hint)
        assert_array_close(
            centres, oracle.cluster_centers_, name=f"{call}: centres", rtol=1e-8, atol=1e-9
        )
        assert_number_close(
            inertia,
            float(oracle.inertia_),
            name=f"{call}: inertia",
            rtol=1e-8,
            hint="inertia = the sum over points of the squared distance to their own centre",
        )


def test_kmeans_empty_cluster(submission, reference, seed):
    """kmeans moves a centre that gets no points to the worst-served point, never to NaN"""
    X = _blobs(seed, n_per=25, k=3)
    start = np.array([X[0], X[30], [100.0, 100.0]])  # the last centre is far from every point
    call = "kmeans from a centre at (100, 100) that gets no points"
    centres, labels, inertia = _kmeans_result(submission.kmeans(X, start), 3, X, call)
    want_centres, want_labels, want_inertia = reference.kmeans(X, start)
    hint = (
        "a cluster with no points has no mean (X[labels == j].mean gives NaN): move its centre "
        "onto the point with the largest squared distance to its own centre, then keep "
        "iterating until no label changes"
    )
    assert_array_close(
        centres, want_centres, name=f"{call}: centres", rtol=1e-8, atol=1e-9, hint=hint
    )
    assert_array_equal(labels, want_labels, name=f"{call}: labels", hint=hint)
    assert_number_close(inertia, want_inertia, name=f"{call}: inertia", rtol=1e-8, hint=hint)
