"""What a backtest returns: daily value and weights, every decision, and the figures."""

from __future__ import annotations

from datetime import date
from typing import Optional

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from src.models.base import StrictModel
from src.models.decision_models import Exclusion, PlanStatus
from src.models.risk_models import RiskVerdict
from src.models.trading_models import Order


class BacktestMetrics(StrictModel):
    """Figures of one backtest (fractions; annualised with the data's own days per year)."""

    start: date = Field(description="First day (the day the starting cash is invested).")
    end: date = Field(description="Last day.")
    days: int = Field(description="Trading days.")
    periods_per_year: float = Field(description="Days per year of the calendar (about 252 for stocks, 365 for crypto).")
    initial_value: float = Field(description="Starting cash.")
    final_value: float = Field(description="Account value on the last day.")
    total_return: float = Field(description="final_value / initial_value - 1 (costs of the first investment included).")
    annualized_return: float = Field(description="Geometric annualised return.")
    annualized_volatility: float = Field(description="Standard deviation of daily returns, annualised.")
    sharpe_ratio: float = Field(description="Mean daily return / its standard deviation, annualised (risk-free 0).")
    sortino_ratio: float = Field(description="Mean daily return / downside deviation, annualised.")
    max_drawdown: float = Field(description="Largest fall from a running peak of value (positive fraction).")
    fees: float = Field(description="Fees paid, in account currency (slippage is in the fill prices).")
    slippage_cost: float = Field(description="Cost of fills away from the market price, in account currency.")
    turnover: float = Field(
        description="Annualised one-sided turnover: sum of |traded notional| / 2 / average value / years, "
        "excluding the first day's investment of the starting cash.")
    tracking_error: float = Field(
        description="Annualised standard deviation of the daily return minus that of the engine's targets "
        "rebalanced daily at no cost.")
    average_cash: float = Field(description="Average daily cash weight.")
    rebalances: int = Field(description="Decisions that filled at least one order (the first investment included).")
    blocked: int = Field(description="Decisions blocked by a risk limit.")
    engine_failures: int = Field(description="Decisions where the engine could not decide.")
    warnings: int = Field(description="Decisions that traded with a portfolio-level limit warning.")
    ideal_annualized_return: float = Field(description="Annualised return of the frictionless daily-rebalanced targets.")


class BacktestDecision(StrictModel):
    """One decision of a backtest whose trigger fired, or that was blocked or failed."""

    day: date = Field(description="Decision day (orders fill at its close).")
    status: PlanStatus = Field(description="orders, no_trades, blocked or engine_failed.")
    trigger: str = Field(description="Which trigger decided.")
    message: str = Field(description="One-line outcome.")
    orders: list[Order] = Field(default_factory=list, description="Orders with their fills.")
    traded_notional: float = Field(0.0, description="Sum of |filled notional|.")
    fees: float = Field(0.0, description="Fees charged.")
    engine_targets: dict[str, float] = Field(default_factory=dict, description="The engine's targets.")
    final_targets: dict[str, float] = Field(default_factory=dict, description="Targets after the risk stage.")
    verdicts: list[RiskVerdict] = Field(
        default_factory=list, description="Verdicts that did not pass cleanly (an action, or a reason such as "
        "INSUFFICIENT_HISTORY).")
    exclusions: list[Exclusion] = Field(
        default_factory=list, description="Units the engine left out or held at their configured target, and why.")
    warnings: list[str] = Field(default_factory=list, description="Portfolio-level limits that warned.")


class BacktestResult(BaseModel):
    """A backtest: daily ``nav`` and ``weights`` (units plus ``cash``), decisions and metrics."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", frozen=True)

    config_name: str = Field(description="PortfolioConfig.name.")
    nav: pd.Series = Field(description="Account value at each day's close, after that day's trades.")
    weights: pd.DataFrame = Field(description="Weight of each unit and of cash at each day's close, after trades.")
    ideal_nav: pd.Series = Field(description="Value of the engine's targets rebalanced daily at no cost.")
    unit_returns: pd.DataFrame = Field(description="Daily returns of the units over the backtest.")
    decisions: list[BacktestDecision] = Field(description="Every decision whose trigger fired, was blocked or failed.")
    metrics: BacktestMetrics = Field(description="The figures.")
    seconds: Optional[float] = Field(None, description="Wall time of the run (for benchmarks only).")

    def attribution(self):
        """Each unit's contribution to the backtest's return (see ``src.backtest.attribution``)."""
        from src.backtest.attribution import performance_attribution

        start_weights = self.weights.shift(1).iloc[1:]
        returns = self.nav.pct_change().iloc[1:]
        units = [c for c in start_weights.columns if c != "cash"]
        return performance_attribution(start_weights, self.unit_returns.loc[returns.index, units], returns)
