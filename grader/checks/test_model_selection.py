"""Checks for the model_selection exercise: splits, folds, searches and the bootstrap vs sklearn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score

from grader import kit
from grader.kit import CheckFailure, anything, unpack

pytestmark = pytest.mark.exercise("model_selection")

LABELS = np.array([2, 5, 9])
ALPHAS = np.logspace(-4, 1, 11)
PARTS = ["train", "val", "test"]
# The title of the cross_val_scores check, as a learner sees it (for "fix ... first").
CV_TITLE = "cross_val_scores gives sklearn's cross_val_score of Ridge on the diabetes data"
GLOBAL_RNG_HINT = (
    "make one generator rng = np.random.default_rng(seed) in the call and draw everything "
    "from it; the global np.random functions ignore the seed argument and move on between calls"
)
# sklearn is the checks' oracle (KFold, StratifiedKFold, GridSearchCV, cross_val_score).
READY_MADE = kit.Shortcuts(
    "a ready-made splitter or search this exercise asks you to write", names={"sklearn"}
)
VALUE_CHECKS = ("split_partition", "split_stratified", "kfold_matches_sklearn", "stratified_kfold",
                "cross_val_scores", "grid_search", "random_search", "bootstrap_ci")  # fmt: skip


def _labels(gen: np.random.Generator, counts: list[int], labels: np.ndarray) -> np.ndarray:
    """Shuffled labels; one of each comes first, in ascending order (as sklearn orders classes)."""
    rest = np.repeat(labels, np.array(counts) - 1)
    return np.concatenate([labels, gen.permutation(rest)])


def _indices(value: Any, name: str) -> np.ndarray:
    """A kind for unpack: a 1-d NumPy array of integer row indices."""
    array = kit.expect_array(value, name=name).numpy()
    if array.ndim != 1 or array.dtype.kind not in "iu":
        kind = "integers" if array.dtype.kind in "iu" else f"dtype {array.dtype}"
        raise CheckFailure(
            f"{name} should be a 1-d array of integer row indices, got shape "
            f"{tuple(array.shape)} of {kind}; np.flatnonzero(mask) turns a mask into indices"
        )
    return array


def _split(value: Any, call: str) -> list[np.ndarray]:
    return list(unpack(value, call, train=_indices, val=_indices, test=_indices))


def _fold(value: Any, call: str, i: int) -> list[np.ndarray]:
    return list(unpack(value, f"{call}'s fold {i}", verb="be", train=_indices, test=_indices))


def _partition(parts: list[np.ndarray], names: list[str], n: int, call: str, group="parts") -> None:
    """Every index 0..n-1 in exactly one of the parts (`group` names them in messages)."""
    seen = np.zeros(n, dtype=np.int64)
    for part, part_name in zip(parts, names, strict=True):
        outside = part[(part < 0) | (part >= n)]
        if outside.size:
            raise CheckFailure(
                f"{call}: {part_name} holds {outside[0]}, not an index of 0..{n - 1}"
            )
        np.add.at(seen, part, 1)
    twice, missing = np.flatnonzero(seen > 1), np.flatnonzero(seen == 0)
    if twice.size:
        holders = [name for part, name in zip(parts, names, strict=True) if twice[0] in part]
        where = " and ".join(holders) if len(holders) > 1 else f"{holders[0]} twice"
        raise CheckFailure(
            f"{call}: row {twice[0]} is in {where} ({twice.size} rows used more than once); "
            f"each row belongs to exactly one of the {group}"
        )
    if missing.size:
        raise CheckFailure(
            f"{call}: row {missing[0]} is in none of the {group} ({missing.size} rows left "
            f"out); every row must be in one of them"
        )


def _folds(value: Any, n: int, k: int, call: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The learner's folds, checked: k (train, test) pairs, no leak, test folds partition 0..n-1."""
    if type(value) not in (list, tuple) or len(value) != k:
        raise CheckFailure(
            f"{call} should return a list of {k} (train, test) tuples, got {kit.describe(value)}"
        )
    folds = []
    for i, fold in enumerate(value):
        train, test = _fold(fold, call, i)
        leaked = np.intersect1d(train, test)
        if leaked.size:
            raise CheckFailure(
                f"{call}: fold {i} has row {leaked[0]} in both train and test ({leaked.size} "
                "rows leak); a model must never train on the rows it is tested on"
            )
        names = [f"fold {i}'s train", f"fold {i}'s test"]
        _partition([train, test], names, n, call, f"fold {i}'s train and test")
        folds.append((train, test))
    names = [f"test fold {i}" for i in range(k)]
    _partition([test for _, test in folds], names, n, call, "test folds")
    return folds


def _class_counts(y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """counts[f, c]: rows of class c in test fold f."""
    labels = np.unique(y)
    return np.array([[np.sum(y[test] == label) for label in labels] for _, test in folds])


def test_split_partition(submission, seed):
    """train_val_test_split puts every row in exactly one part, with the sizes asked for"""
    y = _labels(np.random.default_rng(seed), [150, 100, 50], LABELS)
    # 297 rows: 0.15 * 297 = 44.55 and 0.25 * 297 = 74.25, so rounding and truncating differ.
    for n, val_fraction, test_fraction in ((300, 0.2, 0.2), (300, 0.15, 0.25), (297, 0.15, 0.25)):
        call = f"train_val_test_split(y, {val_fraction}, {test_fraction}, 3) with {n} rows"
        parts = _split(submission.train_val_test_split(y[:n], val_fraction, test_fraction, 3), call)
        _partition(parts, PARTS, n, call)
        sizes = {"val": val_fraction, "test": test_fraction}
        for part, (name, fraction) in zip(parts[1:], sizes.items(), strict=True):
            if len(part) != round(fraction * n):
                raise CheckFailure(
                    f"{call}: the {name} part has {len(part)} rows, expected "
                    f"round({fraction} * {n}) = round({fraction * n:g}) = {round(fraction * n)}"
                    + (": round to the nearest whole number, do not cut the fraction off"
                       if len(part) == int(fraction * n) else "")
                )  # fmt: skip


@pytest.mark.points(2)
def test_split_stratified(submission, seed):
    """with stratify=True every part keeps the class proportions, within one row per class"""
    gen = np.random.default_rng(seed)
    cases = [
        ("labels 2, 5, 9 (150, 100, 50 rows)", _labels(gen, [150, 100, 50], LABELS), 0.2, 0.2),
        ("labels 2, 5, 9 (150, 100, 50 rows)", _labels(gen, [150, 100, 50], LABELS), 0.1, 0.3),
        ("180 retained (1), 20 leaving (0)", _labels(gen, [20, 180], np.array([0, 1])), 0.15, 0.25),
        # Fractions of each class that are not whole numbers: rounding per class shows.
        ("labels 2, 5, 9 (151, 97, 53 rows)", _labels(gen, [151, 97, 53], LABELS), 0.15, 0.25),
    ]
    stratify = {"stratify": True}
    for split_seed, (case, y, val_fraction, test_fraction) in enumerate(cases, start=10):
        call = (
            f"train_val_test_split(y, {val_fraction}, {test_fraction}, {split_seed}, stratify=True)"
        )
        args = (y, val_fraction, test_fraction, split_seed)
        value = kit.call_unchanged(
            submission, "train_val_test_split", *args, kwargs=stratify, names=("y",)
        )
        parts = _split(value, call)
        _partition(parts, PARTS, len(y), call)
        fractions = (1 - val_fraction - test_fraction, val_fraction, test_fraction)
        named = list(zip(parts, PARTS, fractions, strict=True))
        # The rounded parts first: a wrong size there is the cause of the training part's.
        for part, name, fraction in named[1:] + named[:1]:
            for label in np.unique(y):
                have, total = int(np.sum(y[part] == label)), int(np.sum(y == label))
                if name != "train" and have != round(fraction * total):
                    raise CheckFailure(
                        f"{call} with {case}: the {name} part holds {have} rows of label "
                        f"{label}, expected round({fraction:g} * {total}) = "
                        f"{round(fraction * total)}; with stratify, each label's rows are a "
                        "group of their own, cut by the docstring's rounding rule"
                    )
                if abs(have - fraction * total) > 1 + 1e-9:
                    raise CheckFailure(
                        f"{call} with {case}: the {name} part holds {have} rows of label "
                        f"{label}, expected about {fraction * total:g} ({fraction:g} of its "
                        f"{total} rows); with stratify, shuffle and split each label's rows "
                        "separately, then join the pieces"
                    )


def _flatten(value: Any, function: str, call: str) -> list[np.ndarray]:
    """The index arrays of a split (3 arrays) or of folds (2 per fold), in order."""
    if function == "train_val_test_split":
        return _split(value, call)
    if type(value) not in (list, tuple):
        raise CheckFailure(
            f"{call} should return a list of (train, test) tuples, got {kit.describe(value)}"
        )
    return [part for i, fold in enumerate(value) for part in _fold(fold, call, i)]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_seeds_reproducible(submission, seed):
    """the same seed gives the same split and folds, another seed different ones"""
    y = _labels(np.random.default_rng(seed), [40, 30, 20], LABELS)
    for template, args, kwargs in [
        ("train_val_test_split(y, 0.2, 0.2, {})", (y, 0.2, 0.2), {}),
        ("train_val_test_split(y, 0.2, 0.2, {}, stratify=True)", (y, 0.2, 0.2), {"stratify": True}),
        ("kfold_indices(n, 5, {})", (len(y), 5), {}),
        ("stratified_kfold_indices(y, 5, {})", (y, 5), {}),
    ]:
        function = template.split("(")[0]
        seeds = (21, 21, 22)
        values = [submission.call(function, *args, s, **kwargs) for s in seeds]
        first, second, other = (
            _flatten(value, function, template.format(s))
            for value, s in zip(values, seeds, strict=True)
        )
        if not _same(first, second):
            raise CheckFailure(
                f"calling {template.format(21)} twice gave different results; {GLOBAL_RNG_HINT}"
            )
        if _same([np.sort(a) for a in first], [np.sort(b) for b in other]):
            raise CheckFailure(
                f"{template.format(21)} and {template.format(22)} chose the same rows; shuffle "
                "with rng = np.random.default_rng(seed) so a new seed gives a new split"
            )


@pytest.mark.points(2)
def test_kfold_matches_sklearn(submission):
    """unshuffled, kfold_indices gives exactly sklearn's KFold folds, remainder rows included"""
    for n, k in ((20, 5), (23, 5), (10, 3), (7, 7), (101, 10)):
        call = f"kfold_indices({n}, {k})"
        folds = _folds(submission.kfold_indices(n, k), n, k, call)
        hint = (
            f"cut 0..{n - 1} into {k} consecutive blocks; the first n % k = {n % k} blocks "
            f"hold n // k + 1 = {n // k + 1} rows, the rest n // k = {n // k}"
        )
        for i, (fold, want) in enumerate(zip(folds, KFold(k).split(np.zeros((n, 1))), strict=True)):
            for rows, got, expected in (("test", fold[1], want[1]), ("training", fold[0], want[0])):
                name = f"{call}: fold {i}'s {rows} rows (sorted)"
                kit.assert_array_equal(np.sort(got), expected, name=name, hint=hint)


def test_kfold_shuffled(submission, seed):
    """shuffled folds still cover every row once, with sizes as sklearn's KFold"""
    n, k, fold_seed = 53, 5, seed % 1000
    call = f"kfold_indices({n}, {k}, {fold_seed})"
    folds = _folds(submission.kfold_indices(n, k, fold_seed), n, k, call)
    unshuffled = [test for _, test in KFold(k).split(np.zeros((n, 1)))]
    sizes, expected = [len(test) for _, test in folds], [len(test) for test in unshuffled]
    if sizes != expected:
        raise CheckFailure(
            f"{call}: test fold sizes {sizes}, expected {expected}; the first n % k folds "
            "take one row more than the others"
        )
    if _same([np.sort(test) for _, test in folds], unshuffled):
        raise CheckFailure(
            f"{call} returned the unshuffled folds; with a seed, shuffle the indices with "
            "np.random.default_rng(seed).permutation(n) before cutting them into folds"
        )


@pytest.mark.points(2)
def test_stratified_kfold(submission, seed):
    """stratified folds spread every class evenly, with the counts of sklearn's StratifiedKFold"""
    gen = np.random.default_rng(seed)
    cases = [
        ("labels 2, 5, 9 (37, 23, 11 rows)", _labels(gen, [37, 23, 11], LABELS), 5, None),
        ("labels 2, 5, 9 (37, 23, 11 rows)", _labels(gen, [37, 23, 11], LABELS), 5, 4),
        ("180 retained (1), 21 leaving (0)", _labels(gen, [21, 180], np.array([0, 1])), 4, 5),
    ]
    hint = (
        "sort the (shuffled) indices by label, smallest first, then deal them out: the i-th "
        "goes to fold i % k; sklearn's folds hold these counts"
    )
    for case, y, k, fold_seed in cases:
        call = f"stratified_kfold_indices(y, {k}, seed={fold_seed}) with {case}"
        value = kit.call_unchanged(
            submission, "stratified_kfold_indices", y, k, fold_seed, names=("y",)
        )
        folds = _folds(value, len(y), k, call)
        sizes = [len(test) for _, test in folds]
        if max(sizes) - min(sizes) > 1:
            raise CheckFailure(
                f"{call}: test fold sizes {sizes} differ by more than one; deal the rows of all "
                "classes in one round, continuing where the previous class stopped"
            )
        counts = _class_counts(y, folds)
        totals = counts.sum(axis=0)
        uneven = np.argwhere(np.abs(counts - totals / k) >= 1)
        if uneven.size:
            fold, c = uneven[0]
            raise CheckFailure(
                f"{call}: test fold {fold} holds {counts[fold, c]} rows of label "
                f"{np.unique(y)[c]}, expected {totals[c] // k} or {totals[c] // k + 1} "
                f"({totals[c]} rows over {k} folds)"
            )
        want = _class_counts(y, list(StratifiedKFold(k).split(np.zeros((len(y), 1)), y)))
        name = f"{call}: rows per (test fold, label)"
        kit.assert_array_equal(counts, want, name=name, hint=hint)


def test_cross_val_scores(submission, seed):
    """cross_val_scores gives sklearn's cross_val_score of Ridge on the diabetes data"""
    X, y = kit.diabetes()
    folds = list(KFold(5, shuffle=True, random_state=seed % 1000).split(X))
    hint = (
        "for each (train, test) fold, ridge_fit on X[train], y[train] only, then r2_score on "
        "y[test] and the predictions for X[test]"
    )
    for alpha in (0.1, 1.0):
        args, name = (X, y, folds, alpha), f"cross_val_scores(X, y, folds, {alpha})"
        got = kit.call_unchanged(submission, "cross_val_scores", *args, names=("X", "y", "folds"))
        got = kit.array((len(folds),))(got, name)  # a wrong type says so, without the rule's hint
        want = cross_val_score(Ridge(alpha=alpha), X, y, cv=folds)
        kit.assert_array_close(got, want, name=name, rtol=1e-6, hint=hint)


@pytest.mark.points(2)
def test_grid_search(submission, seed):
    """grid_search picks the same alpha as sklearn's GridSearchCV on the same folds"""
    X, y = kit.diabetes()
    folds = list(KFold(5, shuffle=True, random_state=seed % 1000).split(X))
    got = submission.grid_search(X, y, ALPHAS, folds)
    best_alpha, mean_scores = unpack(got, "grid_search", best_alpha=anything, mean_scores=anything)
    search = GridSearchCV(Ridge(), {"alpha": ALPHAS}, cv=folds, refit=False).fit(X, y)
    want = search.cv_results_["mean_test_score"]
    rule = "mean_scores[i] is the mean over the folds of cross_val_scores for alphas[i]"
    hint = _scores_first(submission, X, y, folds, rule, mean_scores, want)
    name = "grid_search's mean_scores"
    kit.assert_array_close(mean_scores, want, name=name, rtol=1e-6, hint=hint)
    best = float(search.best_params_["alpha"])
    name = f"grid_search's best alpha (of {len(ALPHAS)} from 1e-4 to 10)"
    kit.expect_close(best_alpha, best, name=name, rtol=1e-12, **_best_hints(ALPHAS, want))


def test_random_search(submission, reference, seed):
    """random_search draws alphas log-uniformly, reproducibly, and keeps the best one"""
    X, y = kit.diabetes()
    folds = list(KFold(5, shuffle=True, random_state=seed % 1000).split(X))
    low, high, n_iter = 1e-4, 10.0, 30
    call = f"random_search(X, y, {low:g}, {high:g}, {n_iter}, folds, 8)"
    kinds = {"best_alpha": anything, "alphas": kit.array((n_iter,)), "mean_scores": anything}
    result = submission.random_search(X, y, low, high, n_iter, folds, 8)
    best_alpha, alphas, mean_scores = unpack(result, call, **kinds)
    if not np.all((alphas >= low) & (alphas <= high)):
        bad = alphas[(alphas < low) | (alphas > high)][0]
        raise CheckFailure(f"{call} tried alpha={bad:g}, outside [{low:g}, {high:g}]")
    below = float(np.mean(alphas < np.sqrt(low * high)))
    if not 0.15 <= below <= 0.85:
        raise CheckFailure(
            f"{call}: {below:.0%} of the alphas are below {np.sqrt(low * high):.3g}, the middle "
            "of [1e-4, 10] on a log scale; about half should be. Draw the exponent uniformly: "
            "10 ** rng.uniform(np.log10(low), np.log10(high), size=n_iter)"
        )
    want = np.array([reference.cross_val_scores(X, y, folds, alpha).mean() for alpha in alphas])
    rule = "score the alphas you drew exactly as grid_search does"
    hint = _scores_first(submission, X, y, folds, rule, mean_scores, want)
    kit.assert_array_close(mean_scores, want, name=f"{call}'s mean_scores", rtol=1e-6, hint=hint)
    best = float(alphas[np.argmax(want)])
    name = f"{call}'s best alpha"
    kit.expect_close(best_alpha, best, name=name, rtol=1e-12, **_best_hints(alphas, want))
    again = submission.random_search(X, y, low, high, n_iter, folds, 8)
    _, again_alphas, _ = unpack(again, f"a second {call}", **dict(kinds, alphas=anything))
    name = f"a second {call}'s alphas"
    kit.assert_array_equal(again_alphas, alphas, name=name, hint=GLOBAL_RNG_HINT)


def _best_hints(alphas: np.ndarray, means: np.ndarray) -> dict[str, Any]:
    """The rule for the best alpha, and the two mistakes that pick another value."""
    hint = (
        f"the best alpha is the one with the highest mean R^2 ({means.max():.4f}; the first on "
        "a tie), returned as the alpha itself: alphas[i], not its position i"
    )
    i = int(np.argmax(means))
    mistakes = [
        kit.Mistake(
            f"this is the alpha with the lowest mean R^2 ({means.min():.4f}): R^2 is better "
            "when higher, so take the position of the largest mean",
            float(alphas[np.argmin(means)]),
        ),
        # A position that is also an alpha of the grid would be ambiguous: no hint then.
        kit.Mistake(
            f"this is the position {i} of the best alpha in alphas: return alphas[{i}] itself",
            None if np.any(np.isclose(alphas, i)) else float(i),
        ),
    ]
    return {"hint": hint, "mistakes": mistakes}


def _scores_first(submission, X, y, folds, rule: str, got: Any, want: np.ndarray) -> str:
    """The searches average the learner's own cross_val_scores: when those are wrong, fix them."""
    if kit.matches(got, want, rtol=1e-6, atol=0.0):
        return rule
    for alpha in (0.1, 1.0):
        try:
            scores = submission.cross_val_scores(X, y, folds, alpha)
        except CheckFailure:
            scores = None
        if not kit.matches(scores, cross_val_score(Ridge(alpha=alpha), X, y, cv=folds), rtol=1e-6):
            return f"your cross_val_scores is wrong on these folds: fix {CV_TITLE!r} first"
    return rule


def _interval(value: Any, call: str) -> tuple[float, float, float]:
    return unpack(value, call, estimate=kit.py_float, low=kit.py_float, high=kit.py_float)


def _predictions(gen: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions that are right about 80% of the time."""
    y_true = gen.integers(0, 2, n)
    return y_true, np.where(gen.random(n) < 0.8, y_true, 1 - y_true)


@pytest.mark.points(2)
def test_bootstrap_ci(submission, seed):
    """bootstrap_ci holds the accuracy, has the expected width, and narrows with more data"""
    gen = np.random.default_rng(seed)
    widths = {}
    runs = ((100, 2000, 0.95, 1.96), (100, 2000, 0.8, 1.2816), (2500, 1000, 0.95, 1.96))
    for n, n_boot, level, z in runs:
        y_true, y_pred = _predictions(gen, n)
        call = f"bootstrap_ci(y_true, y_pred, {n_boot}, {level}, 5) on {n} samples"
        args = (y_true, y_pred, n_boot, level, 5)
        value = kit.call_unchanged(submission, "bootstrap_ci", *args, names=("y_true", "y_pred"))
        estimate, low, high = _interval(value, call)
        accuracy = float(np.mean(y_true == y_pred))
        name, hint = f"{call}'s estimate", "the estimate is the accuracy on all N rows, once"
        # The mean of the resampled accuracies lands within a few standard errors of it.
        near = 5 * np.sqrt(accuracy * (1 - accuracy) / n / n_boot)
        if estimate != accuracy and abs(estimate - accuracy) < near:
            hint += ", not the mean of the resampled accuracies (which only comes close to it)"
        kit.assert_number_close(estimate, accuracy, name=name, rtol=1e-12, hint=hint)
        if not low <= estimate <= high:
            raise CheckFailure(
                f"{call} gave the interval [{low:.4f}, {high:.4f}], which does not hold the "
                f"accuracy {estimate:.4f}; low is the {(1 - level) / 2:g} quantile of the "
                f"resampled accuracies and high the {(1 + level) / 2:g} quantile, and "
                f"np.percentile takes percents: {50 * (1 - level):g} and {50 * (1 + level):g}"
            )
        # The normal approximation: the percentile interval should be close to it.
        expected = 2 * z * np.sqrt(accuracy * (1 - accuracy) / n)
        if not 0.75 <= (high - low) / expected <= 1.3:
            reason = (
                "each resample must draw n rows with replacement (rng.integers(0, n, size=n)); "
                "without replacement every resample is the whole data set and the width is 0"
                if high - low < 0.25 * expected
                else "np.percentile takes percents: 100 * (1 - level) / 2 and 100 * (1 + level) / 2"
            )
            raise CheckFailure(
                f"{call} gave [{low:.4f}, {high:.4f}], width {high - low:.4f}; an interval at "
                f"level {level} for an accuracy of {accuracy:.2f} on {n} samples should be "
                f"about {expected:.4f} wide. Hint: {reason}"
            )
        widths[(n, level)] = high - low
    if not widths[(2500, 0.95)] < widths[(100, 0.95)] / 3:
        raise CheckFailure(
            f"the 95% interval is {widths[(100, 0.95)]:.4f} wide on 100 samples and "
            f"{widths[(2500, 0.95)]:.4f} on 2500; with 25 times the data it should be about "
            "5 times narrower"
        )


def test_bootstrap_reproducible(submission, seed):
    """bootstrap_ci gives the same interval for the same seed, and another for another seed"""
    # Five resamples of 997 rows: each end interpolates between two of five accuracies spread
    # over dozens of possible values, so two independent draws agree with a probability far
    # below one in a million, and a seeded generator always agrees with itself.
    y_true, y_pred = _predictions(np.random.default_rng(seed), 997)
    call = "bootstrap_ci(y_true, y_pred, 5, 0.9, {}) on 997 samples"
    first, again, *others = (
        _interval(submission.bootstrap_ci(y_true, y_pred, 5, 0.9, s), call.format(s))
        for s in (5, 5, 6, 7)
    )
    if again != first:
        raise CheckFailure(
            f"calling {call.format(5)} twice gave different intervals, {first[1:]} and "
            f"{again[1:]}; {GLOBAL_RNG_HINT}"
        )
    if all(other == first for other in others):
        raise CheckFailure(
            f"{call.format(5)} gave the interval {first[1:]} for seeds 5, 6 and 7 alike; "
            "seed the generator with the seed argument"
        )


@pytest.mark.needs_passing(*VALUE_CHECKS)
def test_written_by_hand(submission, exercise, source_tree):
    """the splits, folds, searches and bootstrap are written with NumPy, not taken from sklearn"""
    advice = (
        "Shuffle, deal out and score the rows yourself with NumPy and the provided ridge "
        "functions: sklearn's splitters and searches are what the checks compare yours with"
    )
    kit.expect_no_shortcuts(source_tree, exercise.path, READY_MADE, advice=advice)
