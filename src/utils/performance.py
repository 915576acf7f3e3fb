"""Performance metrics of a daily return series (all results are fractions).

Conventions, used everywhere in the project:

- ``P`` days a year, from the data's own calendar (``annualization_days``): 252 for an
  exchange's trading days (stocks, ETFs, bonds), 365 for a market that trades every calendar day
  (crypto); 252 when the returns carry no dates. The risk-free rate is taken as 0.
- annualised return is geometric: ``prod(1 + r) ** (P / n) - 1``.
- annualised volatility is the sample standard deviation times ``sqrt(P)``.
- Sharpe is ``mean(r) * P / volatility``; Sortino uses the downside deviation
  ``sqrt(mean(min(r, 0) ** 2)) * sqrt(P)`` in place of volatility.
- max drawdown is the largest fall from a running peak of the compounded series, a positive
  fraction (0.35 = a 35% fall).
- win rate is the share of days with a positive return among days with a non-zero return
  (flat days, when a strategy is out of the market, are not counted as losses).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd
from pydantic import Field

from src.errors import InsufficientDataError
from src.models.base import StrictModel

TRADING_DAYS = 252  # an exchange's trading days a year
CALENDAR_DAYS = 365  # a market open every day (crypto)
_EVERY_DAY_ABOVE = (TRADING_DAYS + CALENDAR_DAYS) / 2.0

Returns = np.ndarray | list[float] | pd.Series


def periods_per_year(days: pd.DatetimeIndex) -> float:
    """Observed days per calendar year: ``len(days) / ((last - first).days / 365.25)``.

    About 252 on an exchange's calendar, 365.25 on crypto's; 252 when the days span no time.
    Backtests annualise with it as is (``src.backtest.metrics``).
    """
    span = (days[-1] - days[0]).days / 365.25
    return float(len(days) / span) if span > 0 else 252.0


def annualization_days(days: Optional[pd.Index]) -> int:
    """Days per year that daily figures on ``days``' calendar are annualised with.

    Parameters
    ----------
    days : pandas.Index or None
        The dates of the daily returns.

    Returns
    -------
    int
        365 (``CALENDAR_DAYS``) when the calendar trades every day: it has weekend days and
        ``periods_per_year`` is nearer 365 than 252 (crypto). 252 (``TRADING_DAYS``) otherwise:
        an exchange's calendar (never a Saturday or Sunday, so every stock figure keeps 252
        whatever the window), no dates, or fewer than two.
    """
    if not isinstance(days, pd.DatetimeIndex) or len(days) < 2 or not (days.day_of_week >= 5).any():
        return TRADING_DAYS
    return CALENDAR_DAYS if periods_per_year(days) > _EVERY_DAY_ABOVE else TRADING_DAYS


def _periods(returns: Returns, periods: Optional[float]) -> float:
    if periods is not None:
        return periods
    return annualization_days(returns.index) if isinstance(returns, pd.Series) else TRADING_DAYS


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


def _as_returns(returns: Returns) -> np.ndarray:
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


def max_drawdown(returns: Returns) -> float:
    """Largest fall from a running peak of the compounded series (0 if it never falls)."""
    arr = _as_returns(returns)
    if arr.size == 0:
        return 0.0
    wealth = np.cumprod(1.0 + arr)
    peaks = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return float(max(0.0, np.max(1.0 - wealth / peaks)))


def sharpe_ratio(returns: Returns, periods: Optional[float] = None) -> float:
    """Annualised Sharpe ratio; 0 for a series with no variation.

    Parameters
    ----------
    returns : array-like or pandas.Series of float
        Daily simple returns, oldest first; a series with a ``DatetimeIndex`` is annualised on
        its own calendar (``annualization_days``).
    periods : float, optional
        Days per year to annualise with, overriding the calendar (252 for undated returns).
    """
    days = _periods(returns, periods)
    arr = _as_returns(returns)
    if arr.size < 2:
        raise InsufficientDataError(f"returns has {arr.size} observation(s); Sharpe needs >= 2")
    vol = float(np.std(arr, ddof=1))
    if vol == 0.0:
        return 0.0
    return float(np.mean(arr) / vol * math.sqrt(days))


def compute_metrics(returns: Returns, periods: Optional[float] = None) -> PerformanceMetrics:
    """All metrics of a daily return series.

    Parameters
    ----------
    returns : array-like or pandas.Series of float
        Daily simple returns as fractions (0.01 = +1%), oldest first. A series with a
        ``DatetimeIndex`` is annualised on its own calendar (``annualization_days``: 365 for
        crypto, 252 for stocks); undated returns with 252 days a year.
    periods : float, optional
        Days per year to annualise with, overriding the calendar.

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
    days = _periods(returns, periods)
    arr = _as_returns(returns)
    n = arr.size
    if n < 2:
        raise InsufficientDataError(f"returns has {n} observation(s); metrics need >= 2")
    total = float(np.prod(1.0 + arr) - 1.0)
    ann_return = float((1.0 + total) ** (days / n) - 1.0)
    vol = float(np.std(arr, ddof=1) * math.sqrt(days))
    downside = float(math.sqrt(np.mean(np.minimum(arr, 0.0) ** 2)) * math.sqrt(days))
    mean_ann = float(np.mean(arr) * days)
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
