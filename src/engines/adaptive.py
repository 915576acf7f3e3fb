"""Adaptive rebalancing: tilt the configured targets using recent registry performance.

Formula (over the last ``performance_window`` daily returns of each unit):

1. Volatility cut: every unit with annualised volatility ``sigma_i`` above
   ``volatility_threshold`` gets a multiplier ``m_i = volatility_threshold / sigma_i``
   (others ``m_i = 1``).
2. Correlation de-weighting: for every pair with correlation ``rho > correlation_threshold``,
   the unit with the lower window Sharpe ratio has its multiplier multiplied by
   ``(1 - rho) / (1 - correlation_threshold)`` (1 at the threshold, 0 at rho = 1).
3. Tilted weights: ``w_i = t_i * m_i / sum_j t_j * m_j`` for configured targets ``t``.
4. Adoption with hysteresis: let ``d`` be the window Sharpe at the tilted weights minus that at
   the configured targets. A tilt not in force is adopted once ``d >= min_improvement +
   adoption_margin`` on ``confirmations`` consecutive checks; a tilt in force is dropped once
   ``d < min_improvement - adoption_margin`` on as many checks. While a tilt stays in force its
   targets move only when some unit's new tilted weight is ``tilt_tolerance`` or more away from
   the target in force *and* the new tilt's window Sharpe beats the tilt in force by
   ``min_improvement + adoption_margin``; of a correlated pair, the unit de-weighted stays the
   same unless the other is now weaker by ``adoption_margin`` in Sharpe. (Without this the targets flip with every window and the drift trigger
   trades each flip: 478% turnover a year on 10 stocks.)

A unit with fewer than ``performance_window`` returns is held at its configured target (recorded
in the exclusions) and the tilt applies to the others' share; if no unit has enough, the
configured targets stand.
"""

from __future__ import annotations

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import CheckFrequencyGate, DriftBandTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.params import AdaptiveParams
from src.utils.performance import annualization_days, sharpe_ratio


class AdaptiveEngine(RebalancingEngine):
    """Configured targets, tilted away from volatile and redundant units when that pays."""

    name = "adaptive"

    @property
    def params(self) -> AdaptiveParams:
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        return CheckFrequencyGate(self.params.check_frequency) & DriftBandTrigger(self.params.min_drift)

    @property
    def history_days(self) -> int:
        return self.params.performance_window

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        p = self.params
        window, exclusions = ctx.measured_window(self.config.units, p.performance_window,
                                                 "adaptive performance_window")
        held = {e.unit: self.config.target_allocations[e.unit] for e in exclusions}
        units = list(window.columns)
        if len(units) < 2:
            return EngineResult(engine=self.name, weights=dict(self.config.target_allocations), exclusions=exclusions,
                                notes=["fewer than two units with a full window: configured targets"])
        r = window.to_numpy()
        share = 1.0 - sum(held.values())
        base = np.array([self.config.target_allocations[u] for u in units])
        base = base / base.sum()
        year = annualization_days(window.index)  # 365 on crypto's every-day calendar, 252 on an exchange's
        vol = r.std(axis=0, ddof=1) * np.sqrt(year)
        sharpe = np.array([sharpe_ratio(r[:, i], periods=year) for i in range(len(units))])
        mult = np.where(vol > p.volatility_threshold, p.volatility_threshold / np.where(vol > 0, vol, 1.0), 1.0)
        notes = [f"{u}: volatility {v:.3f} > {p.volatility_threshold} -> x{m:.3f}"
                 for u, v, m in zip(units, vol, mult) if m < 1.0]
        with np.errstate(invalid="ignore", divide="ignore"):
            # a unit flat over the window (a sleeve in cash) has no correlation: NaN, skipped below
            corr = np.corrcoef(r, rowvar=False) if len(units) > 1 else np.ones((1, 1))
        weaker_memory: dict[str, float] = {}
        for i in range(len(units)):
            for j in range(i + 1, len(units)):
                rho = corr[i, j]
                if np.isfinite(rho) and rho > p.correlation_threshold:
                    weaker = i if sharpe[i] < sharpe[j] else j
                    # Which of a correlated pair is "weaker" flips with every wobble of two close
                    # Sharpe ratios (on crypto, daily): keep the previous choice unless the other
                    # unit is now weaker by more than adoption_margin.
                    key = f"adaptive.weaker.{units[i]}~{units[j]}"
                    before = ctx.state.memory.get(key)
                    if before is not None and abs(sharpe[i] - sharpe[j]) < p.adoption_margin:
                        weaker = i if before == 0.0 else j
                    weaker_memory[key] = 0.0 if weaker == i else 1.0
                    factor = (1.0 - rho) / (1.0 - p.correlation_threshold)
                    mult[weaker] *= factor
                    notes.append(f"{units[i]}~{units[j]} rho {rho:.3f}: {units[weaker]} x{factor:.3f}")
        tilted = base * mult
        if tilted.sum() <= 0:
            tilted = base.copy()
            notes.append("every unit was cut to zero; tilt discarded")
        tilted = tilted / tilted.sum()
        sharpe_base = sharpe_ratio(r @ base, periods=year)
        sharpe_tilt = sharpe_ratio(r @ tilted, periods=year)
        improvement = sharpe_tilt - sharpe_base
        memory = ctx.state.memory
        was = memory.get("adaptive.adopted", 0.0) == 1.0
        if was:
            wants = bool(notes) and improvement >= p.min_improvement - p.adoption_margin
        else:
            wants = bool(notes) and improvement >= p.min_improvement + p.adoption_margin
        streak = memory.get("adaptive.streak", 0.0) + 1.0 if wants != was else 0.0
        adopted = wants if streak >= p.confirmations or (wants == was) else was
        if adopted != was:
            streak = 0.0
        weights = tilted if adopted else base
        previous = np.array([memory.get(f"adaptive.w.{u}", np.nan) for u in units])
        kept = False
        if adopted and was and np.all(np.isfinite(previous)) and previous.sum() > 0:
            # A tilt in force is replaced only by one that is worth the trade: different by at
            # least tilt_tolerance somewhere, and better than the tilt in force by the same Sharpe
            # gain that adopting a tilt needs.
            small = np.max(np.abs(weights - previous)) < p.tilt_tolerance
            gain = sharpe_tilt - sharpe_ratio(r @ (previous / previous.sum()), periods=year)
            kept = small or gain < p.min_improvement + p.adoption_margin
        if kept:
            weights = previous
        notes.append(
            f"tilt {'in force' if adopted else 'not in force'}: window Sharpe {sharpe_base:.3f} -> "
            f"{sharpe_tilt:.3f} (improvement {improvement:+.3f}, adopt at {p.min_improvement + p.adoption_margin:.3f}, "
            f"drop below {p.min_improvement - p.adoption_margin:.3f}, {int(streak)}/{p.confirmations} checks towards a "
            f"change){'; targets kept within tilt_tolerance' if kept else ''}"
        )
        new_memory = {"adaptive.adopted": float(adopted), "adaptive.streak": streak, **weaker_memory,
                      **{f"adaptive.w.{u}": float(w) for u, w in zip(units, weights)}}
        return EngineResult(
            engine=self.name,
            weights={**{u: float(w) * share for u, w in zip(units, weights)}, **held},
            notes=notes,
            exclusions=exclusions,
            diagnostics={"sharpe_base": sharpe_base, "sharpe_tilted": sharpe_tilt,
                         "improvement": improvement, "adopted": float(adopted)},
            memory=new_memory,
        )
