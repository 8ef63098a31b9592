"""Checks for the classic learners: k-nearest neighbours, naive Bayes, tree splits and k-means."""

import functools
import time

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier

from grader import kit
from grader.events import FIGURE_INTERVAL
from grader.kit import Mistake, array, assert_array_equal, expect_close, number

pytestmark = pytest.mark.exercise("neighbours_trees_clusters")

PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPREAD_SEEDS = 60  # k-means++ runs in the statistical check
# The k-means figure draws the first iterations (those that move the centres most) one per
# frame, FIGURE_INTERVAL apart so that each is sent: at most 0.1 s of waiting in all.
MAX_FRAMES = 3
# A point whose two nearest centres are within this of each other in squared distance is a tie:
# which one wins is rounding (scikit-learn's expanded square, a learner's order of operations),
# and the runs part ways. Iris's one-decimal rows as k-means++ starts tie exactly in 12% of
# seeds (gaps of 3e-15 at most once rounded); every other gap seen is 3e-6 or more.
TIE_GAP = 1e-9
SPLIT_RULE = (
    "the lowest size-weighted impurity (n_left * gini_left + n_right * gini_right) / n over "
    "every feature and every midpoint between consecutive distinct sorted values"
)
CLIP = (
    "nan where two rows are (nearly) equal: expanding the square leaves a tiny negative number "
    "where the distance is about 0; clip it at 0 before the square root"
)
EMPTY_RULE = (
    "a cluster with no points has no mean: its centre jumps onto the point with the largest "
    "squared distance to its own centre, and the iterations go on until no label changes"
)
# The exercise is NumPy only: the models it has learners write, and SciPy, are off limits.
READY_MADE = kit.Shortcuts("a ready-made model or function", names={"sklearn", "scipy", "torch"})


@functools.cache
def _penguins() -> tuple[np.ndarray, np.ndarray]:
    """The four body measurements (342 complete rows) and the species as 0, 1, 2."""
    frame = kit.penguins_frame().dropna(subset=[*PENGUIN_FEATURES, "species"])
    y = frame["species"].astype("category").cat.codes.to_numpy().astype(np.int64)
    return frame[PENGUIN_FEATURES].to_numpy(dtype=np.float64), y


def _standardize(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _blobs(seed: int, n_per: int = 40, k: int = 4, spread: float = 0.8) -> np.ndarray:
    """k round clusters of n_per points in 2-D, centres drawn uniformly in [-6, 6]^2."""
    gen = np.random.default_rng(seed)
    centres = gen.uniform(-6.0, 6.0, (k, 2))
    return np.concatenate([gen.normal(centre, spread, (n_per, 2)) for centre in centres])


def _split(X: np.ndarray, y: np.ndarray, seed: int, n_query: int) -> tuple[np.ndarray, ...]:
    """Training rows, their labels, and n_query other rows as queries, chosen by the seed."""
    order = np.random.default_rng(seed).permutation(len(y))
    return X[order[n_query:]], y[order[n_query:]], X[order[:n_query]]


def _clear_queries(X_train: np.ndarray, X_query: np.ndarray, k: int) -> np.ndarray:
    """The queries whose k-th and (k+1)-th nearest training points are not tied in distance."""
    ordered = np.sort(cdist(X_query, X_train), axis=1)
    return X_query[ordered[:, k] - ordered[:, k - 1] > 1e-9]


# ---------------------------------------------------------------------------- nearest neighbours
def _near_duplicates(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A (40, 3) and B (44, 3) in which B[4 + i] is A[i] moved by about 1e-10: the expanded
    square ||a||^2 + ||b||^2 - 2 a.b is rounding noise there, negative for several pairs in
    any order of operations. Redrawn until the textbook order gives a negative, so every seed
    shows a missing clip."""
    gen = np.random.default_rng([seed, 74])
    while True:
        A = gen.normal(0.0, 3.0, (40, 3))
        B = np.concatenate([gen.normal(0.0, 3.0, (4, 3)), A + gen.normal(0.0, 1e-10, A.shape)])
        expanded = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2.0 * A @ B.T
        if (expanded < 0.0).any():
            return A, B


def _nan_near_zero(got: object, want: np.ndarray) -> bool:
    """Whether got is nan somewhere, and only where the distance is about 0."""
    if type(got) is not np.ndarray or got.shape != want.shape or got.dtype.kind != "f":
        return False
    nan = np.isnan(got)
    return bool(nan.any()) and bool((want[nan] < 1e-6).all())


def test_pairwise_distances(submission, seed):
    """pairwise_distances gives every Euclidean distance between two sets of rows, never nan"""
    gen = np.random.default_rng(seed)
    A = gen.normal(0.0, 3.0, (7, 3))
    B = np.concatenate([gen.normal(0.0, 3.0, (4, 3)), A[2:3]])  # one pair at distance 0
    cases = [
        ("A (7, 3) and B (5, 3)", A, B),
        ("A (40, 3) and B (44, 3), B[4 + i] within 1e-9 of A[i]", *_near_duplicates(seed)),
    ]
    rule = "D[i, j] = ||A[i] - B[j]||, the root of the summed squared differences"
    for case, A, B in cases:
        want = cdist(A, B)
        got = submission.pairwise_distances(A, B)
        squared = Mistake("these are the squared distances: take the square root", want**2)
        hint = CLIP if _nan_near_zero(got, want) else rule
        name = f"pairwise_distances(A, B) for {case}"
        expect_close(got, want, name=name, hint=hint, mistakes=[squared], rtol=1e-7, atol=1e-6)


@pytest.mark.points(2)
def test_knn_classify_matches_sklearn(submission, seed):
    """knn_classify votes like scikit-learn's KNeighborsClassifier, ties to the smallest label"""
    gen = np.random.default_rng(seed)
    X_train, y_train, X_query = _split(*kit.iris(), seed, 50)
    X_peng, y_peng = _penguins()
    X_rand = gen.normal(size=(60, 3))
    y_rand = gen.integers(0, 4, 60) * 3 + 2  # labels 2, 5, 8, 11: votes often tie
    cases = [
        ("iris", X_train, y_train, X_query + gen.normal(0, 0.01, X_query.shape), 5),
        ("penguins", *_split(_standardize(X_peng), y_peng, seed + 1, 80), 7),
        ("random labels", X_rand, y_rand, gen.normal(size=(40, 3)), 4),
    ]
    rule = (
        "the k training rows nearest to each query (equal distances: the lower index first) "
        "vote; a tie goes to the smallest label"
    )
    for label, X_train, y_train, X_query, k in cases:
        queries = _clear_queries(X_train, X_query, k)
        oracle = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
        got, want = submission.knn_classify(X_train, y_train, queries, k), oracle.predict(queries)
        # Labels 0..C-1 are their own positions: only other labels show this mistake.
        positions = np.searchsorted(oracle.classes_, want)
        hint = kit.likely_mistake(got, [Mistake(
            "these are positions among the sorted labels (0 to C-1), not the labels: return "
            "the label at that position", None if np.array_equal(positions, want) else positions,
        )], default=rule, expected=want, rtol=0.0, atol=0.0)  # fmt: skip
        assert_array_equal(got, want, name=f"knn_classify on {label} with k={k}", hint=hint)


def test_knn_regress_matches_sklearn(submission, seed):
    """knn_regress averages its neighbours' targets like KNeighborsRegressor"""
    X_peng, _ = _penguins()
    X_train, mass, X_query = _split(_standardize(X_peng[:, :3]), X_peng[:, 3], seed, 60)
    for k in (1, 6):
        queries = _clear_queries(X_train, X_query, k)
        oracle = KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(X_train, mass)
        expect_close(submission.knn_regress(X_train, mass, queries, k), oracle.predict(queries),
                     name=f"knn_regress of penguin body mass with k={k}", rtol=1e-9,
                     hint="the mean target of each query's k nearest training rows")  # fmt: skip


# ---------------------------------------------------------------------------- naive Bayes
def _nb_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    gen = np.random.default_rng(seed)
    X_flat = gen.normal(size=(30, 3)) * np.array([1.0, 5.0, 0.3])
    y_flat = np.repeat([3, 7, 9], 10)
    X_flat[y_flat == 7, 1] = 2.5  # constant within class 7: only the smoothing keeps var > 0
    return [("iris", *kit.iris()), ("penguins", *_penguins()),
            ("a feature constant within class 7", X_flat, y_flat)]  # fmt: skip


@pytest.mark.points(2)
def test_naive_bayes_fit_matches_sklearn(submission, seed):
    """naive_bayes_fit finds GaussianNB's classes, priors, means and smoothed variances"""
    for label, X, y in _nb_cases(seed):
        oracle = GaussianNB().fit(X, y)
        C, D = len(oracle.classes_), X.shape[1]
        classes, priors, means, variances = kit.unpack(
            submission.naive_bayes_fit(X, y), "naive_bayes_fit", context=label,
            classes=array((C,)), priors=array((C,)), means=array((C, D)), variances=array((C, D)),
        )  # fmt: skip
        where = f"naive_bayes_fit on {label}"
        assert_array_equal(classes, oracle.classes_, name=f"{where}: classes")
        expect_close(priors, oracle.class_prior_, name=f"{where}: priors", rtol=1e-12)
        expect_close(means, oracle.theta_, name=f"{where}: means", rtol=1e-10, atol=1e-12)
        raw, eps, counts = oracle.var_ - oracle.epsilon_, oracle.epsilon_, oracle.class_count_
        expect_close(variances, oracle.var_, name=f"{where}: variances", rtol=1e-8, atol=0.0,
                     hint="per class and feature, the variance of that class's rows (divided by "
                     "their count), plus epsilon = 1e-9 * the largest variance of a feature over "
                     "all of X", mistakes=[
            Mistake("these are standard deviations (plus epsilon): store the variances",
                    np.sqrt(raw) + eps),
            Mistake("these divide by count - 1: the variance here divides by the count",
                    raw * (counts / np.maximum(counts - 1, 1))[:, None] + eps),
            Mistake("a variance is 0 where a feature is constant within a class: add epsilon "
                    "to every variance", raw),
        ])  # fmt: skip


def _posterior(priors, means, variances, X, *, prior=True, log_det=True) -> np.ndarray:
    """Trusted posteriors; prior=False or log_det=False drop that term (typical mistakes)."""
    joint = -0.5 * ((X[:, None, :] - means[None]) ** 2 / variances[None]).sum(axis=2)
    if prior:
        joint = joint + np.log(priors)
    if log_det:
        joint = joint - 0.5 * np.log(2.0 * np.pi * variances).sum(axis=1)
    joint = joint - joint.max(axis=1, keepdims=True)
    return np.exp(joint) / np.exp(joint).sum(axis=1, keepdims=True)


@pytest.mark.points(2)
def test_naive_bayes_proba_matches_sklearn(submission, reference, seed):
    """naive_bayes_predict_proba matches GaussianNB, even for points far from every class"""
    for label, X, y in _nb_cases(seed):
        oracle = GaussianNB().fit(X, y)
        params = reference.naive_bayes_fit(X, y)[1:]
        # Far away every class's likelihood underflows to 0: only log-sum-exp stays finite.
        for part, queries in (("its own rows", X), ("far-away points", X[:4] * 40.0 + 500.0)):
            with np.errstate(divide="ignore", invalid="ignore"):
                joint = np.exp(oracle.predict_joint_log_proba(queries))
                direct = joint / joint.sum(axis=1, keepdims=True)
            expect_close(submission.naive_bayes_predict_proba(*params, queries),
                         oracle.predict_proba(queries), rtol=1e-6, atol=1e-9,
                         name=f"naive_bayes_predict_proba on {label}, {part}", mistakes=[
                Mistake("nan far from every class: each joint probability underflows to 0 there "
                        "and 0 / 0 is nan; normalise in log space with log-sum-exp", direct),
                Mistake("these posteriors leave out the log prior log(priors[c])",
                        _posterior(*params, queries, prior=False)),
                Mistake("these posteriors leave out -0.5 * sum_d log(2 pi variances[c, d]): it "
                        "differs between classes, so it does not cancel",
                        _posterior(*params, queries, log_det=False)),
            ], hint="the log prior plus the per-feature Gaussian log densities, then each row "
               "normalised with log-sum-exp (shifted by the row's maximum)")  # fmt: skip


# ---------------------------------------------------------------------------- decision trees
def test_gini(submission, seed):
    """gini gives 1 - sum of squared class fractions"""
    cases = {
        "a pure set": np.array([4, 4, 4]),
        "two equal classes": np.array([0, 1, 0, 1]),
        "labels 0, 0, 1, 2": np.array([0, 0, 1, 2]),
        "30 random labels": np.random.default_rng(seed).integers(0, 5, 30),
    }
    for label, y in cases.items():
        _, counts = np.unique(y, return_counts=True)
        want = 1.0 - float(((counts / len(y)) ** 2).sum())
        got = kit.py_float(submission.gini(y), f"gini of {label}")  # promised: a Python float
        expect_close(got, want, name=f"gini of {label}", rtol=1e-12, atol=1e-12,
                     hint="1 - sum_k p_k ** 2, p_k the fraction of the labels equal to k",
                     mistakes=[Mistake("this is the sum of the squared fractions: gini is 1 "
                                       "minus it", 1.0 - want)])  # fmt: skip


def _stump_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    X_iris, y_iris = kit.iris()
    gen = np.random.default_rng(seed)
    X_rand = gen.normal(size=(80, 3))
    y_rand = (X_rand[:, 1] + 0.8 * gen.normal(size=80) > 0.3).astype(np.int64)
    y_rand[X_rand[:, 2] > 1.2] = 2
    return [
        ("versicolor and virginica", X_iris[y_iris > 0], y_iris[y_iris > 0]),
        ("iris sepals", X_iris[:, :2], y_iris),
        ("penguins", *_penguins()),
        ("random data", X_rand, y_rand),
    ]


def _unique_best(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether one split scores clearly better than every other candidate."""

    def weighted_gini(part: np.ndarray) -> float:
        fractions = np.bincount(part) / len(part)
        return float(len(part) * (1.0 - fractions @ fractions))

    scores = []
    for column in X.T:
        values = np.unique(column)
        for threshold in (values[:-1] + values[1:]) / 2.0:
            left = column <= threshold
            scores.append((weighted_gini(y[left]) + weighted_gini(y[~left])) / len(y))
    best, second = np.partition(np.array(scores), 1)[:2]
    return bool(second - best > 1e-9)


@pytest.mark.points(2)
def test_best_split_matches_sklearn(submission, seed):
    """best_split picks the root split of DecisionTreeClassifier(max_depth=1)"""
    for label, X, y in _stump_cases(seed):
        if not _unique_best(X, y):
            continue  # two equally good splits: scikit-learn picks either, so skip this case
        tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y).tree_
        sizes = tree.n_node_samples
        want_impurity = (sizes[1] * tree.impurity[1] + sizes[2] * tree.impurity[2]) / sizes[0]
        feature, threshold, impurity = kit.unpack(submission.best_split(X, y), "best_split",
                                                  context=label, feature=kit.integer,
                                                  threshold=kit.py_float,
                                                  impurity=kit.py_float)  # fmt: skip
        where = f"best_split on {label}"
        if feature != int(tree.feature[0]):
            raise kit.CheckFailure(
                f"{where} chose feature {feature}, but the best split is on feature "
                f"{int(tree.feature[0])} at {tree.threshold[0]:.4g}\nHint: {SPLIT_RULE}"
            )
        # scikit-learn stores thresholds from float32 copies of X, hence the rtol.
        name = f"{where}: threshold"
        expect_close(threshold, float(tree.threshold[0]), name=name, rtol=1e-6, hint=SPLIT_RULE)
        name = f"{where}: weighted impurity"
        expect_close(impurity, want_impurity, name=name, rtol=1e-9, hint=SPLIT_RULE)


def test_best_split_ties(submission, seed):
    """best_split keeps the first of exactly tied candidates (features in order, then thresholds)"""
    gen = np.random.default_rng([seed, 235])
    values = np.sort(gen.uniform(-5.0, 5.0, 6))
    # Cutting after the 2nd or after the 4th value scores the same: (2 * 0 + 4 * 0.5) / 6.
    # Column 1 repeats column 0, so each of its candidates ties with one of column 0's.
    X, y = np.stack([values, values], axis=1), np.array([0, 0, 1, 1, 0, 0])
    order = gen.permutation(6)
    feature, threshold, impurity = kit.unpack(
        submission.best_split(X[order], y[order]), "best_split", context="exact ties",
        feature=kit.integer, threshold=number, impurity=number)  # fmt: skip
    first, last = float((values[1] + values[2]) / 2.0), float((values[3] + values[4]) / 2.0)
    if feature != 0 or abs(threshold - first) > 1e-12:
        cause = SPLIT_RULE
        if feature == 1 or abs(threshold - last) < 1e-12:  # the last tied candidate was kept
            cause = (
                "a later candidate with the same score replaced the kept one: replace only on a "
                "strictly lower score (<, not <=)"
            )
        raise kit.CheckFailure(
            f"best_split on 6 rows whose two columns are equal, where cutting feature 0 after "
            f"its 2nd or after its 4th value scores the same, chose feature {feature} at "
            f"{threshold:.6g}; the first of the tied candidates is feature 0 at {first:.6g}"
            f"\nHint: {cause}"
        )
    name = "best_split on exact ties: weighted impurity"
    expect_close(impurity, 1.0 / 3.0, name=name, rtol=1e-12, hint=SPLIT_RULE)


# ---------------------------------------------------------------------------- k-means
def _rows_in(C, X: np.ndarray, k: int, call: str) -> list[int]:
    """The row index of X that each returned centre equals exactly."""
    C = array((k, X.shape[1]))(C, call)
    equal = (C[:, None, :] == X[None, :, :]).all(axis=2)  # (k, N)
    if not equal.any(axis=1).all():
        i = int(np.argmin(equal.any(axis=1)))
        raise kit.CheckFailure(
            f"{call}: centre {i} is {np.round(C[i], 4).tolist()}, which is not a row of X; "
            "k-means++ chooses its centres among the data points"
        )
    found = equal.argmax(axis=1).tolist()
    if len(set(found)) < k:
        raise kit.CheckFailure(
            f"{call} chose the same data point twice (rows {found}); a point already chosen has "
            "squared distance 0 to the nearest centre, so its probability must be 0"
        )
    return found


def test_kmeans_plus_plus_spreads_out(submission, seed):
    """kmeans_plus_plus picks data points, favouring far ones by chance (squared distance)"""
    # Two tight groups of 30 points 4 apart and one lone point 6 away from the first group.
    gen = np.random.default_rng(seed)
    X = np.concatenate([gen.normal((0.0, 0.0), 0.05, (30, 2)),
                        gen.normal((4.0, 0.0), 0.05, (30, 2)), [[0.0, 6.0]]])  # fmt: skip
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
        raise kit.CheckFailure(
            f"kmeans_plus_plus chose the lone far point as the second centre in {lone} of "
            f"{SPREAD_SEEDS} seeds, about 6 were expected: the next centre is drawn at random, "
            "each row with probability proportional to d2, not taken as the farthest point"
        )
    if same_group > 6:
        raise kit.CheckFailure(
            f"kmeans_plus_plus chose a second centre right next to the first in {same_group} of "
            f"{SPREAD_SEEDS} seeds, almost never expected: weigh each row by d2, its squared "
            "distance to the nearest centre chosen so far"
        )


def test_kmeans_plus_plus_matches_reference(submission, reference, seed):
    """kmeans_plus_plus makes the same random draws as the reference for the same seed"""
    hint = (
        "one generator from the seed, then exactly the random calls of the docstring in its "
        "order, with d2 the squared distance to the nearest centre so far; any other draw "
        "changes which rows are chosen"
    )
    for data, k, label in ((kit.iris()[0], 3, "iris"), (_blobs(seed), 4, "blobs")):
        for s in range(seed, seed + 3):
            name = f"kmeans_plus_plus on {label} with k={k}, seed={s}"
            got = submission.kmeans_plus_plus(data, k, s)
            assert_array_equal(got, reference.kmeans_plus_plus(data, k, s), name=name, hint=hint)


def _kmeans(result, X: np.ndarray, k: int, case: str, inertia=number) -> tuple:
    """kmeans' (centres, labels, inertia); test_kmeans_matches_sklearn holds the inertia to the
    promised Python float."""
    centres, labels = array((k, X.shape[1])), array((len(X),))
    return kit.unpack(
        result, "kmeans", context=case, centres=centres, labels=labels, inertia=inertia
    )


def _expect_clustering(got, want, call: str, hint: str) -> None:
    """kmeans' (centres, labels, inertia) against the oracle's."""
    assert_array_equal(got[1], want[1], name=f"{call}: labels", hint=hint)
    expect_close(got[0], want[0], name=f"{call}: centres", rtol=1e-8, atol=1e-9, hint=hint)
    hint = "inertia = the sum over points of the squared distance to their own centre"
    expect_close(got[2], want[2], name=f"{call}: inertia", rtol=1e-8, hint=hint)


def _show_clusters(metrics, X, start, centres=None, labels=None, caption="starting centres"):
    """Draw 2-D points coloured by cluster, with each centre's way from its start: a picture."""
    data = {"x": X[:, 0], "y": X[:, 1], "caption": caption}
    marks = [{"label": "start", "x": start[:, 0], "y": start[:, 1]}]
    if labels is not None:
        data.update(group=labels, groups=["cluster 1", *map(str, range(2, len(start) + 1))])
        marks.append({"label": "centres", "x": centres[:, 0], "y": centres[:, 1]})
        data["lines"] = [
            {"label": "moved" if j == 0 else "", "x": [a[0], c[0]], "y": [a[1], c[1]]}
            for j, (a, c) in enumerate(zip(start.tolist(), centres.tolist(), strict=True))
        ]
    metrics.figure("k-means on blobs", "scatter", {**data, "marks": marks})


def _show_iterations(submission, metrics, X: np.ndarray, start: np.ndarray) -> None:
    """Draw the learner's k-means one iteration per frame: kmeans(X, start, max_iter=t) for
    t = 1, 2, ... until its centres stop moving. Pictures only: a call that fails ends them,
    and the judged call reports it."""
    shown, previous = 0.0, start  # the starting centres were drawn a while ago
    for t in range(1, MAX_FRAMES + 1):
        try:
            centres, labels, _ = _kmeans(submission.kmeans(X, start, t), X, len(start), "")
        except kit.CheckFailure:
            return
        if np.array_equal(centres, previous):
            return
        time.sleep(max(0.0, FIGURE_INTERVAL - (time.monotonic() - shown)))
        _show_clusters(metrics, X, start, centres, labels, f"iteration {t}")
        shown, previous = time.monotonic(), centres


def _lloyd(X: np.ndarray, start: np.ndarray, max_iter: int) -> KMeans:
    """scikit-learn's Lloyd iterations from `start`, until no label changes or max_iter."""
    k = len(start)
    return KMeans(k, init=start, n_init=1, algorithm="lloyd", tol=0.0, max_iter=max_iter).fit(X)


def _tied(X: np.ndarray, centres: np.ndarray) -> bool:
    """Whether some point is (nearly) as close to its second-nearest centre as to its nearest."""
    d2 = np.sort(cdist(X, centres, "sqeuclidean"), axis=1)
    return bool((d2[:, 1] - d2[:, 0] <= TIE_GAP).any())


def _tie_free_start(reference, X: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, KMeans]:
    """kmeans_plus_plus's start for the first of seed, seed + 1, ... from which no assignment of
    scikit-learn's run meets a tie (a tie lets correct code part ways), and that run."""
    for s in range(seed, seed + 20):  # 12% of iris's starts tie, none of the others' seen
        start = reference.kmeans_plus_plus(X, k, s)
        oracle = _lloyd(X, start, 300)
        path = (start, *(_lloyd(X, start, t).cluster_centers_ for t in range(1, oracle.n_iter_)))
        if not any(_tied(X, centres) for centres in (*path, oracle.cluster_centers_)):
            break
    return start, oracle


@pytest.mark.points(2)
def test_kmeans_matches_sklearn(submission, reference, seed, metrics):
    """kmeans from given centres converges where scikit-learn's KMeans does, inertia included"""
    X_peng, _ = _penguins()
    blobs = _blobs(seed)
    cases = [("iris", kit.iris()[0], 3), ("penguins", _standardize(X_peng), 3), ("blobs", blobs, 4)]
    runs = [(label, X, *_tie_free_start(reference, X, k, seed)) for label, X, k in cases]
    _show_clusters(metrics, blobs, runs[-1][2])
    for label, X, start, oracle in runs:
        k = len(start)
        if label == "blobs":
            _show_iterations(submission, metrics, X, start)
        got = _kmeans(submission.kmeans(X, start), X, k, f"on {label} with k={k}", kit.py_float)
        if label == "blobs":
            _show_clusters(metrics, X, start, got[0], got[1], "your clusters")
        hint = kit.likely_mistake(got[1], [
            Mistake("these are the labels after a single update: repeat assign and update "
                    "until no label changes", lambda X=X, start=start: _lloyd(X, start, 1).labels_),
        ], default="repeat: assign each point to its nearest centre, stop when no label "
           "changes, else move each centre to the mean of its points",
           expected=oracle.labels_)  # fmt: skip
        want = (oracle.cluster_centers_, oracle.labels_, float(oracle.inertia_))
        _expect_clustering(got, want, f"kmeans on {label} with k={k}", hint)


def test_kmeans_empty_cluster(submission, reference, seed):
    """kmeans moves a centre that gets no points to the worst-served point, never to NaN"""
    X = _blobs(seed, n_per=25, k=3)
    start = np.array([X[0], X[30], [100.0, 100.0]])  # the last centre is far from every point
    got = _kmeans(submission.kmeans(X, start), X, 3, "from a centre that gets no points")
    hint = EMPTY_RULE
    if np.isnan(got[0]).any():
        hint = "a centre became nan: the mean of no points is nan. " + EMPTY_RULE
    call = "kmeans from a centre at (100, 100) that gets no points"
    _expect_clustering(got, reference.kmeans(X, start), call, hint)


VALUE_CHECKS = ("pairwise_distances", "knn_classify_matches_sklearn", "knn_regress_matches_sklearn",
                "naive_bayes_fit_matches_sklearn", "naive_bayes_proba_matches_sklearn", "gini",
                "best_split_matches_sklearn", "kmeans_plus_plus_matches_reference",
                "kmeans_matches_sklearn")  # fmt: skip


@pytest.mark.needs_passing(*VALUE_CHECKS)
def test_written_by_hand(submission, exercise, source_tree):
    """the four learners are yours, in NumPy: no scikit-learn, SciPy or torch"""
    advice = (
        "Write each learner with NumPy from its docstring (broadcasting, np.argsort, "
        "np.bincount, ...): scikit-learn and SciPy are what the checks compare your results with"
    )
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)
