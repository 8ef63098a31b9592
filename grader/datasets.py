"""Small, fixed data sets for the checks (trusted side: never imported by a learner's code).

- `logic_table` gives the four rows of a two-input logic gate (AND, OR, XOR).
- `digits`, `diabetes`, `iris`: scikit-learn's bundled data sets as NumPy arrays.
- `digits_split` gives the digits as tensors scaled to [0, 1], split into train and held-out rows.
- `penguins_frame` is the Palmer penguins table; `penguins_binary` two of its species by bill
  length and bill depth.

Each file is read once per process (cached); every call returns fresh copies, so a check that
changes what it got cannot change what the next one gets. All are deterministic: the same call
always returns the same rows in the same order, so a check can compare a learner's training
run with the reference one step by step. Nothing is downloaded: the data ship in the packages.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # pandas loads only when the penguins are needed
    import pandas as pd

LOGIC_INPUTS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0), (1, 1))
LOGIC_OUTPUTS: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
}

PENGUIN_FEATURES: tuple[str, str] = ("bill_length_mm", "bill_depth_mm")
PENGUIN_POSITIVE = "Adelie"  # label 1
PENGUIN_NEGATIVE = "Gentoo"  # label 0
PENGUIN_SEED = 0  # seeds the fixed shuffle of the rows


def logic_table(name: str, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The truth table of a two-input gate: X (4, 2) of 0/1 inputs and y (4,) of 0/1 outputs.

    `name` is "and", "or" or "xor". Rows are (0, 0), (0, 1), (1, 0), (1, 1) in that order.
    """
    outputs = LOGIC_OUTPUTS.get(name)
    if outputs is None:
        known = ", ".join(sorted(LOGIC_OUTPUTS))
        raise ValueError(f"unknown logic gate {name!r} (known: {known})")
    X = torch.tensor(LOGIC_INPUTS, dtype=dtype)
    y = torch.tensor(outputs, dtype=dtype)
    return X, y


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: X (1797, 64) float64 pixel values 0..16, y (1797,) int64 0..9."""
    X, y = _sklearn("digits", False)
    return X.copy(), y.copy()


def digits_split(
    held_out: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits as X_train, y_train, X_held, y_held: pixels float32 in [0, 1], labels int64.

    The rows are shuffled with `torch.randperm` seeded with `seed`; the first `held_out` of the
    shuffled rows are held out, in that order, and the rest are the training rows.
    """
    features, labels = digits()
    X = torch.tensor(features, dtype=torch.float32) / 16
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    held, train = order[:held_out], order[held_out:]
    return X[train], y[train], X[held], y[held]


def diabetes(scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's diabetes data: X (442, 10) float64, y (442,) float64 disease progression.

    `scaled=True` gives the bundled features (each centred and scaled to unit norm);
    `scaled=False` the original units (age in years, BMI, blood pressure, ...).
    """
    X, y = _sklearn("diabetes", scaled)
    return X.copy(), y.copy()


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: X (150, 4) float64 (sepal and petal length and width, cm), y (150,) int64.

    Labels 0, 1, 2 are setosa, versicolor, virginica; rows in the bundled order.
    """
    X, y = _sklearn("iris", False)
    return X.copy(), y.copy()


def penguins_frame() -> pd.DataFrame:
    """The Palmer penguins table (344 rows, with its missing values), a fresh copy per call."""
    return _penguin_frame().copy()


@functools.cache
def _sklearn(name: str, scaled: bool) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets  # local import: only the checks that use these pay for it

    if name == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True, scaled=scaled)
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64 if name == "diabetes" else np.int64)
    return X, y


@functools.lru_cache(maxsize=1)
def _penguin_frame() -> pd.DataFrame:
    """The Palmer penguins table, loaded once from the copy shipped inside the package."""
    import palmerpenguins  # local import: only the checks that use the penguins pay for it

    return palmerpenguins.load_penguins()


def penguins_binary(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Adelie (label 1) against Gentoo (label 0) penguins, by bill length and bill depth.

    Rows missing a species or either bill measurement are dropped (274 remain). Each feature
    is standardized to mean 0 and standard deviation 1 over the kept rows, so that a
    perceptron with lr = 1 starting from zeros converges in a few dozen epochs. The two
    classes are linearly separable in these two features. The rows are shuffled once with a
    fixed seed so the classes are interleaved; the order is the same on every call.

    Returns X (N, 2) and y (N,) of 0.0/1.0, both with the given dtype, on the CPU.
    """
    frame = _penguin_frame()
    columns = ["species", *PENGUIN_FEATURES]
    kept = frame.loc[frame["species"].isin([PENGUIN_POSITIVE, PENGUIN_NEGATIVE]), columns]
    kept = kept.dropna()
    features = torch.tensor(kept[list(PENGUIN_FEATURES)].to_numpy(), dtype=torch.float64)
    labels = torch.tensor((kept["species"] == PENGUIN_POSITIVE).to_numpy(), dtype=torch.float64)
    features = (features - features.mean(dim=0)) / features.std(dim=0, correction=0)
    generator = torch.Generator().manual_seed(PENGUIN_SEED)
    order = torch.randperm(len(labels), generator=generator)
    return features[order].to(dtype), labels[order].to(dtype)
