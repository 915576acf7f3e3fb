"""Turning a plan (and its execution) into the event that is written to disk."""

from __future__ import annotations

from typing import Literal, Optional

from src.models.decision_models import RebalancePlan, RebalancingEvent
from src.models.portfolio_models import PortfolioConfig
from src.models.trading_models import Order, OrderStatus

FILLED = (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)


def _common(plan: RebalancePlan, config: PortfolioConfig, cause: str) -> dict:
    """Fields every event takes straight from the plan and the config."""
    engine = plan.engine_result
    return dict(
        event_id=plan.plan_id,
        timestamp=plan.timestamp,
        portfolio_name=config.name,
        method=config.rebalancing_method.value,
        status=plan.status,
        trigger=plan.trigger,
        weights_before=plan.weights_before,
        engine_targets=engine.weights if engine else {},
        risk_verdicts=plan.risk.verdicts if plan.risk else [],
        config=config.model_dump(mode="json"),
        message=plan.message,
        cause=cause,
        engine_notes=engine.notes if engine else [],
        exclusions=engine.exclusions if engine else [],
        warnings=list(plan.risk.warnings) if plan.risk else [],
        memory=dict(plan.memory),
        risk_exclusions=dict(plan.risk_exclusions),
    )


def verdict_signature(event: RebalancingEvent) -> tuple:
    """What makes two blocked (or failed) decisions 'the same': status, and each limit that did
    not pass with its reason and units (values such as a Sharpe of 0.31 vs 0.32 do not count)."""
    held = tuple(sorted((v.limit, v.action.value, v.reason_code.value, tuple(sorted(v.units)))
                        for v in event.risk_verdicts if v.action.value != "pass"))
    return (event.status.value, held, event.trigger.trigger if event.status.value == "engine_failed" else "")


def fold_repeat(previous: RebalancingEvent, event: RebalancingEvent) -> RebalancingEvent | None:
    """``previous`` with one more repeat if ``event`` repeats its verdict unchanged, else None.

    Only blocked and engine-failed events fold; any event with orders in between breaks the run
    (the caller passes the latest event as ``previous``).
    """
    if event.status.value not in ("blocked", "engine_failed") or previous.status != event.status:
        return None
    if previous.portfolio_name != event.portfolio_name or verdict_signature(previous) != verdict_signature(event):
        return None
    if previous.last_repeated_at == event.timestamp:
        # This check was counted already: a run stopped after folding it and before saving its
        # state is re-running the same moment. Counting it again would make the journal differ.
        return previous
    return previous.model_copy(update={"repeats": previous.repeats + 1, "last_repeated_at": event.timestamp,
                                       "memory": event.memory, "risk_exclusions": event.risk_exclusions})


def event_from_plan(
    plan: RebalancePlan,
    config: PortfolioConfig,
    *,
    cause: str,
    execution: Literal["pending", "complete"],
    orders: Optional[list[Order]] = None,
    value_after: Optional[float] = None,
    cash_after: Optional[float] = None,
) -> RebalancingEvent:
    """The event for ``plan``; ``orders`` (with outcomes) replace the planned ones when given.

    Before execution (``pending``) the values after are the plan's expectations.
    """
    order_plan = plan.order_plan
    final_orders = orders if orders is not None else plan.orders
    value_before = order_plan.value_before if order_plan else None
    cash_before = order_plan.cash_before if order_plan else None
    if value_before is None:
        raise ValueError("event_from_plan needs a plan that reached the order builder; use event_without_orders")
    return RebalancingEvent(
        **_common(plan, config, cause),
        final_targets=plan.risk.weights if plan.risk else {},
        orders=final_orders,
        value_before=value_before,
        value_after=value_after if value_after is not None else order_plan.expected_value_after,
        cash_before=cash_before,
        cash_after=cash_after if cash_after is not None else order_plan.expected_cash_after,
        execution=execution,
        skipped_trades=order_plan.skipped,
        fees=sum(o.fee for o in final_orders if o.status in FILLED),
    )


def event_without_orders(plan: RebalancePlan, config: PortfolioConfig, *, cause: str, value: float,
                         cash: float) -> RebalancingEvent:
    """The event of a plan that was blocked or whose engine failed: positions held."""
    return RebalancingEvent(**_common(plan, config, cause), final_targets={}, orders=[], value_before=value,
                            value_after=value, cash_before=cash, cash_after=cash)


def harvest_event(*, event_id: str, timestamp, config: PortfolioConfig, orders: list[Order], value: float,
                  cash: float, weights: dict[str, float], tax: dict, cause: str) -> RebalancingEvent:
    """A pending event for a tax-loss harvest (and any swap-backs due), before execution."""
    from src.models.decision_models import PlanStatus, TriggerDecision

    return RebalancingEvent(
        event_id=event_id, timestamp=timestamp, portfolio_name=config.name, method=config.rebalancing_method.value,
        status=PlanStatus.HARVEST,
        trigger=TriggerDecision(fired=True, trigger="tax_loss_harvest",
                                reason=f"{sum(o.side.value == 'sell' for o in orders)} harvest or swap-back sale(s)"),
        weights_before=weights, engine_targets={}, final_targets={}, risk_verdicts=[], orders=orders,
        value_before=value, value_after=value, cash_before=cash, cash_after=cash,
        config=config.model_dump(mode="json"), message=f"tax-loss harvest: {len(orders)} order(s)", cause=cause,
        execution="pending", tax=tax)
