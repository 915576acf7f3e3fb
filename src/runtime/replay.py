"""Replaying real history: a replay clock steps the agent through trading days.

A replay is resumable: the agent's state remembers the last completed day, so a run that was
killed continues with the next day (after completing any event left pending), never repeating
an order.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Callable, Optional

import pandas as pd
from pydantic import Field

from src.agents.agent_state import AgentStateStore
from src.agents.journal import check_sequence, unfinished_cycle
from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.errors import ConfigError
from src.events.record import FILLED
from src.events.store import EventStore
from src.market.clock import ReplayClock
from src.market.data import HistoricalMarketData
from src.models.base import StrictModel
from src.models.decision_models import PlanStatus, RebalancingEvent
from src.models.execution_models import CashFlowEvent, RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.utils.account_lock import AccountLock
from src.utils.paths import slug
from src.utils.portfolio_metrics import daily_twr_returns
from src.utils.performance import annualization_days, max_drawdown

log = logging.getLogger(__name__)


class ReplaySummary(StrictModel):
    """What a replay did."""

    portfolio_name: str = Field(description="Portfolio replayed.")
    start: date = Field(description="First day.")
    end: date = Field(description="Last day.")
    days: int = Field(description="Trading days in the replay.")
    start_value: float = Field(description="Value at the start.")
    end_value: float = Field(description="Value at the end.")
    total_return: float = Field(description="Time-weighted return.")
    max_drawdown: float = Field(description="Deepest fall of the time-weighted index.")
    rebalances: int = Field(description="Events with at least one fill.")
    blocked: int = Field(description="Events blocked by a risk limit.")
    engine_failures: int = Field(description="Events where the engine could not decide.")
    fees: float = Field(description="Fees paid.")
    turnover: float = Field(description="Annualised one-sided turnover after the first day's investment: "
                                        "sum |filled notional| / 2 / average value / years.")
    average_cash: float = Field(description="Average cash weight over the replay's days.")


def replay_days(market: HistoricalMarketData, config: PortfolioConfig, start: date, end: Optional[date]) -> pd.DatetimeIndex:
    """Trading days of the portfolio's units between ``start`` and ``end`` (inclusive)."""
    days = market.trading_days(config.units)
    chosen = days[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end or days[-1]))]
    if len(chosen) == 0:
        raise ConfigError(f"replay_start={start} .. replay_end={end} has no trading day of {config.units} "
                          f"(data {days[0].date()} .. {days[-1].date()})")
    return chosen


def run_replay(config: PortfolioConfig, settings: RuntimeSettings, *, data_dir: Path,
               on_rebalance: Optional[Callable[[PortfolioRebalancingAgent, RebalancingEvent], None]] = None,
               registry: Optional[StrategyRegistryAgent] = None) -> tuple[PortfolioRebalancingAgent, ReplaySummary]:
    """Run (or resume) the replay of ``config`` from ``settings.replay_start`` to ``replay_end``.

    Raises ``AccountLockedError`` if another process holds ``data_dir`` (nothing is read or written).
    """
    registry = registry or StrategyRegistryAgent()
    market = HistoricalMarketData(registry)
    clock = ReplayClock(replay_days(market, config, settings.replay_start, settings.replay_end))
    flows = scheduled_flows(settings, clock.days)  # checked before anything is read or written
    # One process per data directory: held from before the state and events are read until the
    # agent, which holds it for its own lifetime (the rest of the replay), has taken it too.
    with AccountLock(data_dir):
        events = EventStore(data_dir)
        store = AgentStateStore(data_dir / f"state_{slug(config.name)}.json", config.name)
        journal = events.load(config.name)
        check_sequence(journal, events.paths(), data_dir)
        unfinished = [e.timestamp for e in unfinished_cycle(journal, store.load(), store.path, data_dir)]
        if unfinished:  # an interrupted run: recover at that event's own day, at that day's prices
            clock.seek_after(min(unfinished) - pd.Timedelta(microseconds=1))
        agent = PortfolioRebalancingAgent(config, settings=settings, registry=registry, market_data=market,
                                          clock=clock, event_store=events, data_dir=data_dir)
    resume_from = agent.state.last_check_at
    more = True
    if resume_from is not None:
        more = clock.seek_after(resume_from)
        if not more:  # finished already: leave the clock on the last day, so the dashboard shows the end
            clock.seek_after(resume_from - pd.Timedelta(microseconds=1))
        log.info("resuming replay after %s", resume_from.date())
    while more:
        flow = flows.get(pd.Timestamp(clock.now()))
        event = agent.handle(flow) if flow is not None else agent.check_and_rebalance()
        if event is not None and on_rebalance is not None and any(o.status in FILLED for o in event.orders):
            on_rebalance(agent, event)
        more = clock.advance()
    return agent, summarise(agent, clock)


def scheduled_flows(settings: RuntimeSettings, days: pd.DatetimeIndex) -> dict[pd.Timestamp, CashFlowEvent]:
    """``settings.cash_flows`` by the trading day they apply on (the next one if the market is
    closed on their date), netted per day, each with a deterministic id so that a restart does
    not apply one twice.

    Raises
    ------
    ConfigError
        If a flow falls outside the replay's days.
    """
    by_day: dict[pd.Timestamp, float] = {}
    for i, flow in enumerate(settings.cash_flows):
        at = days.searchsorted(pd.Timestamp(flow.date))
        if at == len(days) or (at == 0 and pd.Timestamp(flow.date) < days[0]):
            raise ConfigError(f"runtime.cash_flows[{i}].date={flow.date} is outside the replay's trading days "
                              f"{days[0].date()} .. {days[-1].date()}")
        by_day[days[at]] = by_day.get(days[at], 0.0) + flow.amount
    return {day: CashFlowEvent(amount=amount, flow_id=f"scheduled-{day:%Y-%m-%d}")
            for day, amount in by_day.items() if amount != 0.0}


def summarise(agent: PortfolioRebalancingAgent, clock: ReplayClock) -> ReplaySummary:
    """Figures of the whole replay from the agent's history and events."""
    history = agent.state.history
    twr = daily_twr_returns(history)
    events = agent.rebalancing_history
    return ReplaySummary(
        portfolio_name=agent.config.name,
        start=clock.days[0].date(),
        end=clock.days[-1].date(),
        days=len(clock.days),
        start_value=history[0].value if history else agent.settings.initial_cash,
        end_value=history[-1].value if history else agent.settings.initial_cash,
        total_return=float((1.0 + twr).prod() - 1.0) if len(twr) else 0.0,
        max_drawdown=max_drawdown(twr.to_numpy()) if len(twr) else 0.0,
        rebalances=sum(1 for e in events if any(o.status in FILLED for o in e.orders)),
        blocked=sum(1 for e in events if e.status == PlanStatus.BLOCKED),
        engine_failures=sum(1 for e in events if e.status == PlanStatus.ENGINE_FAILED),
        fees=sum(e.fees for e in events),
        turnover=_turnover(history, events),
        average_cash=float(sum(p.cash / p.value for p in history if p.value > 0) / len(history)) if history else 0.0,
    )


def _turnover(history, events) -> float:
    """Same definition as the backtests (src/backtest/metrics.py); years on the history's own
    calendar (252 days a year for stocks, 365 for crypto)."""
    if len(history) < 2:
        return 0.0
    first_day = history[0].timestamp.date()
    traded = sum(o.filled_quantity * (o.average_fill_price or 0.0) for e in events if e.timestamp.date() > first_day
                 for o in e.orders if o.status in FILLED)
    days = pd.DatetimeIndex([p.timestamp for p in history]).normalize().unique()
    years = len(history) / float(annualization_days(days))
    return traded / 2.0 / (sum(p.value for p in history) / len(history)) / years
