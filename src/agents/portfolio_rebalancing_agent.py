"""The portfolio rebalancing agent: orchestrates the pipeline, executes, records.

Each cycle: positions (broker) -> prices and returns (market data, at the injected clock's
time) -> the pure decision core (trigger, engine, risk limits, orders) -> execution through
``PortfolioIntegration`` -> one JSON event. The stages live elsewhere; this file wires them.

Crash safety: an event with orders is written as ``pending`` *before* any order is sent and
rewritten as ``complete`` after. On start-up every pending event is completed by re-sending its
orders; brokers answer already-handled client order ids from their records, so no order is
executed twice and no event is lost.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Optional

from src.agents import harvesting
from src.agents.agent_state import AgentStateStore
from src.backtest.attribution import Attribution, attribution_from_history
from src.backtest.models import BacktestResult
from src.errors import ConfigError, RebalancerError, UnknownUnitError
from src.agents.portfolio_integration import PortfolioIntegration
from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.brokers.base import Broker
from src.brokers.markets import paper_venue_rules
from src.brokers.paper import PaperBroker
from src.engines.factory import resolve_engine
from src.engines.base import RebalancingEngine
from src.agents.alerts import last_decision, record_drift_alert
from src.agents.journal import check_account, check_sequence
from src.agents.positions import positions_of
from src.agents.recovery import reconcile, recover
from src.events.record import (
    FILLED,
    CycleBookkeeping,
    event_from_plan,
    event_without_orders,
    fold_repeat,
    harvest_event,
)
from src.events.store import EventStore
from src.market.clock import Clock, FixedClock
from src.market.data import HistoricalMarketData, MarketData, latest_trading_day
from src.models.decision_models import PlanStatus, RebalancePlan, RebalancingEvent
from src.models.execution_models import (
    AgentEvent,
    CashFlow,
    CashFlowEvent,
    RegistryUpdated,
    RuntimeSettings,
    ValuePoint,
)
from src.models.portfolio_models import PortfolioConfig, PortfolioState, StrategyPosition, UnitKind
from src.pipeline import make_plan_id, plan_rebalance
from src.tax.overlay import make_tax_overlay
from src.utils.account_lock import AccountLock
from src.utils.atomic_io import remove_stale_temp_files
from src.utils.paths import PORTFOLIO_DIR, slug
from src.utils.portfolio_metrics import PortfolioMetrics, portfolio_metrics

log = logging.getLogger(__name__)


class PortfolioRebalancingAgent:
    """Keeps one portfolio on target, in paper mode by default.

    Parameters
    ----------
    config : PortfolioConfig
        The portfolio (validated once, here).
    settings : RuntimeSettings, optional
        Paper cash, slippage, loop interval.
    registry, market_data, clock, broker, event_store : optional
        Injected collaborators. Defaults: the shipped registry and real prices, a clock fixed
        at the latest trading day of the portfolio's units, a ``PaperBroker`` whose account is
        kept in ``data_dir``, and an ``EventStore`` on ``data_dir``.
    data_dir : pathlib.Path, optional
        Folder of events, agent state, paper account and charts (``src/data/portfolio``).
    engine : RebalancingEngine or str, optional
        A custom engine instance (e.g. the guide's ``CustomRebalancer(config)``) or the name of
        one registered with ``register_engine``; by default the configured method's engine.

    The agent holds its data directory for its lifetime (``src/utils/account_lock.py``: one
    process per account); ``close()``, or leaving ``with PortfolioRebalancingAgent(...) as
    agent:``, releases it. Agents of one process may share a directory.

    Raises
    ------
    UnknownUnitError
        If a unit has neither registry returns nor prices (nothing is written).
    AccountLockedError
        If another process holds ``data_dir`` (nothing is read or written).
    """

    def __init__(self, config: PortfolioConfig, *, settings: Optional[RuntimeSettings] = None,
                 registry: Optional[StrategyRegistryAgent] = None, market_data: Optional[MarketData] = None,
                 clock: Optional[Clock] = None, broker: Optional[Broker] = None,
                 event_store: Optional[EventStore] = None, data_dir: Optional[Path] = None,
                 engine: RebalancingEngine | str | None = None) -> None:
        self.config = config
        self.settings = settings or RuntimeSettings()
        self.registry = registry or StrategyRegistryAgent()
        self.market = market_data or HistoricalMarketData(self.registry)
        try:
            days = self.market.trading_days(config.units)  # every unit must be known before anything runs
        except UnknownUnitError as exc:
            raise UnknownUnitError(f"target_allocations: {exc}") from exc
        try:  # a typo in exclude_assets would silently exclude nothing
            for unit in config.exclude_assets:
                self.market.trading_days([unit])
        except UnknownUnitError as exc:
            raise UnknownUnitError(f"exclude_assets: {exc}") from exc
        self.clock = clock or FixedClock(latest_trading_day(self.market, config.units, days))
        self._check_substitutes()
        self.data_dir = Path(data_dir) if data_dir is not None else PORTFOLIO_DIR
        # One process per data directory: taken before anything in it is cleaned up or read.
        self._lock = AccountLock(self.data_dir).acquire()
        try:
            for path in remove_stale_temp_files(self.data_dir):
                log.warning("removed %s, a temporary file left by an interrupted write", path.name)
            self.broker = broker or PaperBroker(
                state_path=self.data_dir / f"paper_{slug(config.name)}.json", market_data=self.market,
                clock=self.clock, fee_model=config.fee_model, slippage_bps=self.settings.slippage_bps,
                initial_cash=self.settings.initial_cash, venue=paper_venue_rules(
                    config, self.settings, [u for u in config.units if not self.registry.has_strategy(u)]))
            self.integration = PortfolioIntegration(self.broker)
            self.events = event_store or EventStore(self.data_dir)
            self.state_store = AgentStateStore(self.data_dir / f"state_{slug(config.name)}.json", config.name)
            self.state = self.state_store.load()
            self.engine = resolve_engine(config, engine)
            self.unit_kinds = {u: UnitKind.STRATEGY if self.registry.has_strategy(u) else UnitKind.ASSET
                               for u in config.units}
            self.tax = make_tax_overlay(config, self.settings, self.data_dir)
            self.rebalancing_history: list[RebalancingEvent] = self.events.load(config.name)
            check_sequence(self.rebalancing_history, self.events.paths(), self.data_dir)
            if broker is None and isinstance(self.broker, PaperBroker):  # our own account: it must match the journal
                check_account(self.rebalancing_history, self.broker.state_path, self.broker.state_path.exists(),
                              self.broker.state.reports, self.data_dir)
            if self.state.flows_accounted is None:  # a state from before flows were counted: all are in history
                self.state.flows_accounted = len(self.broker.cash_flows())
            recover(self)
            reconcile(self)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the data directory (see ``src/utils/account_lock.py``); the agent should not
        be used afterwards. Idempotent."""
        self._lock.release()

    def __enter__(self) -> "PortfolioRebalancingAgent":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_substitutes(self) -> None:
        """Every tax substitute must be a unit with prices, checked before anything is written."""
        tax = self.settings.tax
        for original, substitute in (tax.substitutes.items() if tax else []):
            try:
                self.market.prices_at(self.clock.now(), [substitute])
            except RebalancerError as exc:
                raise ConfigError(f"runtime.tax.substitutes[{original!r}]={substitute!r}: {exc}") from exc

    # --- the public verbs ---------------------------------------------------------------

    def check_and_rebalance(self) -> Optional[RebalancingEvent]:
        """Run the pipeline once; the event, or None if nothing fired and nothing was blocked."""
        return self._cycle("check")

    def handle(self, event: AgentEvent) -> Optional[RebalancingEvent]:
        """Drive one cycle from a market tick, fill, cash flow, registry update or schedule tick."""
        if isinstance(event, CashFlowEvent):
            # Recorded by the broker (once per flow_id), and counted into the value history from
            # its records, so a restart between the flow and the end of the cycle loses nothing.
            # A deposit is in the account before the cycle buys with it; a withdrawal leaves after
            # the cycle has sold what it needs (src/orders/flows.py).
            flow = CashFlow(timestamp=self.clock.now(), amount=event.amount, flow_id=event.flow_id)
            if flow.amount > 0:
                self._apply_flow(flow)
            return self._cycle(event.kind, flow=flow)
        elif isinstance(event, RegistryUpdated):
            self.registry = StrategyRegistryAgent(self.registry.path)
            if isinstance(self.market, HistoricalMarketData):
                self.market.reload(self.registry)
        return self._cycle(event.kind)

    def preview(self) -> RebalancePlan:
        """Plan as ``check_and_rebalance`` would, without sending orders or writing anything."""
        return self._plan(self._portfolio_state())

    def preview_tax(self) -> Optional[dict]:
        """Dry run with taxes: the plan's orders after wash-sale checks and its tax impact
        (plan alone and year to date); None without tax tracking. Writes nothing."""
        if not self.tax:
            return None
        state = self._portfolio_state()
        return self.tax.preview_plan(self._plan(state).orders, state)

    def preview_harvest(self) -> Optional[dict]:
        """Tax-loss harvesting candidates now (losing lots, substitutes, estimated benefit) and the
        orders ``harvest_now`` would send, with its plan id; None without tax tracking. Writes nothing."""
        return harvesting.preview_harvest(self)

    def harvest_now(self) -> Optional[RebalancingEvent]:
        """Harvest tax losses now, as a journaled cycle of its own (``src/agents/harvesting.py``);
        None if there is nothing to harvest. Raises ``ConfigError`` when tax tracking is off."""
        return harvesting.harvest_now(self)

    def positions(self) -> list[StrategyPosition]:
        """Every configured or held unit: quantity, value, weight, target and drift (an
        ``exclude_assets`` unit has no drift; the others' weights are of the value less it)."""
        return positions_of(self._portfolio_state(), self.config, self.registry.has_strategy)

    def metrics(self) -> PortfolioMetrics:
        """Value, return, risk and correlation figures from the portfolio's own history."""
        now = self.clock.now()
        return portfolio_metrics(self.state.history, self.market.returns_until(now, self.config.units),
                                 lookback=self.config.risk_lookback_days, now=now,
                                 last_rebalance_at=self.state.last_rebalance_at)

    def backtest_portfolio(self, start_date: date | datetime | str | None = None,
                           end_date: date | datetime | str | None = None) -> BacktestResult:
        """Backtest this agent's configuration and engine on the shipped real data.

        The same trigger, engine, risk stage and order builder as live trading, with the paper
        fill model (the configured fees and the runtime's slippage) and the runtime's initial
        cash; writes nothing. Dates are ISO strings, dates or datetimes (default: all history).
        """
        from src.backtest.runner import run_backtest

        return run_backtest(self.config, start_date, end_date, initial_cash=self.settings.initial_cash,
                            slippage_bps=self.settings.slippage_bps, engine=self.engine,
                            prices=self._price_frame(), unit_kinds=self.unit_kinds)

    def _price_frame(self):
        if isinstance(self.market, HistoricalMarketData):
            return self.market.price_frame(self.config.units)
        raise ConfigError(f"backtest_portfolio needs historical prices; market_data is {type(self.market).__name__}")

    def calculate_performance_attribution(self) -> Attribution:
        """Each unit's contribution to the portfolio's time-weighted return over the agent's history.

        Daily weight x return per unit, linked over days with Carino's coefficients so that the
        lines (plus ``trading_and_fees``: fees, slippage, trades within the day) sum to the total.
        """
        history = self.state.history
        held = sorted({u for p in history for u, w in p.weights.items() if w > 0} | set(self.config.units))
        returns = self.market.returns_until(self.clock.now(), held)
        return attribution_from_history(history, returns)

    def display_portfolio_dashboard(self) -> Path:
        """Print the dashboard (termcolor) and save its PNG; returns the PNG's path."""
        from src.dashboard.charts import save_dashboard_png
        from src.dashboard.text import print_dashboard

        print_dashboard(self)
        return save_dashboard_png(self, self.data_dir / f"dashboard_{slug(self.config.name)}.png")

    # --- the cycle ----------------------------------------------------------------------

    def _portfolio_state(self, extra_units: tuple[str, ...] = ()) -> PortfolioState:
        now = self.clock.now()
        account = self.broker.get_account()
        units = list(dict.fromkeys([*self.config.units, *account.positions, *extra_units]))
        return PortfolioState(timestamp=now, cash=account.cash, holdings=account.positions,
                              prices=self.market.prices_at(now, units),
                              last_rebalance_at=self.state.last_rebalance_at, last_check_at=self.state.last_check_at,
                              last_trigger_at=self.state.last_trigger_at, memory=self.state.memory,
                              risk_exclusions=self.state.risk_exclusions)

    def _plan(self, state: PortfolioState, flow: float = 0.0) -> RebalancePlan:
        returns = self.market.returns_until(state.timestamp, self.config.units)
        view = self.tax.view(state) if self.tax else state  # harvest substitutes count as their originals
        return plan_rebalance(self.config, self.engine, view, returns,
                              cash_reserve_bps=self.broker.slippage_reserve_bps, unit_kinds=self.unit_kinds,
                              venue=self.broker.venue_rules(), flow=flow)

    def _apply_flow(self, flow: CashFlow) -> None:
        if flow.amount > 0:
            self.broker.deposit(flow.amount, flow_id=flow.flow_id)
        else:
            self.broker.withdraw(-flow.amount, flow_id=flow.flow_id)

    def _cycle(self, cause: str, flow: Optional[CashFlow] = None) -> Optional[RebalancingEvent]:
        state = self._portfolio_state()
        if cause == "cash_flow":
            # Money moved in or out is checked at once, not at the next check_frequency period.
            state = state.model_copy(update={"last_check_at": None})
        flow_only = flow is not None and (self.settings.cash_flow_trades == "flow_only" or flow.amount < 0)
        plan = self._plan(state, flow=flow.amount if flow_only else 0.0)
        event = None
        if plan.status == PlanStatus.ORDERS:
            orders, tax = plan.orders, None
            if self.tax:
                orders, decisions = self.tax.route(orders, state)
                tax = self.tax.report(state.timestamp.date(), {
                    "wash_sale_checks": [d.model_dump(mode="json") for d in decisions],
                    "plan_impact": self.tax.plan_impact(orders, state)})
            pending = event_from_plan(plan, self.config, cause=cause, sequence=self._next_sequence(),
                                      execution="pending", orders=orders)
            pending = pending.model_copy(update={"tax": tax, "cash_flow": flow})
            if self.tax:  # the lots and swaps planned for these orders must survive a crash too
                self.tax.save()
            self.events.save(pending)  # journal first: a crash from here on is recovered
            event = self._complete(pending)
        elif plan.status in (PlanStatus.BLOCKED, PlanStatus.ENGINE_FAILED):
            event = event_without_orders(plan, self.config, cause=cause, sequence=self._next_sequence(),
                                         value=state.total_value(), cash=state.cash).model_copy(
                                             update={"cash_flow": flow})
            at = last_decision(self.rebalancing_history)  # an alert in between does not break a run
            folded = fold_repeat(self.rebalancing_history[at], event) if at is not None else None
            if folded is not None:  # the same verdict again: count it on the first event, no new file
                event = folded
                self.rebalancing_history[at] = folded
            else:
                self.rebalancing_history.append(event)
            self.events.save(event)
        if flow is not None and flow.amount < 0:
            self._apply_flow(flow)  # the sales have raised the cash
        log.info("%s %s: %s", self.config.name, state.timestamp.date(), plan.message)
        cycle = CycleBookkeeping(plan.trigger.fired, dict(plan.memory), dict(plan.risk_exclusions), flow)
        return self._close_cycle(state.timestamp, cause, cycle, harvest=True) or event

    def _close_cycle(self, moment: datetime, cause: str, cycle: CycleBookkeeping, *,
                     harvest: bool) -> Optional[RebalancingEvent]:
        """The end of every cycle, run or recovered: trigger and memory bookkeeping, the harvest
        step (unless the cycle's harvest is already journaled), the value point and the state."""
        if cycle.trigger_fired:
            self.state.last_trigger_at = moment
        self.state.memory = dict(cycle.memory)
        self.state.risk_exclusions = dict(cycle.risk_exclusions)
        harvested = None
        if harvest and self.tax and self.settings.tax_loss_harvest:
            harvested = self._harvest(cause, cycle)
        record_drift_alert(self, moment, cause, cycle)  # the drift the cycle leaves: journaled before the state
        self._finish_cycle(moment)
        return harvested

    def _next_sequence(self) -> int:
        return len(self.rebalancing_history) + 1

    def _complete(self, pending: RebalancingEvent, tax_extra: Optional[dict] = None, *,
                  resume: bool = False) -> RebalancingEvent:
        """Execute a pending event's orders (``resume``: after a restart, through the broker's
        ``resolve_order``) and write it complete."""
        orders = self.integration.execute_portfolio_orders(pending.orders, resume=resume)
        tax = pending.tax
        if self.tax:
            self.tax.record(orders, pending.timestamp.date())
            keep = {k: v for k, v in (pending.tax or {}).items()
                    if k in ("wash_sale_checks", "harvest_candidates", "plan_impact")}
            tax = self.tax.report(pending.timestamp.date(), {**keep, **(tax_extra or {})})
        after = self._portfolio_state()
        done = pending.model_copy(update={
            "orders": orders, "execution": "complete", "value_after": after.total_value(), "cash_after": after.cash,
            "fees": sum(o.fee for o in orders if o.status in FILLED), "tax": tax,
        })
        self.events.save(done)
        if any(o.status in FILLED for o in orders):
            self.state.last_rebalance_at = pending.timestamp
        self.rebalancing_history = [e if e.event_id != done.event_id else done for e in self.rebalancing_history]
        if done not in self.rebalancing_history:
            self.rebalancing_history.append(done)
        return done

    def _harvest(self, cause: str, cycle: CycleBookkeeping) -> Optional[RebalancingEvent]:
        state = self._portfolio_state(extra_units=tuple(self.tax.settings.substitutes.values()))
        plan_id = make_plan_id(f"{self.config.name}|harvest", state)
        reserve = self.broker.slippage_reserve_bps
        orders = self.tax.swap_back_orders(state, self.config.fee_model, plan_id, reserve)
        harvests, report = self.tax.harvest_orders(state, self.config.fee_model, plan_id, reserve)
        if not orders + harvests:
            return None
        pending = harvest_event(event_id=plan_id, timestamp=state.timestamp, config=self.config,
                                orders=orders + harvests, value=state.total_value(), cash=state.cash,
                                weights=state.weights(list(state.prices)), cause=cause,
                                tax=self.tax.report(state.timestamp.date(), report),
                                sequence=self._next_sequence(), cycle=cycle)
        self.tax.save()  # the swaps planned for these orders: without them a recovery would lose the swap
        self.events.save(pending)
        return self._complete(pending, tax_extra=report)

    def _finish_cycle(self, moment: datetime) -> None:
        after = self._portfolio_state()
        flows = self.broker.cash_flows()
        flow = sum(f.amount for f in flows[self.state.flows_accounted:])
        self.state.history.append(ValuePoint(timestamp=moment, value=after.total_value(), cash=after.cash, flow=flow,
                                             weights=after.weights(list(after.prices))))
        self.state.flows_accounted = len(flows)
        self.state.last_check_at = moment
        self.state.journal_sequence = len(self.rebalancing_history)
        self.broker.checkpoint()
        self.state_store.save(self.state)
