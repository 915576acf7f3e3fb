"""Covariance estimation with Ledoit-Wolf shrinkage towards a scaled identity.

Ledoit, O. and Wolf, M. (2004), "A well-conditioned estimator for large-dimensional covariance
matrices", Journal of Multivariate Analysis 88(2). The sample covariance is shrunk towards
``mu * I`` (``mu`` = average variance) by the intensity that minimises the expected Frobenius
loss; the result is always positive definite, which the risk-parity solver needs.
"""

from __future__ import annotations

import numpy as np

from src.errors import InsufficientDataError


def ledoit_wolf(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """Shrunk covariance of ``returns`` (rows = days, columns = units) and the intensity used.

    Raises
    ------
    InsufficientDataError
        If fewer than 2 rows are given.
    ValueError
        If a value is not finite.
    """
    x = np.asarray(returns, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"returns must be 2-D (days x units), got shape {x.shape}")
    n, p = x.shape
    if n < 2:
        raise InsufficientDataError(f"returns has {n} row(s); covariance needs >= 2")
    if not np.all(np.isfinite(x)):
        raise ValueError("returns has a missing or non-finite value")
    x = x - x.mean(axis=0)
    sample = x.T @ x / n
    mu = np.trace(sample) / p
    target = mu * np.eye(p)
    d2 = np.sum((sample - target) ** 2) / p
    if d2 == 0.0:
        return sample, 0.0
    # Average squared distance of the daily outer products from the sample covariance.
    x2 = x ** 2
    b2_bar = (np.sum(x2.T @ x2) / n - np.sum(sample ** 2)) / (n * p)
    b2 = min(b2_bar, d2)
    shrinkage = float(b2 / d2)
    return shrinkage * target + (1.0 - shrinkage) * sample, shrinkage
