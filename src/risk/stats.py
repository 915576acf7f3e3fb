"""Column-wise trailing statistics on numpy arrays (the risk stage's hot path).

Same conventions as ``src.utils.performance`` (days a year from the calendar, risk-free 0,
sample volatility), but for every column at once; NaN rows at the start of a column (a unit
with a shorter history) are left out of that column only.
"""

from __future__ import annotations

import math

import numpy as np

from src.utils.performance import TRADING_DAYS


def column_sharpes(window: np.ndarray, periods: float = TRADING_DAYS) -> np.ndarray:
    """Annualised Sharpe of each column, ignoring NaN; 0 for a flat column.

    Parameters
    ----------
    window : numpy.ndarray
        Daily returns, one column per unit.
    periods : float
        Days per year of the window's calendar (``annualization_days`` of its dates: 252 for
        stocks, 365 for crypto).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(window, axis=0)
        vol = np.nanstd(window, axis=0, ddof=1)
        out = np.where(vol > 0, mean / np.where(vol > 0, vol, 1.0) * math.sqrt(periods), 0.0)
    return out


def column_drawdowns(window: np.ndarray) -> np.ndarray:
    """Largest fall from a running peak of each compounded column (NaN counts as no return)."""
    wealth = np.cumprod(1.0 + np.nan_to_num(window, nan=0.0), axis=0)
    if not len(wealth):
        return np.zeros(window.shape[1])
    peaks = np.maximum.accumulate(np.vstack([np.ones((1, wealth.shape[1])), wealth]), axis=0)[1:]
    return np.maximum(0.0, (1.0 - wealth / peaks).max(axis=0))


def weighted_avg_correlation(corr: np.ndarray, w: np.ndarray) -> float:
    """``sum_{i != j} w_i w_j rho_ij / sum_{i != j} w_i w_j``."""
    outer = np.outer(w, w)
    off = ~np.eye(len(w), dtype=bool)
    denominator = float(outer[off].sum())
    if denominator <= 0.0:  # at most one unit with weight: there is no pair to average
        return float("nan")
    return float((outer * corr)[off].sum() / denominator)


def correlation_matrix(window: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns over the rows where every column has a value.

    A flat column (a sleeve in cash) correlates with nothing: its row and column are 0 (1 on the
    diagonal). One BLAS product instead of ``np.corrcoef``'s general path.
    """
    rows = window[~np.isnan(window).any(axis=1)] if np.isnan(window).any() else window
    n = window.shape[1]
    if len(rows) < 3:
        return np.eye(n)
    centred = rows - rows.mean(axis=0)
    cov = centred.T @ centred
    sd = np.sqrt(np.diag(cov))
    safe = np.where(sd > 0, sd, 1.0)
    corr = cov / np.outer(safe, safe)
    flat = sd == 0
    corr[flat, :] = 0.0
    corr[:, flat] = 0.0
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)
