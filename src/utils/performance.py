"""Performance metrics of a daily return series (all results are fractions).

Conventions, used everywhere in the project:

- 252 trading days a year; the risk-free rate is taken as 0.
- annualised return is geometric: ``prod(1 + r) ** (252 / n) - 1``.
- annualised volatility is the sample standard deviation times ``sqrt(252)``.
- Sharpe is ``mean(r) * 252 / volatility``; Sortino uses the downside deviation
  ``sqrt(mean(min(r, 0) ** 2)) * sqrt(252)`` in place of volatility.
- max drawdown is the largest fall from a running peak of the compounded series, a positive
  fraction (0.35 = a 35% fall).
- win rate is the share of days with a positive return among days with a non-zero return
  (flat days, when a strategy is out of the market, are not counted as losses).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from src.errors import InsufficientDataError
from src.models.base import StrictModel

TRADING_DAYS = 252


class PerformanceMetrics(StrictModel):
    """Summary statistics of one daily return series."""

    annualized_return: float = Field(description="Geometric annualised return.")
    annualized_volatility: float = Field(description="Annualised standard deviation.")
    sharpe_ratio: float = Field(description="Annualised Sharpe ratio (risk-free 0).")
    sortino_ratio: float = Field(description="Annualised Sortino ratio (target 0).")
    max_drawdown: float = Field(description="Largest peak-to-trough fall, positive fraction.")
    win_rate: float = Field(description="Share of positive days among non-flat days.")
    total_return: float = Field(description="Compounded return over the whole series.")
    observations: int = Field(description="Number of daily returns.")


def _as_returns(returns: np.ndarray | list[float]) -> np.ndarray:
    arr = np.asarray(returns, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"returns must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"returns[{bad}]={arr[bad]} is not finite")
    if np.any(arr <= -1.0):
        bad = int(np.flatnonzero(arr <= -1.0)[0])
        raise ValueError(f"returns[{bad}]={arr[bad]} is a loss of 100% or more")
    return arr


def max_drawdown(returns: np.ndarray | list[float]) -> float:
    """Largest fall from a running peak of the compounded series (0 if it never falls)."""
    arr = _as_returns(returns)
    if arr.size == 0:
        return 0.0
    wealth = np.cumprod(1.0 + arr)
    peaks = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return float(max(0.0, np.max(1.0 - wealth / peaks)))


def sharpe_ratio(returns: np.ndarray | list[float]) -> float:
    """Annualised Sharpe ratio; 0 for a series with no variation."""
    arr = _as_returns(returns)
    if arr.size < 2:
        raise InsufficientDataError(f"returns has {arr.size} observation(s); Sharpe needs >= 2")
    vol = float(np.std(arr, ddof=1))
    if vol == 0.0:
        return 0.0
    return float(np.mean(arr) / vol * math.sqrt(TRADING_DAYS))


def compute_metrics(returns: np.ndarray | list[float]) -> PerformanceMetrics:
    """All metrics of a daily return series.

    Parameters
    ----------
    returns : array-like of float
        Daily simple returns as fractions (0.01 = +1%), oldest first.

    Returns
    -------
    PerformanceMetrics

    Raises
    ------
    InsufficientDataError
        If fewer than 2 returns are given.
    ValueError
        If a return is not finite or is -100% or worse.
    """
    arr = _as_returns(returns)
    n = arr.size
    if n < 2:
        raise InsufficientDataError(f"returns has {n} observation(s); metrics need >= 2")
    total = float(np.prod(1.0 + arr) - 1.0)
    ann_return = float((1.0 + total) ** (TRADING_DAYS / n) - 1.0)
    vol = float(np.std(arr, ddof=1) * math.sqrt(TRADING_DAYS))
    downside = float(math.sqrt(np.mean(np.minimum(arr, 0.0) ** 2)) * math.sqrt(TRADING_DAYS))
    mean_ann = float(np.mean(arr) * TRADING_DAYS)
    active = arr[arr != 0.0]
    return PerformanceMetrics(
        annualized_return=ann_return,
        annualized_volatility=vol,
        sharpe_ratio=0.0 if vol == 0.0 else mean_ann / vol,
        sortino_ratio=0.0 if downside == 0.0 else mean_ann / downside,
        max_drawdown=max_drawdown(arr),
        win_rate=0.0 if active.size == 0 else float(np.mean(active > 0.0)),
        total_return=total,
        observations=n,
    )
