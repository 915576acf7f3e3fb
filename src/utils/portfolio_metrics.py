"""Metrics of the portfolio from its own value history (flows are not returns).

Daily time-weighted returns: the last value point of each day is the day's close, and the
day's return is ``(V_t - F_t) / V_{t-1} - 1`` where ``F_t`` is the net deposit (+) or
withdrawal (-) since the previous close, so money moved in or out never counts as performance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import pandas as pd
from pydantic import Field

from src.models.base import StrictModel
from src.models.execution_models import ValuePoint
from src.utils.performance import compute_metrics


class PortfolioMetrics(StrictModel):
    """What the dashboard shows about the portfolio as a whole."""

    total_value: Optional[float] = Field(description="Latest value (None before the first cycle).")
    total_return: Optional[float] = Field(description="Time-weighted return since the first cycle.")
    annualized_volatility: Optional[float] = Field(description="From daily time-weighted returns.")
    sharpe_ratio: Optional[float] = Field(description="Annualised, risk-free 0.")
    sortino_ratio: Optional[float] = Field(description="Annualised, target 0.")
    max_drawdown: Optional[float] = Field(description="Deepest fall of the time-weighted index.")
    observations: int = Field(description="Daily returns the figures are based on.")
    days_since_rebalance: Optional[int] = Field(description="Calendar days since the last fill.")
    correlation: dict[str, dict[str, float]] = Field(description="Correlation of the units' returns over the lookback.")


def daily_twr_returns(history: list[ValuePoint]) -> pd.Series:
    """Daily time-weighted returns from value points (flows removed)."""
    if not history:
        return pd.Series(dtype=float)
    frame = pd.DataFrame([{"t": p.timestamp, "value": p.value, "flow": p.flow} for p in history])
    frame["day"] = pd.DatetimeIndex(frame["t"]).normalize()
    daily = frame.groupby("day").agg(value=("value", "last"), flow=("flow", "sum"))
    prev = daily["value"].shift(1)
    returns = (daily["value"] - daily["flow"]) / prev - 1.0
    return returns.iloc[1:][prev.iloc[1:] > 0]


def portfolio_metrics(history: list[ValuePoint], unit_returns: pd.DataFrame, *, lookback: int, now: datetime,
                      last_rebalance_at: Optional[datetime]) -> PortfolioMetrics:
    """All dashboard metrics; figures needing returns are None until there are two of them."""
    returns = daily_twr_returns(history)
    corr = unit_returns.iloc[-lookback:].dropna().corr()
    common = dict(
        total_value=history[-1].value if history else None,
        observations=len(returns),
        days_since_rebalance=None if last_rebalance_at is None else (now - last_rebalance_at).days,
        correlation={a: {b: float(corr.loc[a, b]) for b in corr.columns} for a in corr.index},
    )
    if len(returns) < 2:
        return PortfolioMetrics(total_return=None, annualized_volatility=None, sharpe_ratio=None,
                                sortino_ratio=None, max_drawdown=None, **common)
    m = compute_metrics(returns)  # dated: annualised on the portfolio's own calendar (252 or 365 days)
    return PortfolioMetrics(total_return=m.total_return, annualized_volatility=m.annualized_volatility,
                            sharpe_ratio=m.sharpe_ratio, sortino_ratio=m.sortino_ratio,
                            max_drawdown=m.max_drawdown, **common)
