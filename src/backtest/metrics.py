"""Backtest figures, vectorised: the frictionless ideal, turnover, tracking error and the rest.

Definitions (README, "Backtests"):

- daily return ``r_t = V_t / V_{t-1} - 1`` with ``V_{-1}`` the starting cash, so the cost of the
  first investment is in the first day's return;
- ideal: the engine's targets in force at the previous close, rebalanced every day at no cost,
  ``r*_t = sum_i w*_{i,t-1} r_{i,t}`` (cash earns 0);
- tracking error: ``std(r_t - r*_t, ddof=1) * sqrt(P)``, ``P`` the calendar's days per year
  (days / calendar years spanned);
- turnover: ``sum |traded notional| / 2 / mean(V) / years`` over the days after the first;
- annualised return ``(V_T / V_{-1}) ** (P / T) - 1``; volatility ``std(r) * sqrt(P)``; Sharpe
  ``mean(r) / std(r) * sqrt(P)``; Sortino ``mean(r) * P / (sqrt(mean(min(r, 0)^2)) * sqrt(P))``;
  max drawdown of ``V``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from src.backtest.models import BacktestDecision, BacktestMetrics
from src.models.decision_models import PlanStatus
from src.models.trading_models import OrderStatus
from src.utils.performance import periods_per_year


def ideal_values(targets: list[tuple[int, dict[str, float]]], unit_returns: np.ndarray, units: list[str],
                 initial: float, days: pd.DatetimeIndex) -> pd.Series:
    """Value of the targets in force at each previous close, rebalanced daily at no cost."""
    n = len(days)
    w = np.zeros((n, len(units)))
    for i, t in sorted(targets, key=lambda x: x[0]):
        w[i:] = [t.get(u, 0.0) for u in units]
    r = np.zeros(n)
    r[1:] = (w[:-1] * unit_returns[1:]).sum(axis=1)
    return pd.Series(initial * np.cumprod(1.0 + r), index=days, name="ideal")


def _drawdown(values: np.ndarray) -> float:
    peaks = np.maximum.accumulate(values)
    return float(max(0.0, np.max(1.0 - values / peaks)))


def backtest_metrics(nav: pd.Series, ideal: pd.Series, weights: pd.DataFrame, *, initial: float, traded: float,
                     fees: float, slippage: float, decisions: list[BacktestDecision]) -> BacktestMetrics:
    """All figures of a backtest (see the module docstring for each definition)."""
    v = nav.to_numpy()
    r = np.diff(np.concatenate(([initial], v))) / np.concatenate(([initial], v[:-1]))
    ri = ideal.pct_change().fillna(0.0).to_numpy()
    ppy = periods_per_year(nav.index)
    n = len(v)
    years = n / ppy
    vol = float(np.std(r, ddof=1)) if n > 1 else 0.0
    mean = float(np.mean(r))
    down = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    active = r - ri
    ideal_total = ideal.iloc[-1] / initial
    filled = [d for d in decisions if any(o.status == OrderStatus.FILLED for o in d.orders)]
    return BacktestMetrics(
        start=nav.index[0].date(), end=nav.index[-1].date(), days=n, periods_per_year=ppy, initial_value=initial,
        final_value=float(v[-1]), total_return=float(v[-1] / initial - 1.0),
        annualized_return=float((v[-1] / initial) ** (1.0 / years) - 1.0),
        annualized_volatility=vol * math.sqrt(ppy),
        sharpe_ratio=0.0 if vol == 0 else mean / vol * math.sqrt(ppy),
        sortino_ratio=0.0 if down == 0 else mean / down * math.sqrt(ppy),
        max_drawdown=_drawdown(np.concatenate(([initial], v))), fees=fees, slippage_cost=slippage,
        turnover=traded / 2.0 / float(np.mean(v)) / years,
        tracking_error=float(np.std(active, ddof=1)) * math.sqrt(ppy) if n > 1 else 0.0,
        average_cash=float(weights["cash"].mean()), rebalances=len(filled),
        blocked=sum(d.status == PlanStatus.BLOCKED for d in decisions),
        engine_failures=sum(d.status == PlanStatus.ENGINE_FAILED for d in decisions),
        warnings=sum(bool(d.warnings) for d in decisions),
        ideal_annualized_return=float(ideal_total ** (1.0 / years) - 1.0),
    )
