"""The pure decision core: event in, plan out (trigger -> engine -> risk limits -> orders).

``plan_rebalance`` has no I/O and reads no clock: the event's timestamp, the account and the
returns are all passed in, so live trading, replays and backtests run exactly this code.

Order of work: the trigger is asked first, with the engine's targets computed only if it
looks at them (a calendar day off schedule costs nothing); it measures drift against the
targets that survive the units the risk stage holds out (so a dropped unit does not keep the
band armed); only a fired trigger runs the risk stage and the order builder.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from collections.abc import Mapping
from typing import Iterator, Optional

import pandas as pd

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import current_weights
from src.errors import RebalancerError
from src.models.base import UnitKind
from src.models.decision_models import EngineResult, PlanStatus, RebalancePlan, TriggerDecision
from src.models.params import CalendarParams
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import RiskStatus
from src.models.trading_models import OrderPlan, OrderSide, PortfolioState, SkippedTrade
from src.models.venue_models import VenueRules
from src.orders.builder import build_orders
from src.orders.flows import flow_targets
from src.orders.partial import partial_targets
from src.orders.venue import apply_venue_rules
from src.risk.limits import apply_risk_limits, surviving_targets

log = logging.getLogger(__name__)

READMIT_KEY = "risk.readmission_probe"


def _probe_due(memory: dict[str, float], state: PortfolioState) -> bool:
    """At most one readmission probe per calendar month, on its first check (any risk-stage run
    counts as that month's probe, so backtests need to look only at each month's first day)."""
    last = memory.get(READMIT_KEY)
    if last is None:
        return True
    then = date.fromordinal(int(last))
    today = state.timestamp.date()
    return (then.year, then.month) != (today.year, today.month)


def tradable_state(state: PortfolioState, exclude: list[str]) -> tuple[PortfolioState, dict[str, float]]:
    """The account without the ``exclude_assets`` holdings, and the value of each left out.

    Every stage after this one sees only the tradable part: weights and drift are computed on the
    value less the excluded holdings, so an excluded unit is neither sold nor counted as drift.
    """
    left_out = {u: q for u, q in state.holdings.items() if u in set(exclude) and q > 0}
    if not left_out:
        return state, {}
    kept = {u: q for u, q in state.holdings.items() if u not in left_out}
    values = {u: q * state.prices[u] for u, q in left_out.items()}
    return state.model_copy(update={"holdings": kept}), values


def make_plan_id(portfolio_name: str, state: PortfolioState, *, decision_key: str = "") -> str:
    """Deterministic id of the decision for this portfolio, event timestamp, account and market.

    The same event on the same account, prices and memory (and ``decision_key``: what else the
    plan depends on, such as the configuration) always gives the same id, so a retry re-sends the
    same client order ids; a second decision at the same timestamp after trades, at other prices
    or under a changed configuration gives a new one (``kit rebalance execute --plan-id`` and the
    API refuse a stale id).
    """
    holdings = ",".join(f"{u}={q!r}" for u, q in sorted(state.holdings.items()))
    prices = ",".join(f"{u}={p!r}" for u, p in sorted(state.prices.items()))
    memory = ",".join(f"{k}={v!r}" for k, v in sorted(state.memory.items()))
    key = f"{portfolio_name}|{state.timestamp.isoformat()}|{state.cash!r}|{holdings}|{prices}|{memory}|{decision_key}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def config_key(config: PortfolioConfig, cash_reserve_bps: float, flow: float) -> str:
    """What a plan depends on besides the account and the market: the whole configuration (targets,
    method, parameters, limits, fees, exclusions), the cash reserve and the cycle's cash flow."""
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    return f"{digest}|{cash_reserve_bps!r}|{flow!r}"


class LazyTargets(Mapping):
    """The engine's targets after the held-out units, computed on first access only."""

    def __init__(self, engine: RebalancingEngine, ctx: MarketContext, config: PortfolioConfig) -> None:
        self._engine, self._ctx, self._config = engine, ctx, config
        self.result: Optional[EngineResult] = None
        self._targets: Optional[dict[str, float]] = None

    def compute(self) -> EngineResult:
        """Run the engine once (raises what the engine raises)."""
        if self.result is None:
            self.result = self._engine.calculate_target_weights(self._ctx)
            self._targets = surviving_targets(self.result.weights, self._ctx.state.risk_exclusions,
                                              self._config.risk_limits, self._config.risk_policy)
            if not self._targets:
                # Every unit is held out: nothing to trade towards, so hold what is held (the
                # monthly readmission probe decides when a unit comes back).
                held = current_weights(self._ctx, list(self.result.weights))
                self._targets = {u: w for u, w in held.items() if w > 0}
        return self.result

    @property
    def targets(self) -> dict[str, float]:
        self.compute()
        return self._targets

    def __getitem__(self, unit: str) -> float:
        return self.targets[unit]

    def __iter__(self) -> Iterator[str]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)


def _flow_plan(config: PortfolioConfig, state: PortfolioState, targets: dict[str, float], flow: float,
               full: OrderPlan, plan_id: str, reserve_bps: float, forced: bool) -> OrderPlan:
    """The orders that trade only the cash flow; what the full rebalance ``full`` would add is
    listed as skipped (the trades the flow avoided)."""
    partial = flow_targets(state, targets, flow, config.fee_model, reserve_bps)
    params = config.rebalancing_params
    plan = build_orders(state, partial, fee_model=config.fee_model,
                        min_trade_size=0.0 if forced else params.min_trade_size, plan_id=plan_id,
                        cash_reserve_bps=reserve_bps)
    done = {(o.unit, o.side) for o in plan.orders}
    avoided = [SkippedTrade(unit=o.unit, desired_notional=o.notional if o.side == OrderSide.BUY else -o.notional,
                            reason=f"avoided: the cash flow trades only the flow ({o.side.value} of "
                                   f"{o.notional:,.2f} left to the next regular check)")
               for o in full.orders if (o.unit, o.side) not in done]
    return plan.model_copy(update={"skipped": plan.skipped + avoided})


def plan_rebalance(
    config: PortfolioConfig,
    engine: RebalancingEngine,
    state: PortfolioState,
    returns: pd.DataFrame,
    *,
    cash_reserve_bps: float = 0.0,
    unit_kinds: Optional[Mapping[str, UnitKind]] = None,
    trusted_returns: bool = False,
    venue: Optional[VenueRules] = None,
    flow: float = 0.0,
) -> RebalancePlan:
    """Run one event through trigger, engine, risk limits and order builder.

    Parameters
    ----------
    config : PortfolioConfig
        The validated configuration.
    engine : RebalancingEngine
        The engine (its trigger decides whether to trade).
    state : PortfolioState
        Cash, holdings, prices and memory at the event; ``state.timestamp`` is the event's clock.
    returns : pandas.DataFrame
        Daily returns per unit; rows after the event are ignored.
    cash_reserve_bps : float
        Cash the order builder keeps back per unit of buys (the broker's slippage).
    unit_kinds : mapping, optional
        Strategy sleeve or plain asset per unit (per-unit trailing limits apply to sleeves
        unless ``risk_policy.unit_limits_for_assets``); None treats every unit as a sleeve.
    trusted_returns : bool
        ``returns`` was validated by the caller and ends at the event (backtests).
    venue : VenueRules, optional
        The venue's market rules: amounts rounded to each market's step, orders below its
        minimums skipped with the reason (``src/orders/venue.py``).
    flow : float
        This cycle's deposit (> 0) or withdrawal (< 0): the cycle trades only the flow, most
        underweight (or overweight) first (``src/orders/flows.py``); the trades a full rebalance
        would add are in the plan's skipped trades, left to the next regular check.

    Returns
    -------
    RebalancePlan
        Status ``no_trigger``, ``engine_failed`` (positions held, the reason recorded),
        ``blocked`` (a risk limit; verdicts recorded), ``no_trades`` or ``orders``; with the
        memory and risk exclusions the runtime keeps for the next decision.
    """
    plan_id = make_plan_id(config.name, state, decision_key=config_key(config, cash_reserve_bps, flow))
    state, excluded = tradable_state(state, config.exclude_assets)
    if state.total_value() <= 0:  # everything held is excluded, and no cash: there is nothing to trade
        reason = f"nothing to trade: the account holds only exclude_assets {sorted(excluded)} and no cash"
        return RebalancePlan(plan_id=plan_id, timestamp=state.timestamp, status=PlanStatus.NO_TRIGGER,
                             trigger=TriggerDecision(fired=False, trigger="exclude_assets", reason=reason),
                             weights_before={}, memory=dict(state.memory), risk_exclusions=dict(state.risk_exclusions),
                             excluded_holdings=excluded, message=f"no rebalance: {reason}")
    if trusted_returns:
        ctx = MarketContext.trusted(state.timestamp, state, returns)
    else:
        ctx = MarketContext(timestamp=state.timestamp, state=state, returns=returns)
    before = current_weights(ctx, config.units)
    memory = dict(state.memory)
    base = dict(plan_id=plan_id, timestamp=state.timestamp, weights_before=before, memory=memory,
                risk_exclusions=dict(state.risk_exclusions), excluded_holdings=excluded)
    lazy = LazyTargets(engine, ctx, config)
    try:
        decision = engine.trigger.evaluate(ctx, lazy)
        memory.update(decision.memory)
        if flow and not decision.fired:  # money in or out is placed (or raised) now, drift or not
            decision = TriggerDecision(fired=True, trigger="cash_flow", memory=decision.memory,
                                       reason=f"cash flow of {flow:+,.2f}: only the flow trades")
        if decision.fired:
            lazy.compute()
    except RebalancerError as exc:
        # Default policy: hold positions and say why (no silent fallback to other targets).
        log.warning("engine %s failed at %s: %s", engine.name, state.timestamp, exc)
        trigger = TriggerDecision(fired=False, trigger="engine", reason=f"engine failed: {exc}")
        return RebalancePlan(**base, status=PlanStatus.ENGINE_FAILED, trigger=trigger,
                             message=f"holding positions: engine {engine.name} failed: {exc}")
    strategies = None if unit_kinds is None else {u for u, k in unit_kinds.items() if k == UnitKind.STRATEGY}

    def risk_stage(weights):
        return apply_risk_limits(weights, ctx.returns, config.risk_limits, lookback=config.risk_lookback_days,
                                 min_history=config.min_history_days, policy=config.risk_policy,
                                 strategy_units=strategies, exclusions=state.risk_exclusions,
                                 timestamp=state.timestamp, current_weights=before)

    risk = None
    if not decision.fired and state.risk_exclusions and _probe_due(memory, state):
        # Held-out units are only reconsidered when something fires; without this probe a unit
        # dropped under a quiet band trigger would never come back.
        memory[READMIT_KEY] = float(state.timestamp.date().toordinal())
        try:
            probe = risk_stage(lazy.compute().weights)
        except RebalancerError as exc:
            log.warning("readmission probe failed at %s: %s", state.timestamp, exc)
            probe = None
        back = sorted(set(state.risk_exclusions) - set(probe.exclusions)) if probe is not None else []
        if back:
            risk = probe
            decision = TriggerDecision(fired=True, trigger="risk_readmission", memory=decision.memory,
                                       reason=f"{back} recovered past the readmission margins")
    result = lazy.result
    if result is not None:
        memory.update(result.memory)
        base["trading_targets"] = lazy.targets
    if not decision.fired:
        return RebalancePlan(**base, status=PlanStatus.NO_TRIGGER, trigger=decision,
                             engine_result=result, message=f"no rebalance: {decision.reason}")
    risk = risk or risk_stage(result.weights)
    # The held-out units were just reconsidered: this month's readmission probe is done.
    memory[READMIT_KEY] = float(state.timestamp.date().toordinal())
    base["risk_exclusions"] = dict(risk.exclusions)
    if risk.status == RiskStatus.BLOCKED:
        return RebalancePlan(**base, status=PlanStatus.BLOCKED, trigger=decision, engine_result=result,
                             risk=risk, message=f"blocked by risk limits: {risk.block_reason}")
    targets = risk.weights
    if decision.scope:
        targets = partial_targets(before, targets, decision.scope)
    params = config.rebalancing_params
    forced = isinstance(params, CalendarParams) and params.force_rebalance
    orders = build_orders(state, targets, fee_model=config.fee_model,
                          min_trade_size=0.0 if forced else params.min_trade_size, plan_id=plan_id,
                          cash_reserve_bps=cash_reserve_bps)
    if flow:
        orders = _flow_plan(config, state, targets, flow, orders, plan_id, cash_reserve_bps, forced)
    if venue is not None:
        orders = apply_venue_rules(orders, venue, state.holdings, config.fee_model)
    status = PlanStatus.ORDERS if orders.orders else PlanStatus.NO_TRADES
    message = (f"{len(orders.orders)} order(s), est. fees {orders.estimated_fees:.2f}" if orders.orders
               else "triggered, but no trade is worth making")
    if risk.warnings:
        message += f" (risk warning: {'; '.join(risk.warnings)})"
    return RebalancePlan(**base, status=status, trigger=decision, engine_result=result, risk=risk,
                         order_plan=orders, message=message)
