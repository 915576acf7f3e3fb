"""The risk stage: check engine weights against the nine limits, with a verdict for each.

Rules, in evaluation order (each limit yields one ``RiskVerdict``); what a failed limit does is
set by ``RiskPolicy`` (``PortfolioConfig.risk_policy``):

1. History: a unit with fewer than ``min_history_days`` returns in the lookback cannot be
   measured. It is held at the engine's weight and exempt from the trailing limits
   (``INSUFFICIENT_HISTORY``, recorded), so a new account is invested from its first day.
2. Per-unit trailing limits (``min_strategy_sharpe``, ``max_strategy_drawdown``,
   ``max_correlation_pair``) apply to strategy sleeves; to plain assets only with
   ``risk_policy.unit_limits_for_assets``. A breach drops the unit (for a correlated pair, the one
   with the lower Sharpe). Hysteresis: a dropped unit stays out until its figure has recovered
   past the limit by the policy's margin *and* ``min_days_out`` calendar days have passed; the
   exclusions are returned in ``RiskDecision.exclusions`` and passed back in next time.
3. ``max_portfolio_leverage``: gross exposure above the limit is scaled down to it.
4. Dropped weight goes to the survivors in proportion to their weights
   (``on_drop="redistribute"``) or stays in cash (``on_drop="cash"``); then the weights are
   projected exactly onto ``[min_single_strategy, max_single_strategy]`` (what cannot be held
   under the caps stays in cash). Only ``n * min`` above the leverage limit blocks.
5. Portfolio-level limits (``max_avg_correlation``, ``min_portfolio_sharpe``,
   ``max_portfolio_drawdown``), measured on the lookback returns at the final weights, follow
   ``portfolio_limit_action``: ``warn`` (default: recorded, the targets stand), ``block``, or
   ``block_if_worse`` (block only if the targets measure worse than the weights held now).

A limit that cannot bind (a correlation limit of 1 or more) is not computed. Blocked means: no
weights, no orders; ``block_reason`` names the limit.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from src.models.portfolio_models import (
    ReasonCode,
    RiskAction,
    RiskDecision,
    RiskExclusion,
    RiskLimits,
    RiskPolicy,
    RiskStatus,
    RiskVerdict,
)
from src.risk.portfolio_checks import portfolio_checks
from src.risk.projection import project_capped_simplex
from src.risk.stats import column_drawdowns, column_sharpes, correlation_matrix
from src.risk.verdicts import not_evaluated, verdict
from src.utils.performance import annualization_days

TOL = 1e-9
UNIT_LIMITS = ("min_strategy_sharpe", "max_strategy_drawdown", "max_correlation_pair")


def surviving_targets(weights: Mapping[str, float], exclusions: Mapping[str, RiskExclusion],
                      limits: RiskLimits, policy: RiskPolicy) -> dict[str, float]:
    """The engine's targets after the units currently held out, as the risk stage would place them.

    The trigger measures drift against these, so a unit that is held out does not keep the
    drift band armed.
    """
    out = [u for u in weights if u in exclusions]
    if not out:
        return dict(weights)
    units = [u for u, w in weights.items() if w > 0 and u not in exclusions]
    if not units:
        return {}
    raw = np.array([weights[u] for u in units], dtype=float)
    dropped = sum(weights[u] for u in out)
    final = _place(raw, dropped, limits, policy)
    return {u: float(w) for u, w in zip(units, final)}


def _place(raw: np.ndarray, dropped: float, limits: RiskLimits, policy: RiskPolicy) -> np.ndarray:
    """Survivors' weights after the dropped weight is redistributed or sent to cash, within caps."""
    n = len(raw)
    invested = float(raw.sum())
    if policy.on_drop == "redistribute" and invested > 1e-12:  # a tiny sum would overflow the factor
        invested += dropped
        raw = raw * (invested / raw.sum())
    lo, hi = limits.min_single_strategy, limits.max_single_strategy
    target_sum = min(max(invested, n * lo), n * hi)  # what n units can hold between their bounds
    if abs(float(raw.sum()) - target_sum) <= 1e-15 and raw.min() >= lo and raw.max() <= hi:
        return raw  # already feasible: the projection would return it unchanged
    return project_capped_simplex(raw, lo, hi, target_sum)


def _window(returns: pd.DataFrame, units: list[str], lookback: int) -> np.ndarray:
    """The last ``lookback`` rows of ``units`` as a float array (a unit without a column is all NaN)."""
    position = {c: k for k, c in enumerate(returns.columns.tolist())}  # tolist: element access on an Index is slow
    idx = np.array([position.get(u, -1) for u in units], dtype=int)
    data = returns.to_numpy(dtype=float)[-lookback:]
    out = data[:, np.maximum(idx, 0)]
    if (idx < 0).any():
        out = out.copy()
        out[:, idx < 0] = np.nan
    return out


class _UnitStage:
    """Per-unit limits with hysteresis (private; ``apply_risk_limits`` is the API)."""

    def __init__(self, units: list[str], window: np.ndarray, subject: np.ndarray, limits: RiskLimits,
                 policy: RiskPolicy, prior: Mapping[str, RiskExclusion], now: datetime, periods: float) -> None:
        self.units, self.window, self.subject, self.periods = units, window, subject, periods
        self.limits, self.policy, self.prior, self.now = limits, policy, prior, now
        self.alive = np.ones(len(units), dtype=bool)
        self.exclusions: dict[str, RiskExclusion] = {}
        self.verdicts: list[RiskVerdict] = []
        self.sharpe = np.full(len(units), np.nan)
        idx = np.flatnonzero(subject)
        if len(idx):
            self.sharpe[idx] = column_sharpes(window[:, idx], periods)

    def _timed(self, u: str) -> bool:
        since = self.prior[u].since
        return (self.now - since).days >= self.policy.min_days_out

    def apply(self, limit: str, values: np.ndarray, breach, recovered, code: ReasonCode, label: str) -> None:
        threshold = getattr(self.limits, limit)
        dropped, held, readmitted = [], [], []
        for i in np.flatnonzero(self.subject & self.alive):
            u, v = self.units[i], float(values[i])
            earlier = self.prior.get(u)
            if earlier is not None and earlier.limit == limit:
                if recovered(v, threshold) and self._timed(u):
                    readmitted.append(u)
                    continue
                self.alive[i] = False
                self.exclusions[u] = earlier
                held.append(f"{u} {v:.3f}")
            elif breach(v, threshold):
                self.alive[i] = False
                self.exclusions[u] = RiskExclusion.model_construct(unit=u, limit=limit, reason_code=code,
                                                                   since=self.now, value=v)
                dropped.append(f"{u} {v:.3f}")
        live = values[self.subject]
        worst = None if not len(live) else float(np.nanmin(live) if limit == "min_strategy_sharpe" else np.nanmax(live))
        parts = []
        if dropped:
            parts.append(f"dropped {', '.join(dropped)}: {label} beyond {threshold}")
        if held:
            parts.append(f"still held out {', '.join(held)} (readmitted once {label} is past the limit by the "
                         f"margin and {self.policy.min_days_out} days have passed)")
        if readmitted:
            parts.append(f"readmitted {readmitted}: {label} recovered past the margin")
        out = [s.split(" ")[0] for s in dropped + held]
        action = RiskAction.DROP if out else RiskAction.PASS
        reason = code if dropped else ReasonCode.HELD_OUT if held else ReasonCode.READMITTED if readmitted else ReasonCode.OK
        self.verdicts.append(verdict(limit, worst, threshold, action, reason,
                                     "; ".join(parts) or f"every unit's {label} is within {threshold}", out))

    def correlation(self) -> None:
        limit, margin = self.limits.max_correlation_pair, self.policy.readmit_correlation_margin
        idx = np.flatnonzero(self.subject & self.alive)
        if limit >= 1.0 or len(idx) < 2:
            why = "cannot bind (limit >= 1)" if limit >= 1.0 else "fewer than two units it applies to"
            # Units held out for correlation still serve their minimum time out; after it there is
            # no partner left to be correlated with, so they come back.
            held = [self.units[i] for i in idx if self.prior.get(self.units[i]) is not None
                    and self.prior[self.units[i]].limit == "max_correlation_pair" and not self._timed(self.units[i])]
            for u in held:
                self.alive[self.units.index(u)] = False
                self.exclusions[u] = self.prior[u]
            message = f"not computed: {why}" + (f"; still held out {held} (min_days_out)" if held else "")
            self.verdicts.append(verdict("max_correlation_pair", None, limit,
                                         RiskAction.DROP if held else RiskAction.PASS,
                                         ReasonCode.HELD_OUT if held else ReasonCode.OK, message, held))
            return
        corr = correlation_matrix(self.window[:, idx])
        names = [self.units[i] for i in idx]
        keep = np.ones(len(idx), dtype=bool)
        notes, out, readmitted = [], [], []
        # Units held out for correlation come back only when clear of every other unit by the margin.
        for k, u in enumerate(names):
            earlier = self.prior.get(u)
            if earlier is not None and earlier.limit == "max_correlation_pair":
                others = np.delete(corr[k], k)
                top = float(others.max()) if len(others) else -1.0
                recovered, timed = top <= limit - margin + TOL, self._timed(u)
                if recovered and timed:
                    notes.append(f"readmitted {u} (max correlation {top:.3f})")
                    readmitted.append(u)
                else:
                    keep[k] = False
                    self.exclusions[u] = earlier
                    out.append(u)
                    why = (f"max correlation {top:.3f} > {limit - margin:.3f}" if not recovered
                           else f"out since {earlier.since.date()}, min_days_out {self.policy.min_days_out}")
                    notes.append(f"still held out {u} ({why})")
        iu, ju = np.triu_indices(len(idx), k=1)
        rho = corr[iu, ju]
        order = np.argsort(-rho)
        for p in order[rho[order] > limit + TOL]:
            a, b = iu[p], ju[p]
            if keep[a] and keep[b]:
                weaker = a if self.sharpe[idx[a]] < self.sharpe[idx[b]] else b
                keep[weaker] = False
                u = names[weaker]
                out.append(u)
                self.exclusions[u] = RiskExclusion.model_construct(
                    unit=u, limit="max_correlation_pair", reason_code=ReasonCode.CORRELATION_PAIR_ABOVE_MAX,
                    since=self.now, value=float(rho[p]))
                notes.append(f"{names[a]}~{names[b]} rho {rho[p]:.3f}: dropped {u} (lower Sharpe)")
        self.alive[idx[~keep]] = False
        top = float(rho.max()) if len(rho) else None
        code = ReasonCode.CORRELATION_PAIR_ABOVE_MAX if any("dropped" in n for n in notes) else (
            ReasonCode.HELD_OUT if out else ReasonCode.READMITTED if readmitted else ReasonCode.OK)
        self.verdicts.append(verdict("max_correlation_pair", top, limit, RiskAction.DROP if out else RiskAction.PASS,
                                     code, "; ".join(notes) if notes else f"no pair above {limit}", out))


def apply_risk_limits(
    weights: Mapping[str, float],
    returns: pd.DataFrame,
    limits: RiskLimits,
    *,
    lookback: int,
    min_history: int,
    policy: Optional[RiskPolicy] = None,
    strategy_units: Optional[set[str]] = None,
    exclusions: Optional[Mapping[str, RiskExclusion]] = None,
    timestamp: Optional[datetime] = None,
    current_weights: Optional[Mapping[str, float]] = None,
) -> RiskDecision:
    """Check ``weights`` against every limit; return final weights or a block, with verdicts.

    Parameters
    ----------
    weights : mapping
        The engine's weights (non-negative, finite).
    returns : pandas.DataFrame
        Daily returns per unit, dates up to the event.
    limits : RiskLimits
        The configured limits.
    lookback : int
        Trading days the statistics are measured over.
    min_history : int
        Fewest returns a unit needs inside the lookback to be measured.
    policy : RiskPolicy, optional
        What failed limits do (defaults: ``RiskPolicy()``).
    strategy_units : set of str, optional
        Units that are strategy sleeves; None treats every unit as one.
    exclusions : mapping, optional
        Units held out by the previous decision (hysteresis memory).
    timestamp : datetime, optional
        The event's clock (default: the last date of ``returns``).
    current_weights : mapping, optional
        Weights held now (for ``block_if_worse``).

    Returns
    -------
    RiskDecision
        Final weights (empty when blocked), one verdict per limit, warnings and the exclusions
        to carry to the next decision. No unit the engine did not propose is ever added.
    """
    policy = policy or RiskPolicy()
    bad = {u: w for u, w in weights.items() if not (isinstance(w, float | int) and math.isfinite(w) and w >= 0)}
    if bad or not weights or sum(weights.values()) <= 0:
        reason = f"engine weights invalid: {bad or dict(weights)}"
        v = verdict("engine_output", None, 0.0, RiskAction.BLOCK, ReasonCode.ENGINE_OUTPUT_INVALID, reason)
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=[v], block_reason=reason)
    units = [u for u, w in weights.items() if w > 0]
    now = timestamp or (returns.index[-1].to_pydatetime() if len(returns) else datetime.min)
    window = _window(returns, units, lookback)
    periods = annualization_days(returns.index[-lookback:])  # 252 for stocks, 365 for crypto
    counts = (~np.isnan(window)).sum(axis=0) if len(window) else np.zeros(len(units), dtype=int)
    enough = counts >= min_history
    short = [u for u, ok in zip(units, enough) if not ok]
    strategies = set(units) if strategy_units is None else set(strategy_units)
    subject = enough & np.array([u in strategies or policy.unit_limits_for_assets for u in units])
    stage = _UnitStage(units, window, subject, limits, policy, exclusions or {}, now, periods)
    stage.verdicts.append(verdict(
        "min_history_days", float(counts.min()) if len(counts) else 0.0, float(min_history), RiskAction.PASS,
        ReasonCode.INSUFFICIENT_HISTORY if short else ReasonCode.OK,
        f"{short} held at the engine's weight: fewer than {min_history} returns in the lookback, trailing "
        f"limits not evaluated" if short else "every unit has enough history", short))
    stage.apply("min_strategy_sharpe", stage.sharpe, lambda v, t: v < t - TOL,
                lambda v, t: v >= t + policy.readmit_sharpe_margin - TOL, ReasonCode.STRATEGY_SHARPE_BELOW_MIN, "Sharpe")
    drawdowns = np.full(len(units), np.nan)
    idx = np.flatnonzero(subject)
    if len(idx):
        drawdowns[idx] = column_drawdowns(window[:, idx])
    stage.apply("max_strategy_drawdown", drawdowns, lambda v, t: v > t + TOL,
                lambda v, t: v <= t - policy.readmit_drawdown_margin + TOL, ReasonCode.STRATEGY_DRAWDOWN_ABOVE_MAX,
                "max drawdown")
    remaining = ["max_correlation_pair", "max_portfolio_leverage", "max_single_strategy",
                 "min_single_strategy", "max_avg_correlation", "min_portfolio_sharpe", "max_portfolio_drawdown"]
    if not stage.alive.any():
        verdicts = stage.verdicts + not_evaluated(limits, remaining, "an earlier limit blocked")
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=verdicts, exclusions=stage.exclusions,
                            block_reason="every unit was dropped by the per-unit limits")
    stage.correlation()
    if not stage.alive.any():
        verdicts = stage.verdicts + not_evaluated(limits, remaining[1:], "an earlier limit blocked")
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=verdicts, exclusions=stage.exclusions,
                            block_reason="every unit was dropped by the per-unit limits")
    return _size(stage, weights, window, enough, current_weights, returns, lookback)


def _size(stage: _UnitStage, weights: Mapping[str, float], window: np.ndarray, enough: np.ndarray,
          current: Optional[Mapping[str, float]], returns: pd.DataFrame, lookback: int) -> RiskDecision:
    limits, policy, units = stage.limits, stage.policy, stage.units
    engine = np.array([weights[u] for u in units], dtype=float)
    gross = float(engine.sum())
    total = min(gross, limits.max_portfolio_leverage)
    shrunk = gross > limits.max_portfolio_leverage + TOL
    stage.verdicts.append(verdict(
        "max_portfolio_leverage", gross, limits.max_portfolio_leverage,
        RiskAction.SHRINK if shrunk else RiskAction.PASS, ReasonCode.LEVERAGE_ABOVE_MAX if shrunk else ReasonCode.OK,
        f"gross {gross:.4f} scaled to {total:.4f}" if shrunk else f"gross {gross:.4f}"))
    scaled = engine * (total / gross)
    alive = stage.alive
    n = int(alive.sum())
    if n * limits.min_single_strategy > limits.max_portfolio_leverage + TOL:
        stage.verdicts.append(verdict(
            "min_single_strategy", limits.max_portfolio_leverage / n, limits.min_single_strategy, RiskAction.BLOCK,
            ReasonCode.BOUNDS_INFEASIBLE, f"{n} unit(s) x min_single_strategy={limits.min_single_strategy} exceeds "
            f"max_portfolio_leverage={limits.max_portfolio_leverage}"))
        rest = not_evaluated(limits, ["max_avg_correlation", "min_portfolio_sharpe", "max_portfolio_drawdown"],
                             "an earlier limit blocked")
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=stage.verdicts + rest,
                            exclusions=stage.exclusions, block_reason=f"min_single_strategy infeasible for {n} unit(s)")
    raw = scaled[alive]
    dropped = float(scaled[~alive].sum())
    placed = _place(raw, dropped, limits, policy)
    target = raw.sum() + (dropped if policy.on_drop == "redistribute" else 0.0)
    to_cash = float(target - placed.sum())
    alive_units = [u for u, a in zip(units, alive) if a]
    lo, hi = limits.min_single_strategy, limits.max_single_strategy
    for limit, code, hit in (
        ("max_single_strategy", ReasonCode.WEIGHT_ABOVE_MAX, [u for u, w in zip(alive_units, raw) if w > hi + TOL]),
        ("min_single_strategy", ReasonCode.WEIGHT_BELOW_MIN, [u for u, w in zip(alive_units, raw) if w < lo - TOL]),
    ):
        is_max = limit.startswith("max")
        shrink = bool(hit) or (is_max and to_cash > TOL)
        message = "every weight within bounds"
        if shrink:
            message = f"projected {hit} onto [{lo}, {hi}]"
            if is_max and to_cash > TOL:
                message += f"; {n} unit(s) can hold at most {placed.sum():.4f}, {to_cash:.4f} stays in cash"
        value = float(raw.max() if is_max else raw.min())
        stage.verdicts.append(verdict(limit, value, getattr(limits, limit),
                                      RiskAction.SHRINK if shrink else RiskAction.PASS, code if shrink else ReasonCode.OK,
                                      message, hit))
    if dropped > TOL:
        if policy.on_drop == "redistribute":
            where = ("offered to the surviving units in proportion to their weights, within "
                     "max_single_strategy (what they cannot hold stays in cash)")
        else:
            where = "kept in cash (risk_policy.on_drop='cash')"
        cap = stage.verdicts[-2]  # max_single_strategy
        stage.verdicts[-2] = verdict(cap.limit, cap.value, cap.threshold, cap.action, cap.reason_code,
                                     f"{cap.message}; dropped weight {dropped:.4f} {where}", cap.units)
    final = {u: float(w) for u, w in zip(alive_units, placed) if w > 0}
    measured = [u for u, ok in zip(units, enough) if ok and u in final]
    held = None
    if policy.portfolio_limit_action == "block_if_worse" and current:
        # What is held now may include units the engine no longer proposes: measure those too.
        held_units = [u for u, w in current.items() if w > 0]
        held = (_window(returns, held_units, lookback), held_units)
    return portfolio_checks(stage.verdicts, stage.exclusions, final, measured, window, units, limits, policy,
                            current=current, dropped=dropped, held_window=held, periods=stage.periods)
