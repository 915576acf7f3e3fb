"""Threshold (drift band) rebalancing, with the 5/25 rule and band-edge trading."""

from __future__ import annotations

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.event_triggers import AgainstConfiguredTargets, configured_targets
from src.engines.triggers import CheckFrequencyGate, DriftBandTrigger, Trigger, current_weights
from src.models.decision_models import EngineResult
from src.models.params import ThresholdParams
from src.risk.projection import project_capped_simplex


class ThresholdEngine(RebalancingEngine):
    """Trade when a unit leaves its band; trade to the target or only back to the band edge.

    Band edge: the new weights are the Euclidean projection of the current weights onto
    ``{w : target - band <= w <= target + band, w >= 0, sum(w) = 1}``, the smallest trade (in
    the least-squares sense) that puts every unit back inside its band. Units already inside
    move only as much as the budget constraint needs.
    """

    measures_against_configured_targets = True

    name = "threshold"

    @property
    def params(self) -> ThresholdParams:
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        p = self.params
        return CheckFrequencyGate(p.check_frequency) & self.drift_condition()

    def drift_condition(self) -> Trigger:
        """The bands against the configured targets (after held-out units).

        With ``trade_to="band_edge"`` the engine's targets are the band edges; drift measured from
        those would fire only at twice the band, so the bands are always measured from the targets.
        """
        band = DriftBandTrigger(self.params.min_drift, self.params.relative_drift)
        return AgainstConfiguredTargets(band, self.config) if self.params.trade_to == "band_edge" else band

    def reference_targets(self, ctx: MarketContext) -> dict[str, float]:
        """The configured targets after the units the risk stage holds out."""
        return configured_targets(self.config, ctx)

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        targets = dict(self.config.target_allocations)
        if self.params.trade_to == "target":
            return EngineResult(engine=self.name, weights=targets, notes=["trade to configured targets"])
        bands = DriftBandTrigger(self.params.min_drift, self.params.relative_drift)
        held = current_weights(ctx, list(targets))
        units = list(held)
        tgt = np.array([targets.get(u, 0.0) for u in units])
        band = np.array([bands.band(t) for t in tgt])
        cur = np.array([held[u] for u in units])
        # Cash counts as drift to invest: project the invested weights scaled to sum 1.
        cur = cur / cur.sum() if cur.sum() > 0 else tgt
        new = project_capped_simplex(cur, lower=np.maximum(tgt - band, 0.0), upper=np.minimum(tgt + band, 1.0))
        weights = {u: float(w) for u, w in zip(units, new) if w > 0 or u in targets}
        return EngineResult(engine=self.name, weights=weights, notes=["trade to the band edges"])
