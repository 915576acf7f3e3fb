"""Buy and hold: invest idle cash into the targets, never rebalance (a benchmark policy)."""

from __future__ import annotations

from typing import Mapping

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import Trigger, cash_drift
from src.models.decision_models import EngineResult, TriggerDecision


class IdleCashTrigger(Trigger):
    """Fires when cash exceeds what the targets keep in cash by ``min_idle`` (a new account or a
    deposit); never for drift between units."""

    def __init__(self, min_idle: float = 0.01) -> None:
        self.min_idle = min_idle

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        idle = cash_drift(ctx, targets)
        fired = idle >= self.min_idle
        return TriggerDecision(fired=fired, trigger="idle_cash",
                               reason=f"idle cash {idle:.4f} {'>=' if fired else '<'} {self.min_idle}")


class BuyAndHoldEngine(RebalancingEngine):
    """Buys the configured targets with idle cash and then lets the weights drift.

    Only idle cash is invested: the targets the trigger sees for the order builder are the
    current holdings plus the configured split of the idle cash, so nothing is ever sold.
    """

    measures_against_configured_targets = True

    name = "buy_and_hold"

    def build_trigger(self) -> Trigger:
        return IdleCashTrigger()

    @property
    def history_days(self) -> int:
        return 1

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        targets = self.config.target_allocations
        state = ctx.state
        total = state.total_value()
        held = state.weights(list(targets))
        idle = max(0.0, state.cash / total - max(0.0, 1.0 - sum(targets.values())))
        weights = {u: held[u] + idle * t / sum(targets.values()) for u, t in targets.items()}
        return EngineResult(engine=self.name, weights=weights, notes=["hold; invest idle cash pro rata to targets"])
