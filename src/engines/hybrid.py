"""Hybrid rebalancing: a calendar and drift bands together.

Modes (``HybridParams.mode``):

- ``calendar_and_bands``: look once per calendar period (``frequency``, ``rebalance_day``, as
  the calendar method) and trade only if some unit is outside its band then:
  ``CalendarTrigger(frequency, rebalance_day) & DriftBandTrigger(min_drift, relative_drift)``.
  A look that finds every unit inside its band still uses up the period.
- ``calendar_or_bands``: check the bands at ``check_frequency`` and trade when one is breached,
  and also trade on every calendar date if some unit drifted more than ``min_trade_size``:
  ``(CheckFrequencyGate(check_frequency) & bands) | (CalendarTrigger(...) & AnyDriftTrigger(min_trade_size))``.

The bands are measured against the configured targets (after units the risk stage holds out),
never against the engine's band-edge output. ``trade_to="band_edge"`` reuses
``ThresholdEngine``'s band-edge projection (the least-squares smallest trade that puts every
unit back inside its band) when some unit is outside its band; when none is (a calendar date in
``calendar_or_bands`` mode) a band-edge trade would be empty, so it trades to the targets.
"""

from __future__ import annotations

from typing import Optional

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.event_triggers import AgainstConfiguredTargets, configured_targets
from src.engines.threshold import ThresholdEngine
from src.engines.triggers import AnyDriftTrigger, CalendarTrigger, CheckFrequencyGate, DriftBandTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.params import HybridParams, ThresholdParams
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod


class HybridEngine(RebalancingEngine):
    """Configured targets (or the band edges), traded on a calendar and/or on band breaches."""

    measures_against_configured_targets = True

    name = "hybrid"

    def __init__(self, config: PortfolioConfig) -> None:
        super().__init__(config)
        p = self.params
        # The band-edge projection is ThresholdEngine's own, fed the same bands.
        edge_params = ThresholdParams(min_drift=p.min_drift, relative_drift=p.relative_drift,
                                      trade_to="band_edge", min_trade_size=p.min_trade_size)
        self._band_edge = ThresholdEngine(config.model_copy(update={
            "rebalancing_method": RebalancingMethod.THRESHOLD, "rebalancing_params": edge_params}))

    @property
    def params(self) -> HybridParams:
        return self.config.rebalancing_params

    @property
    def history_days(self) -> Optional[int]:
        return 0  # reads no returns: targets and bands come from the configuration and weights

    def band(self) -> DriftBandTrigger:
        """The drift band of every unit."""
        return DriftBandTrigger(self.params.min_drift, self.params.relative_drift)

    def drift_condition(self) -> Trigger:
        """The bands against the configured targets, without the calendar (what a crisis checks)."""
        return AgainstConfiguredTargets(self.band(), self.config)

    def reference_targets(self, ctx: MarketContext) -> dict[str, float]:
        """The configured targets after the units the risk stage holds out."""
        return configured_targets(self.config, ctx)

    def build_trigger(self) -> Trigger:
        p = self.params
        calendar = CalendarTrigger(p.frequency, p.rebalance_day)
        if p.mode == "calendar_and_bands":
            return calendar & self.drift_condition()
        return (CheckFrequencyGate(p.check_frequency) & self.drift_condition()) | (
            calendar & AnyDriftTrigger(p.min_trade_size))

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        targets = dict(self.config.target_allocations)
        if self.params.trade_to == "target":
            return EngineResult(engine=self.name, weights=targets, notes=["trade to configured targets"])
        if not self.band().evaluate(ctx, targets).fired:
            return EngineResult(engine=self.name, weights=targets,
                                notes=["band_edge: no unit outside its band, trade to configured targets"])
        edge = self._band_edge.calculate_target_weights(ctx)
        return EngineResult(engine=self.name, weights=edge.weights, notes=edge.notes)
