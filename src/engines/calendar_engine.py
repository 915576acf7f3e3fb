"""Calendar rebalancing: back to the targets once per period."""

from __future__ import annotations

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import AnyDriftTrigger, CalendarTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.params import CalendarParams


class CalendarEngine(RebalancingEngine):
    """Fires on the event timestamp's schedule; without ``force_rebalance`` only if some unit
    has drifted by more than ``min_trade_size`` (nothing to do otherwise)."""

    measures_against_configured_targets = True

    name = "calendar"

    @property
    def params(self) -> CalendarParams:
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        p = self.params
        schedule = CalendarTrigger(p.frequency, p.rebalance_day)
        return schedule if p.force_rebalance else schedule & AnyDriftTrigger(p.min_trade_size)

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        return EngineResult(
            engine=self.name, weights=dict(self.config.target_allocations),
            notes=["trade to configured targets"],
        )
