"""Adaptive rebalancing: tilt the configured targets using recent registry performance.

Formula (over the last ``performance_window`` daily returns of each unit):

1. Volatility cut: every unit with annualised volatility ``sigma_i`` above
   ``volatility_threshold`` gets a multiplier ``m_i = volatility_threshold / sigma_i``
   (others ``m_i = 1``).
2. Correlation de-weighting: for every pair with correlation ``rho > correlation_threshold``,
   the unit with the lower window Sharpe ratio has its multiplier multiplied by
   ``(1 - rho) / (1 - correlation_threshold)`` (1 at the threshold, 0 at rho = 1).
3. Tilted weights: ``w_i = t_i * m_i / sum_j t_j * m_j`` for configured targets ``t``.
4. Adoption: the tilt is adopted only if the annualised Sharpe ratio of the window's returns
   at the tilted weights exceeds that at the configured targets by at least
   ``min_improvement``; otherwise the configured targets stand.

A unit with fewer than ``performance_window`` returns is excluded with a recorded reason and
the configured targets of the others are renormalised; if no unit has enough, the engine raises
``InsufficientDataError`` and the pipeline holds positions and records why.
"""

from __future__ import annotations

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import CheckFrequencyGate, DriftBandTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.params import AdaptiveParams
from src.utils.performance import TRADING_DAYS, sharpe_ratio


class AdaptiveEngine(RebalancingEngine):
    """Configured targets, tilted away from volatile and redundant units when that pays."""

    name = "adaptive"

    @property
    def params(self) -> AdaptiveParams:
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        return CheckFrequencyGate(self.params.check_frequency) & DriftBandTrigger(self.params.min_drift)

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        p = self.params
        window, exclusions = ctx.complete_window(self.config.units, p.performance_window,
                                                 "adaptive performance_window")
        units = list(window.columns)
        r = window.to_numpy()
        base = np.array([self.config.target_allocations[u] for u in units])
        base = base / base.sum()  # excluded units' weight is spread pro rata
        vol = r.std(axis=0, ddof=1) * np.sqrt(TRADING_DAYS)
        sharpe = np.array([sharpe_ratio(r[:, i]) for i in range(len(units))])
        mult = np.where(vol > p.volatility_threshold, p.volatility_threshold / np.where(vol > 0, vol, 1.0), 1.0)
        notes = [f"{u}: volatility {v:.3f} > {p.volatility_threshold} -> x{m:.3f}"
                 for u, v, m in zip(units, vol, mult) if m < 1.0]
        with np.errstate(invalid="ignore", divide="ignore"):
            # a unit flat over the window (a sleeve in cash) has no correlation: NaN, skipped below
            corr = np.corrcoef(r, rowvar=False) if len(units) > 1 else np.ones((1, 1))
        for i in range(len(units)):
            for j in range(i + 1, len(units)):
                rho = corr[i, j]
                if np.isfinite(rho) and rho > p.correlation_threshold:
                    weaker = i if sharpe[i] < sharpe[j] else j
                    factor = (1.0 - rho) / (1.0 - p.correlation_threshold)
                    mult[weaker] *= factor
                    notes.append(f"{units[i]}~{units[j]} rho {rho:.3f}: {units[weaker]} x{factor:.3f}")
        tilted = base * mult
        if tilted.sum() <= 0:
            tilted = base.copy()
            notes.append("every unit was cut to zero; tilt discarded")
        tilted = tilted / tilted.sum()
        sharpe_base = sharpe_ratio(r @ base)
        sharpe_tilt = sharpe_ratio(r @ tilted)
        improvement = sharpe_tilt - sharpe_base
        adopted = bool(notes) and improvement >= p.min_improvement
        weights = tilted if adopted else base
        notes.append(
            f"tilt {'adopted' if adopted else 'rejected'}: window Sharpe {sharpe_base:.3f} -> "
            f"{sharpe_tilt:.3f} (improvement {improvement:+.3f}, min {p.min_improvement})"
        )
        return EngineResult(
            engine=self.name,
            weights={u: float(w) for u, w in zip(units, weights)},
            notes=notes,
            exclusions=exclusions,
            diagnostics={"sharpe_base": sharpe_base, "sharpe_tilted": sharpe_tilt,
                         "improvement": improvement, "adopted": float(adopted)},
        )
