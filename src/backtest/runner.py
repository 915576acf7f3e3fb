"""Backtests on the same pipeline as live trading.

``run_backtest`` walks a configuration over real trading days. Each decision day goes through
``plan_rebalance`` (trigger -> engine -> risk -> order builder) exactly as the agent does, with
the paper fill model of ``src.brokers.fills``; nothing is written unless asked.

What is vectorised, because it cannot change a decision: the daily value and weights between
decisions (holdings are constant there), the returns, and the metrics. Days on which the
engine's trigger provably cannot fire (``Trigger.candidate_days``: a calendar off its date, a
check-frequency gate inside its period) are not evaluated at all; every other day is a full
pipeline decision. The state a decision sees is the one the agent would have after a check on
every day (``last_check_at`` is the previous day).

Conventions (and where they differ from bt): orders fill at the decision day's close; the
first day invests the starting cash into the targets (units without enough history for the
engine or a limit are held at their configured targets, and the decision says so); value is
``cash + sum(quantity * price)`` at each close; fees and slippage are charged as the paper
broker does. With zero fees, zero slippage, fractional quantities, calendar monthly
(``rebalance_day=1``, ``force_rebalance``, ``min_trade_size=0``) and limits that cannot bind, the
daily value equals bt's ``RunMonthly``/``WeighSpecified``/``Rebalance`` (tests/backtest/test_bt_oracle.py).
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from src.backtest.metrics import backtest_metrics, ideal_values
from src.backtest.models import BacktestDecision, BacktestResult
from src.brokers.fills import apply_fill, simulate_fill
from src.engines.base import RebalancingEngine
from src.engines.factory import resolve_engine
from src.engines.triggers import first_day_of_periods
from src.errors import ConfigError, DataError
from src.models.base import Frequency, UnitKind
from src.models.decision_models import PlanStatus, RebalancePlan
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import ReasonCode, RiskAction
from src.models.trading_models import OrderStatus, PortfolioState
from src.pipeline import plan_rebalance

log = logging.getLogger(__name__)


def _as_day(value: date | datetime | str | None, field: str) -> Optional[pd.Timestamp]:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{field}={value!r} is not a date (use YYYY-MM-DD)") from exc
    if pd.isna(stamp):
        raise ConfigError(f"{field}={value!r} is not a date (use YYYY-MM-DD)")
    return stamp.normalize()


def unit_price_frame(config: PortfolioConfig, registry=None, market=None) -> tuple[pd.DataFrame, dict[str, UnitKind]]:
    """Prices of the configured units on their common days (sleeves at their NAV per unit), and their kinds."""
    from src.agents.strategy_registry_agent import StrategyRegistryAgent
    from src.market.data import HistoricalMarketData

    registry = registry or StrategyRegistryAgent()
    market = market or HistoricalMarketData(registry)
    frame = market.price_frame(config.units)
    kinds = {u: UnitKind.STRATEGY if registry.has_strategy(u) else UnitKind.ASSET for u in config.units}
    return frame, kinds


def run_backtest(config: PortfolioConfig, start_date: date | datetime | str | None = None,
                 end_date: date | datetime | str | None = None, *, initial_cash: float = 100_000.0,
                 slippage_bps: float = 5.0, engine: RebalancingEngine | str | None = None,
                 prices: Optional[pd.DataFrame] = None, unit_kinds: Optional[dict[str, UnitKind]] = None,
                 registry=None, events_dir: Optional[Path] = None) -> BacktestResult:
    """Run ``config`` over ``start_date`` .. ``end_date`` through the live pipeline.

    Parameters
    ----------
    config : PortfolioConfig
        The portfolio (its fee model is charged on every fill).
    start_date, end_date : date, datetime or ISO string, optional
        First and last day (default: the whole common history of the units).
    initial_cash : float
        Cash invested on the first day.
    slippage_bps : float
        Fills are this much worse than the close (buys above, sells below).
    engine : RebalancingEngine or str, optional
        A custom engine instance or registered name (default: the configured method's engine).
    prices : pandas.DataFrame, optional
        Prices per unit (columns) by day; default: the shipped data and the registry's sleeves.
    unit_kinds : dict, optional
        Strategy or asset per unit (default: from the registry; with ``prices`` given and no
        kinds, every unit is a plain asset).
    events_dir : pathlib.Path, optional
        If given, every decision that traded, was blocked or failed is written there as an event.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        A bad date, an empty range or bad cash/slippage (nothing is run).
    DataError
        Missing, non-positive or non-finite prices.
    """
    t0 = time.perf_counter()
    if not (isinstance(initial_cash, (int, float)) and np.isfinite(initial_cash) and initial_cash > 0):
        raise ConfigError(f"initial_cash={initial_cash!r} must be a number > 0")
    if not (isinstance(slippage_bps, (int, float)) and np.isfinite(slippage_bps) and 0 <= slippage_bps <= 500):
        raise ConfigError(f"slippage_bps={slippage_bps!r} must be a number in [0, 500]")
    if prices is None:
        prices, kinds = unit_price_frame(config, registry)
    else:
        missing = [u for u in config.units if u not in prices.columns]
        if missing:
            raise DataError(f"prices has no column for units {missing}")
        prices = prices[config.units]
        kinds = {u: UnitKind.ASSET for u in config.units}
    kinds = unit_kinds or kinds
    values = prices.to_numpy(dtype=float)
    if not (np.isfinite(values).all() and (values > 0).all()):
        bad = prices.columns[~(np.isfinite(values) & (values > 0)).all(axis=0)].tolist()
        raise DataError(f"prices of {bad} have missing, non-positive or non-finite values")
    start, end = _as_day(start_date, "start_date"), _as_day(end_date, "end_date")
    index = prices.index
    mask = np.ones(len(index), dtype=bool)
    if start is not None:
        mask &= index >= start
    if end is not None:
        mask &= index <= end
    if not mask.any():
        raise ConfigError(f"start_date={start_date} .. end_date={end_date} has no trading day of {config.units} "
                          f"(data {index[0].date()} .. {index[-1].date()})")
    first = int(np.flatnonzero(mask)[0])
    days = index[mask]
    returns = prices.pct_change().iloc[1:]  # validated above; returns row k is prices row k + 1
    engine_obj = resolve_engine(config, engine)
    loop = _Loop(config, engine_obj, kinds, values[mask], days, returns, first, initial_cash, slippage_bps)
    loop.run(events_dir)
    result = loop.result(prices.pct_change().iloc[first:][mask[first:]].fillna(0.0))
    return result.model_copy(update={"seconds": time.perf_counter() - t0})


class _Loop:
    """The day loop's working state (private)."""

    def __init__(self, config, engine, kinds, prices, days, returns, first, cash, slippage_bps) -> None:
        self.config, self.engine, self.kinds = config, engine, kinds
        self.units = list(config.units)
        self.prices, self.days, self.returns, self.first = prices, days, returns, first
        # Decisions get a DataFrame over a slice of one float array: no per-day copy or re-check.
        self.returns_values = returns.to_numpy(dtype=float)
        self.returns_index, self.returns_columns = returns.index, returns.columns
        self.moments = list(days.to_pydatetime())  # a DatetimeIndex element costs ~50 us each time
        self.initial_cash, self.cash, self.slippage_bps = cash, cash, slippage_bps
        self.holdings = np.zeros(len(self.units))
        history = engine.history_days
        self.rows = None if history is None else max(history, config.risk_lookback_days) + 1
        self.changes: list[tuple[int, float, np.ndarray]] = []  # (day, cash, holdings) after trades
        self.targets: list[tuple[int, dict[str, float]]] = [(0, dict(config.target_allocations))]
        self.decisions: list[BacktestDecision] = []
        self.memory: dict[str, float] = {}
        self.exclusions: dict = {}
        self.last_rebalance_at = self.last_trigger_at = None
        self.traded = self.fees = self.slippage = self.first_day_traded = 0.0
        self.recorded = 0  # events written by record(), for their journal sequence

    def candidates(self) -> np.ndarray:
        mask = self.engine.trigger.candidate_days(self.days)
        mask = np.ones(len(self.days), dtype=bool) if mask is None else np.asarray(mask, dtype=bool).copy()
        mask[0] = True  # the first day always decides (it invests the starting cash)
        # The pipeline's monthly readmission probe: on these days the trigger cannot fire, so the
        # day matters only while units are held out (checked in ``run``).
        self.probe_only = set(np.flatnonzero(first_day_of_periods(self.days, Frequency.MONTHLY) & ~mask).tolist())
        return np.flatnonzero(mask | first_day_of_periods(self.days, Frequency.MONTHLY))

    def run(self, events_dir: Optional[Path]) -> None:
        store = None
        if events_dir is not None:
            from src.events.store import EventStore

            store = EventStore(events_dir)
        for i in self.candidates():
            if i in self.probe_only and not self.exclusions:
                continue  # nothing held out: the probe has nothing to do and the trigger says no
            plan, state = self.decide(i)
            if store is not None and plan.status in (PlanStatus.ORDERS, PlanStatus.BLOCKED, PlanStatus.ENGINE_FAILED):
                self.record(store, plan, state)

    def state(self, i: int) -> PortfolioState:
        day = self.moments[i]
        previous = self.moments[i - 1] if i > 0 else None
        price = self.prices[i]
        return PortfolioState.model_construct(
            timestamp=day, cash=self.cash,
            holdings={u: float(q) for u, q in zip(self.units, self.holdings) if q > 0},
            prices={u: float(p) for u, p in zip(self.units, price)},
            last_rebalance_at=self.last_rebalance_at, last_check_at=previous, last_trigger_at=self.last_trigger_at,
            memory=self.memory, risk_exclusions=self.exclusions)

    def decide(self, i: int) -> tuple[RebalancePlan, PortfolioState]:
        state = self.state(i)
        end = self.first + i  # returns rows up to and including day i
        lo = 0 if self.rows is None else max(0, end - self.rows)
        window = pd.DataFrame(self.returns_values[lo:end], index=self.returns_index[lo:end],
                              columns=self.returns_columns, copy=False)
        plan = plan_rebalance(self.config, self.engine, state, window, cash_reserve_bps=self.slippage_bps,
                              unit_kinds=self.kinds, trusted_returns=True)
        self.memory, self.exclusions = plan.memory, plan.risk_exclusions
        if plan.trigger.fired:
            self.last_trigger_at = state.timestamp
        if plan.engine_result is not None and plan.status != PlanStatus.NO_TRIGGER:
            self.targets.append((i, self.engine.benchmark_targets(plan.engine_result)))
        if plan.status == PlanStatus.NO_TRIGGER:
            return plan, state
        filled = self.execute(i, plan) if plan.status == PlanStatus.ORDERS else []
        risk = plan.risk
        self.decisions.append(BacktestDecision.model_construct(
            day=self.moments[i].date(), status=plan.status, trigger=plan.trigger.trigger, message=plan.message,
            orders=filled, traded_notional=sum(o.filled_quantity * o.average_fill_price for o in filled),
            fees=sum(o.fee for o in filled),
            engine_targets=dict(plan.engine_result.weights) if plan.engine_result else {},
            final_targets=dict(risk.weights) if risk else {},
            verdicts=[v for v in risk.verdicts if v.action != RiskAction.PASS or v.reason_code != ReasonCode.OK]
            if risk else [],
            exclusions=list(plan.engine_result.exclusions) if plan.engine_result else [],
            warnings=list(risk.warnings) if risk else []))
        return plan, state

    def execute(self, i: int, plan: RebalancePlan) -> list:
        position = {u: k for k, u in enumerate(self.units)}
        filled = []
        for order in plan.orders:
            k = position[order.unit]
            fill = simulate_fill(order.side, order.quantity, self.prices[i, k], slippage_bps=self.slippage_bps,
                                 fee_model=self.config.fee_model, cash=self.cash, held=self.holdings[k])
            self.cash, self.holdings[k] = apply_fill(order.side, fill, self.cash, self.holdings[k])
            if fill.status == OrderStatus.FILLED:
                notional = fill.quantity * fill.price
                self.fees += fill.fee
                self.slippage += abs(fill.price - self.prices[i, k]) * fill.quantity
                if i == 0:
                    self.first_day_traded += notional
                else:
                    self.traded += notional
            filled.append(order.model_copy(update={
                "status": fill.status, "filled_quantity": fill.quantity, "average_fill_price": fill.price,
                "fee": fill.fee, "status_reason": fill.reason}))
        if any(o.status == OrderStatus.FILLED for o in filled):
            self.last_rebalance_at = self.moments[i]
        self.changes.append((i, self.cash, self.holdings.copy()))
        return filled

    def record(self, store, plan: RebalancePlan, state: PortfolioState) -> None:
        from src.events.record import event_from_plan, event_without_orders

        if plan.status == PlanStatus.ORDERS:
            decision = self.decisions[-1]
            value = self.cash + float(self.holdings @ self.prices[self.days.get_loc(pd.Timestamp(state.timestamp))])
            event = event_from_plan(plan, self.config, cause="backtest", sequence=self.recorded + 1,
                                    execution="complete", orders=decision.orders, value_after=value,
                                    cash_after=self.cash)
        else:
            event = event_without_orders(plan, self.config, cause="backtest", sequence=self.recorded + 1,
                                         value=state.total_value(), cash=state.cash)
        store.save(event)
        self.recorded += 1

    def result(self, unit_returns: pd.DataFrame) -> BacktestResult:
        n_days = len(self.days)
        cash = np.full(n_days, self.initial_cash)
        held = np.zeros((n_days, len(self.units)))
        for i, c, h in self.changes:
            cash[i:] = c
            held[i:] = h
        worth = held * self.prices
        nav = cash + worth.sum(axis=1)
        weights = pd.DataFrame(worth / nav[:, None], index=self.days, columns=self.units)
        weights["cash"] = cash / nav
        nav_series = pd.Series(nav, index=self.days, name="nav")
        ideal = ideal_values(self.targets, unit_returns[self.units].to_numpy(), self.units, self.initial_cash, self.days)
        metrics = backtest_metrics(nav_series, ideal, weights, initial=self.initial_cash, traded=self.traded,
                                   fees=self.fees, slippage=self.slippage, decisions=self.decisions)
        return BacktestResult(config_name=self.config.name, nav=nav_series, weights=weights, ideal_nav=ideal,
                              unit_returns=unit_returns, decisions=self.decisions, metrics=metrics)
