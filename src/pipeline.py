"""The pure decision core: event in, plan out (trigger -> engine -> risk limits -> orders).

``plan_rebalance`` has no I/O and reads no clock: the event's timestamp, the account and the
returns are all passed in, so live trading, replays and backtests run exactly this code.
"""

from __future__ import annotations

import hashlib
import logging

import pandas as pd

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import current_weights
from src.errors import RebalancerError
from src.models.decision_models import PlanStatus, RebalancePlan, TriggerDecision
from src.models.params import CalendarParams
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import RiskStatus
from src.models.trading_models import PortfolioState
from src.orders.builder import build_orders
from src.risk.limits import apply_risk_limits

log = logging.getLogger(__name__)


def make_plan_id(portfolio_name: str, state: PortfolioState) -> str:
    """Deterministic id of the decision for this portfolio, event timestamp and account.

    The same event on the same account always gives the same id (so a retry re-sends the same
    client order ids); a second decision at the same timestamp after trades gives a new one.
    """
    holdings = ",".join(f"{u}={q!r}" for u, q in sorted(state.holdings.items()))
    key = f"{portfolio_name}|{state.timestamp.isoformat()}|{state.cash!r}|{holdings}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def plan_rebalance(
    config: PortfolioConfig,
    engine: RebalancingEngine,
    state: PortfolioState,
    returns: pd.DataFrame,
    *,
    cash_reserve_bps: float = 0.0,
) -> RebalancePlan:
    """Run one event through trigger, engine, risk limits and order builder.

    Parameters
    ----------
    config : PortfolioConfig
        The validated configuration.
    engine : RebalancingEngine
        The engine (its trigger decides whether to trade).
    state : PortfolioState
        Cash, holdings and prices at the event; ``state.timestamp`` is the event's clock.
    returns : pandas.DataFrame
        Daily returns per unit; rows after the event are ignored.
    cash_reserve_bps : float
        Cash the order builder keeps back per unit of buys (the broker's slippage).

    Returns
    -------
    RebalancePlan
        Status ``no_trigger``, ``engine_failed`` (positions held, the reason recorded),
        ``blocked`` (a risk limit; verdicts recorded), ``no_trades`` or ``orders``.
    """
    ctx = MarketContext(timestamp=state.timestamp, state=state, returns=returns)
    plan_id = make_plan_id(config.name, state)
    before = current_weights(ctx, config.units)
    base = dict(plan_id=plan_id, timestamp=state.timestamp, weights_before=before)
    try:
        result = engine.calculate_target_weights(ctx)
    except RebalancerError as exc:
        # Default policy: hold positions and say why (no silent fallback to other targets).
        log.warning("engine %s failed at %s: %s", engine.name, state.timestamp, exc)
        trigger = TriggerDecision(fired=False, trigger="engine", reason=f"engine failed: {exc}")
        return RebalancePlan(**base, status=PlanStatus.ENGINE_FAILED, trigger=trigger,
                             message=f"holding positions: engine {engine.name} failed: {exc}")
    decision = engine.trigger.evaluate(ctx, result.weights)
    if not decision.fired:
        return RebalancePlan(**base, status=PlanStatus.NO_TRIGGER, trigger=decision,
                             engine_result=result, message=f"no rebalance: {decision.reason}")
    risk = apply_risk_limits(result.weights, ctx.returns, config.risk_limits,
                             lookback=config.risk_lookback_days, min_history=config.min_history_days)
    if risk.status == RiskStatus.BLOCKED:
        return RebalancePlan(**base, status=PlanStatus.BLOCKED, trigger=decision, engine_result=result,
                             risk=risk, message=f"blocked by risk limits: {risk.block_reason}")
    params = config.rebalancing_params
    forced = isinstance(params, CalendarParams) and params.force_rebalance
    orders = build_orders(state, risk.weights, fee_model=config.fee_model,
                          min_trade_size=0.0 if forced else params.min_trade_size, plan_id=plan_id,
                          cash_reserve_bps=cash_reserve_bps)
    status = PlanStatus.ORDERS if orders.orders else PlanStatus.NO_TRADES
    message = (f"{len(orders.orders)} order(s), est. fees {orders.estimated_fees:.2f}" if orders.orders
               else "triggered, but no trade is worth making")
    return RebalancePlan(**base, status=status, trigger=decision, engine_result=result, risk=risk,
                         order_plan=orders, message=message)
