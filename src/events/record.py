"""Turning a plan (and its execution) into the event that is written to disk."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal, NamedTuple, Optional

from src.models.decision_models import RebalancePlan, RebalancingEvent
from src.models.execution_models import CashFlow
from src.models.portfolio_models import PortfolioConfig
from src.models.trading_models import Order, OrderStatus

FILLED = (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)


def _common(plan: RebalancePlan, config: PortfolioConfig, cause: str, sequence: int) -> dict:
    """Fields every event takes straight from the plan and the config."""
    engine = plan.engine_result
    return dict(
        sequence=sequence,
        event_id=plan.plan_id,
        timestamp=plan.timestamp,
        portfolio_name=config.name,
        method=config.rebalancing_method.value,
        status=plan.status,
        trigger=plan.trigger,
        weights_before=plan.weights_before,
        excluded_holdings=dict(plan.excluded_holdings),
        engine_targets=engine.weights if engine else {},
        risk_verdicts=plan.risk.verdicts if plan.risk else [],
        config=redacted(config.model_dump(mode="json")),
        message=plan.message,
        cause=cause,
        engine_notes=engine.notes if engine else [],
        exclusions=engine.exclusions if engine else [],
        warnings=list(plan.risk.warnings) if plan.risk else [],
        memory=dict(plan.memory),
        risk_exclusions=dict(plan.risk_exclusions),
        cycle_trigger_fired=plan.trigger.fired,
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
    sequence: int,
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
        **_common(plan, config, cause, sequence),
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


def event_without_orders(plan: RebalancePlan, config: PortfolioConfig, *, cause: str, sequence: int, value: float,
                         cash: float) -> RebalancingEvent:
    """The event of a plan that was blocked or whose engine failed: positions held."""
    return RebalancingEvent(**_common(plan, config, cause, sequence), final_targets={}, orders=[], value_before=value,
                            value_after=value, cash_before=cash, cash_after=cash)


def harvest_event(*, event_id: str, timestamp, config: PortfolioConfig, orders: list[Order], value: float,
                  cash: float, weights: dict[str, float], tax: dict, cause: str, sequence: int,
                  cycle: CycleBookkeeping) -> RebalancingEvent:
    """A pending event for a tax-loss harvest (and any swap-backs due), before execution; it carries
    its cycle's bookkeeping (``cycle``) so that recovery can finish the cycle from the journal."""
    from src.models.decision_models import PlanStatus, TriggerDecision

    return RebalancingEvent(
        event_id=event_id, timestamp=timestamp, portfolio_name=config.name, method=config.rebalancing_method.value,
        status=PlanStatus.HARVEST,
        trigger=TriggerDecision(fired=True, trigger="tax_loss_harvest",
                                reason=f"{sum(o.side.value == 'sell' for o in orders)} harvest or swap-back sale(s)"),
        weights_before=weights, engine_targets={}, final_targets={}, risk_verdicts=[], orders=orders,
        value_before=value, value_after=value, cash_before=cash, cash_after=cash,
        config=redacted(config.model_dump(mode="json")), message=f"tax-loss harvest: {len(orders)} order(s)",
        cause=cause, execution="pending", tax=tax, sequence=sequence, memory=dict(cycle.memory),
        risk_exclusions=dict(cycle.risk_exclusions), cycle_trigger_fired=cycle.trigger_fired, cash_flow=cycle.flow)


class CycleBookkeeping(NamedTuple):
    """What a cycle leaves in the agent's state besides trades: the same whether the cycle runs or
    is finished by recovery from its events."""

    trigger_fired: bool
    memory: dict
    risk_exclusions: dict
    flow: Optional[CashFlow] = None  # the deposit or withdrawal that drove the cycle

    @classmethod
    def of_event(cls, event: RebalancingEvent) -> "CycleBookkeeping":
        fired = event.cycle_trigger_fired
        if fired is None:  # an event written before the field existed: a harvest's own trigger is not the cycle's
            fired = event.trigger.fired and event.status.value != "harvest"
        return cls(fired, dict(event.memory), dict(event.risk_exclusions), event.cash_flow)


# Keys whose values are credentials: never written to an event. Names of environment variables
# holding them (``api_key_env``) are not secrets and are kept.
_SECRET = re.compile(r"(secret|passw|passphrase|token|api_?key|private_?key|credential)", re.IGNORECASE)


def redacted(payload: Any) -> Any:
    """``payload`` (JSON data) with the value of every secret-looking key replaced by ``"***"``."""
    if isinstance(payload, dict):
        return {k: ("***" if _SECRET.search(str(k)) and not str(k).endswith("_env") and v is not None
                    else redacted(v)) for k, v in payload.items()}
    if isinstance(payload, list):
        return [redacted(v) for v in payload]
    return payload


def reconciliation_event(*, timestamp, config: PortfolioConfig, sequence: int,
                         differences: dict[str, tuple[float, float]], value: float, cash: float) -> RebalancingEvent:
    """The start-up event of a live account whose balances changed since the agent's last cycle
    (a deposit, a withdrawal, a trade made elsewhere): recorded before any trading."""
    from src.models.decision_models import PlanStatus, TriggerDecision

    lines = [f"{asset}: {then:.10g} -> {now:.10g} ({now - then:+.10g})" for asset, (then, now) in sorted(differences.items())]
    event_id = hashlib.sha256(f"{config.name}|reconcile|{timestamp.isoformat()}|{lines}".encode()).hexdigest()[:16]
    return RebalancingEvent(
        event_id=event_id, timestamp=timestamp, portfolio_name=config.name, method=config.rebalancing_method.value,
        status=PlanStatus.RECONCILIATION,
        trigger=TriggerDecision(fired=False, trigger="reconciliation", reason="balances differ from the last cycle's"),
        weights_before={}, engine_targets={}, final_targets={}, risk_verdicts=[], orders=[], value_before=value,
        value_after=value, cash_before=cash, cash_after=cash, config=redacted(config.model_dump(mode="json")),
        message=f"exchange balances changed outside the agent since its last cycle: {'; '.join(lines)}",
        cause="start-up", warnings=lines, sequence=sequence, cycle_trigger_fired=False)