"""What the trigger, the engine and the whole decision pipeline return."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal, Optional

from pydantic import Field

from src.models.base import StrictModel
from src.models.execution_models import CashFlow
from src.models.risk_models import ReasonCode, RiskDecision, RiskExclusion, RiskVerdict
from src.models.trading_models import Order, OrderPlan, SkippedTrade


class TriggerDecision(StrictModel):
    """Whether to rebalance now, and why."""

    fired: bool = Field(description="True if trading is warranted now.")
    trigger: str = Field(description="Which trigger decided (e.g. 'drift_band', 'calendar').")
    reason: str = Field(description="Human-readable why / why not.")
    details: dict[str, float] = Field(
        default_factory=dict, description="Numbers behind the decision (drift per unit, ...)."
    )
    memory: dict[str, float] = Field(
        default_factory=dict,
        description="Updates to PortfolioState.memory that the runtime keeps for the next decision, "
        "whether or not the trigger fired.",
    )
    scope: Optional[list[str]] = Field(
        None,
        description="If set, only these units are traded back to target (a partial rebalance); the "
        "others keep their weights except to fund or absorb the trade.",
    )


class Exclusion(StrictModel):
    """A unit left out of a calculation, with the recorded reason."""

    unit: str = Field(description="The unit left out.")
    reason_code: ReasonCode = Field(description="Machine-readable reason.")
    detail: str = Field(description="Human-readable reason.")


class EngineResult(StrictModel):
    """Target weights from an engine, with notes on how they were derived."""

    engine: str = Field(description="Engine name.")
    weights: dict[str, float] = Field(description="Target weight per unit (>= 0).")
    notes: list[str] = Field(default_factory=list, description="How the targets were derived.")
    exclusions: list[Exclusion] = Field(default_factory=list, description="Units left out.")
    diagnostics: dict[str, float] = Field(
        default_factory=dict, description="Numbers behind the targets (e.g. Sharpe before/after)."
    )
    memory: dict[str, float] = Field(
        default_factory=dict, description="Updates to PortfolioState.memory kept for the next decision."
    )


class PlanStatus(str, Enum):
    """Outcome of one pass through the decision pipeline."""

    NO_TRIGGER = "no_trigger"
    BLOCKED = "blocked"
    NO_TRADES = "no_trades"
    ORDERS = "orders"
    ENGINE_FAILED = "engine_failed"
    HARVEST = "harvest"
    RECONCILIATION = "reconciliation"  # a live account's balances changed outside the agent (start-up)
    ALERT = "alert"  # the drift alert level after a cycle rose, or fell back to none (src/agents/alerts.py)


class RebalancePlan(StrictModel):
    """Everything the pure decision core concluded for one event, ready to execute."""

    plan_id: str = Field(description="Deterministic id of this decision (seeds the order ids).")
    timestamp: datetime = Field(description="The event's timestamp (not the wall clock).")
    status: PlanStatus = Field(description="What came out of the pipeline.")
    trigger: TriggerDecision = Field(description="Whether and why trading was warranted.")
    weights_before: dict[str, float] = Field(description="Current weights per configured unit.")
    engine_result: Optional[EngineResult] = Field(None, description="The engine's targets.")
    risk: Optional[RiskDecision] = Field(None, description="The risk stage's verdicts.")
    order_plan: Optional[OrderPlan] = Field(None, description="The orders, if any.")
    message: str = Field(description="One-line summary of the outcome.")
    memory: dict[str, float] = Field(
        default_factory=dict, description="PortfolioState.memory after this decision (the runtime keeps it)."
    )
    risk_exclusions: dict[str, RiskExclusion] = Field(
        default_factory=dict, description="Units held out by the risk stage after this decision."
    )
    excluded_holdings: dict[str, float] = Field(
        default_factory=dict,
        description="Market value of each held exclude_assets unit: left as it is, outside the value the "
        "targets, weights and drift are computed on.",
    )
    trading_targets: dict[str, float] = Field(
        default_factory=dict,
        description="What the trigger measured drift against: the engine's targets after the units "
        "held out by the risk stage (empty if the engine was not run).",
    )

    @property
    def orders(self) -> list[Order]:
        """Orders of the plan (empty if none)."""
        return [] if self.order_plan is None else list(self.order_plan.orders)


class AlertRecord(StrictModel):
    """The drift alert an ``alert`` event records: the level reached after a cycle and why."""

    level: Literal["none", "warning", "critical"] = Field(description="The level now ('none': cleared).")
    previous_level: Literal["none", "warning", "critical"] = Field(description="The last recorded level.")
    max_drift: float = Field(ge=0.0, description="Largest |weight - target| over the units (excluded assets out).")
    units: dict[str, float] = Field(
        default_factory=dict, description="The units at or above the level's threshold, with their signed drift.")
    drift_warning: float = Field(description="The warning threshold in force.")
    drift_critical: float = Field(description="The critical threshold in force.")


class RebalancingEvent(StrictModel):
    """One recorded rebalancing event (what is written to ``rebalance_*.json``)."""

    event_id: str = Field(description="Unique id of the event (equals the plan id).")
    timestamp: datetime = Field(description="When the event happened, on the event's clock.")
    portfolio_name: str = Field(description="PortfolioConfig.name.")
    method: str = Field(description="Rebalancing method.")
    status: PlanStatus = Field(description="Outcome of the pipeline.")
    trigger: TriggerDecision = Field(description="The trigger and why it fired.")
    weights_before: dict[str, float] = Field(description="Weights before trading.")
    engine_targets: dict[str, float] = Field(description="The engine's targets.")
    excluded_holdings: dict[str, float] = Field(
        default_factory=dict, description="Value of each held exclude_assets unit, left as it is outside the targets.")
    final_targets: dict[str, float] = Field(description="Targets after the risk limits.")
    risk_verdicts: list[RiskVerdict] = Field(description="Every risk verdict.")
    orders: list[Order] = Field(description="Every order, with its status.")
    value_before: float = Field(description="Portfolio value before.")
    value_after: float = Field(description="Portfolio value after.")
    cash_before: float = Field(description="Cash before.")
    cash_after: float = Field(description="Cash after.")
    config: dict[str, Any] = Field(description="The configuration the event ran with.")
    message: str = Field(description="One-line summary.")
    cause: str = Field("check", description="What drove the cycle (check, market_tick, fill, cash_flow, ...).")
    execution: Literal["pending", "complete"] = Field(
        "complete", description="'pending' while orders are being sent (a journal entry); 'complete' after."
    )
    engine_notes: list[str] = Field(default_factory=list, description="How the engine derived its targets.")
    exclusions: list[Exclusion] = Field(default_factory=list, description="Units the engine left out.")
    skipped_trades: list[SkippedTrade] = Field(default_factory=list, description="Trades not made, and why.")
    fees: float = Field(0.0, ge=0.0, description="Fees actually charged.")
    repeats: int = Field(
        0, ge=0, description="How many later checks reached this same verdict (same limits, same units) "
        "and were folded into this event instead of writing a new one.",
    )
    last_repeated_at: Optional[datetime] = Field(None, description="When the last folded repeat happened.")
    sequence: int = Field(
        0, ge=0, description="Position of this event in its portfolio's journal (1, 2, 3, ...; a folded repeat "
        "keeps its event's number). The agent state counts the events it accounts for, so a missing, extra or "
        "stale file is detected at start-up. 0 in files written before sequences existed.")
    warnings: list[str] = Field(default_factory=list, description="Limits that warned without blocking.")
    memory: dict[str, float] = Field(
        default_factory=dict, description="Triggers' and engines' memory after this decision (restored by "
        "recovery if the run stopped before its state was saved).")
    risk_exclusions: dict[str, RiskExclusion] = Field(
        default_factory=dict, description="Units held out by the risk stage after this decision.")
    cash_flow: Optional[CashFlow] = Field(
        None, description="The deposit or withdrawal that drove this cycle (cause 'cash_flow'), journaled so that "
        "recovery can re-apply it (once, by its flow_id) before completing the cycle's orders.")
    cycle_trigger_fired: Optional[bool] = Field(
        None, description="Whether the trigger of the cycle that wrote this event fired (a harvest event carries "
        "its cycle's, with the cycle's memory), so recovery can finish the cycle from the journal alone. None in "
        "files written before it existed.")
    tax: Optional[dict[str, Any]] = Field(
        None, description="Tax report: harvest candidates, lots realized, disallowed losses, substitutes, "
        "wash-sale decisions on the plan, and the year's tax impact (see src/tax/overlay.py)."
    )
    alert: Optional[AlertRecord] = Field(
        None, description="An 'alert' event's drift alert (level, max drift, units, thresholds); None otherwise.")
