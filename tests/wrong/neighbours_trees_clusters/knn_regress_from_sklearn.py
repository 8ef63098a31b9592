"""Expect failing: written_by_hand
Mistake: knn_regress hands the work to scikit-learn's KNeighborsRegressor, the model the
checks compare with. The values are right; only the rule that the learners are written with
NumPy catches it.

Everything else comes from solutions/neighbours_trees_clusters/classic.py.
"""

import numpy as np
from sklearn.neighbors import KNeighborsRegressor


def knn_regress(
    X_train: np.ndarray, y_train: np.ndarray, X_query: np.ndarray, k: int
) -> np.ndarray:
    """Predict each query's target as the mean target of its k nearest training points."""
    model = KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(X_train, y_train)
    return model.predict(X_query)
