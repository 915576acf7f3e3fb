"""The risk stage: check engine weights against the nine limits; shrink or block, never invent.

Rules, in evaluation order (each limit yields one ``RiskVerdict``):

1. History: a unit with fewer than ``min_history_days`` returns in the lookback is dropped
   (``INSUFFICIENT_HISTORY``): missing data fails closed.
2. ``min_strategy_sharpe``: units whose lookback Sharpe is lower are dropped.
3. ``max_strategy_drawdown``: units whose lookback max drawdown is deeper are dropped.
4. ``max_correlation_pair``: pairs above the limit, most correlated first: the unit with the
   lower Sharpe is dropped (a correlation is a property of the units, not of the weights, so
   only removing one of the pair meets it).
5. ``max_portfolio_leverage``: gross exposure above the limit is scaled down to it.
6. ``max_single_strategy`` / ``min_single_strategy``: the surviving weights are projected
   exactly onto ``{w : min <= w <= max, sum(w) = s}`` where ``s`` is their own sum (the gross
   exposure when nothing was dropped, so ``sum(w) = 1`` for a fully invested engine). Weight of
   dropped units goes to cash, never to the survivors; if the survivors cannot hold ``s``
   (``n * max < s``), the excess stays in cash too. Only ``n * min`` above the leverage limit
   blocks.
7. ``max_avg_correlation``: the weight-averaged pairwise correlation
   ``sum_{i!=j} w_i w_j rho_ij / sum_{i!=j} w_i w_j`` above the limit blocks.
8. ``min_portfolio_sharpe`` / ``max_portfolio_drawdown``: measured on the lookback returns of
   the final weights (held constant); a breach blocks, since no shrinking of weights makes a
   weak portfolio strong.

Blocked means: no weights, no orders; ``block_reason`` names the limit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from src.models.portfolio_models import (
    ReasonCode,
    RiskAction,
    RiskDecision,
    RiskLimits,
    RiskStatus,
    RiskVerdict,
)
from src.risk.projection import project_capped_simplex
from src.utils.performance import max_drawdown, sharpe_ratio

TOL = 1e-9


def _verdict(limit: str, value: float | None, threshold: float, action: RiskAction, code: ReasonCode,
             message: str, units: list[str] | None = None) -> RiskVerdict:
    return RiskVerdict(limit=limit, value=value, threshold=threshold, action=action,
                       reason_code=code, units=units or [], message=message)


class _Stage:
    """Working state of one evaluation (kept private; the public API is ``apply_risk_limits``)."""

    def __init__(self, weights: dict[str, float], returns: pd.DataFrame, limits: RiskLimits,
                 lookback: int, min_history: int) -> None:
        self.limits = limits
        self.units = [u for u, w in weights.items() if w > 0]
        self.engine_weights = weights
        self.alive = set(self.units)
        self.verdicts: list[RiskVerdict] = []
        self.window = returns.reindex(columns=self.units).iloc[-lookback:]
        self.min_history = min_history
        self.sharpe: dict[str, float] = {}
        self.drawdown: dict[str, float] = {}

    def drop(self, units: list[str]) -> None:
        self.alive -= set(units)

    def history(self) -> None:
        counts = self.window.notna().sum()
        short = [u for u in self.units if counts[u] < self.min_history]
        self.drop(short)
        for u in self.alive:
            series = self.window[u].dropna().to_numpy()
            self.sharpe[u] = sharpe_ratio(series)
            self.drawdown[u] = max_drawdown(series)
        worst = int(counts.min()) if len(counts) else 0
        self.verdicts.append(_verdict(
            "min_history_days", float(worst), float(self.min_history),
            RiskAction.DROP if short else RiskAction.PASS,
            ReasonCode.INSUFFICIENT_HISTORY if short else ReasonCode.OK,
            f"dropped {short}: fewer than {self.min_history} returns in the lookback" if short
            else "every unit has enough history", short))

    def per_unit(self, limit: str, values: dict[str, float], breach, code: ReasonCode, label: str,
                 side: str) -> None:
        threshold = getattr(self.limits, limit)
        live = {u: values[u] for u in self.units if u in self.alive}
        bad = sorted(u for u, v in live.items() if breach(v, threshold))
        self.drop(bad)
        worst = None
        if live:
            worst = min(live.values()) if code == ReasonCode.STRATEGY_SHARPE_BELOW_MIN else max(live.values())
        detail = ", ".join(f"{u} {live[u]:.3f}" for u in bad)
        self.verdicts.append(_verdict(
            limit, worst, threshold, RiskAction.DROP if bad else RiskAction.PASS,
            code if bad else ReasonCode.OK,
            f"dropped {detail}: {label} {side} {threshold} (their weight goes to cash)" if bad
            else f"every unit's {label} is within {threshold}", bad))

    def correlation(self) -> pd.DataFrame:
        live = [u for u in self.units if u in self.alive]
        corr = self.window[live].dropna().corr()
        return corr

    def correlation_pairs(self) -> None:
        limit = self.limits.max_correlation_pair
        corr = self.correlation()
        live = list(corr.columns)
        pairs = sorted(((corr.iloc[i, j], live[i], live[j]) for i in range(len(live))
                        for j in range(i + 1, len(live))), reverse=True)
        dropped, notes = [], []
        for rho, a, b in pairs:
            if rho > limit and a in self.alive and b in self.alive:
                weaker = a if self.sharpe[a] < self.sharpe[b] else b
                self.drop([weaker])
                dropped.append(weaker)
                notes.append(f"{a}~{b} rho {rho:.3f}: dropped {weaker} (lower Sharpe; its weight goes to cash)")
        top = float(pairs[0][0]) if pairs else None
        self.verdicts.append(_verdict(
            "max_correlation_pair", top, limit, RiskAction.DROP if dropped else RiskAction.PASS,
            ReasonCode.CORRELATION_PAIR_ABOVE_MAX if dropped else ReasonCode.OK,
            "; ".join(notes) if notes else f"no pair above {limit}", dropped))


def _not_evaluated(limits: RiskLimits, names: list[str], why: str) -> list[RiskVerdict]:
    return [_verdict(n, None, getattr(limits, n), RiskAction.BLOCK, ReasonCode.NOT_EVALUATED,
                     f"not evaluated: {why}") for n in names]


def _blocked(stage: _Stage, reason: str, rest: list[str]) -> RiskDecision:
    verdicts = stage.verdicts + _not_evaluated(stage.limits, rest, "an earlier limit blocked")
    return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=verdicts, block_reason=reason)


def apply_risk_limits(
    weights: dict[str, float],
    returns: pd.DataFrame,
    limits: RiskLimits,
    *,
    lookback: int,
    min_history: int,
) -> RiskDecision:
    """Check ``weights`` against every limit; return final weights or a block, with verdicts.

    Parameters
    ----------
    weights : dict
        The engine's weights (non-negative, finite).
    returns : pandas.DataFrame
        Daily returns per unit, dates up to the event.
    limits : RiskLimits
        The configured limits.
    lookback : int
        Trading days the statistics are measured over.
    min_history : int
        Fewest returns a unit needs inside the lookback.

    Returns
    -------
    RiskDecision
        Weights only ever shrink, are dropped, or are redistributed by the exact projection
        among the engine's own units; no unit the engine did not propose is ever added.
    """
    bad = {u: w for u, w in weights.items() if not (isinstance(w, float | int) and math.isfinite(w) and w >= 0)}
    if bad or not weights or sum(weights.values()) <= 0:
        reason = f"engine weights invalid: {bad or weights}"
        verdict = _verdict("engine_output", None, 0.0, RiskAction.BLOCK, ReasonCode.ENGINE_OUTPUT_INVALID, reason)
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=[verdict], block_reason=reason)

    stage = _Stage(weights, returns, limits, lookback, min_history)
    stage.history()
    stage.per_unit("min_strategy_sharpe", stage.sharpe, lambda v, t: v < t - TOL,
                   ReasonCode.STRATEGY_SHARPE_BELOW_MIN, "Sharpe", "below")
    stage.per_unit("max_strategy_drawdown", stage.drawdown, lambda v, t: v > t + TOL,
                   ReasonCode.STRATEGY_DRAWDOWN_ABOVE_MAX, "max drawdown", "above")
    remaining = ["max_correlation_pair", "max_portfolio_leverage", "max_single_strategy",
                 "min_single_strategy", "max_avg_correlation", "min_portfolio_sharpe", "max_portfolio_drawdown"]
    if not stage.alive:
        return _blocked(stage, "every unit was dropped by the per-unit limits", remaining)
    stage.correlation_pairs()

    gross = sum(stage.engine_weights[u] for u in stage.units)
    total = min(gross, limits.max_portfolio_leverage)
    lev_action = RiskAction.SHRINK if gross > limits.max_portfolio_leverage + TOL else RiskAction.PASS
    stage.verdicts.append(_verdict(
        "max_portfolio_leverage", gross, limits.max_portfolio_leverage, lev_action,
        ReasonCode.LEVERAGE_ABOVE_MAX if lev_action == RiskAction.SHRINK else ReasonCode.OK,
        f"gross {gross:.4f} scaled to {total:.4f}" if lev_action == RiskAction.SHRINK else f"gross {gross:.4f}"))

    units = stage.units
    alive = np.array([u in stage.alive for u in units])
    n = int(alive.sum())
    raw = np.where(alive, np.array([stage.engine_weights[u] for u in units]) * (total / gross), 0.0)
    # Dropped units' weight goes to cash: handing it to the survivors would raise their
    # exposure, and this stage only ever shrinks.
    invested = float(raw.sum())
    capped = min(invested, n * limits.max_single_strategy)
    target_sum = max(capped, n * limits.min_single_strategy)
    if target_sum > limits.max_portfolio_leverage + TOL:
        stage.verdicts.append(_verdict(
            "min_single_strategy", limits.max_portfolio_leverage / n, limits.min_single_strategy, RiskAction.BLOCK,
            ReasonCode.BOUNDS_INFEASIBLE,
            f"{n} unit(s) x min_single_strategy={limits.min_single_strategy} exceeds "
            f"max_portfolio_leverage={limits.max_portfolio_leverage}"))
        return _blocked(stage, f"min_single_strategy infeasible for {n} unit(s)", remaining[4:])
    lo = np.where(alive, limits.min_single_strategy, 0.0)
    hi = np.where(alive, limits.max_single_strategy, 0.0)
    final = project_capped_simplex(raw, lo, hi, target_sum)
    to_cash = invested - capped
    for limit, code, over in (("max_single_strategy", ReasonCode.WEIGHT_ABOVE_MAX, raw > hi + TOL),
                              ("min_single_strategy", ReasonCode.WEIGHT_BELOW_MIN, alive & (raw < lo - TOL))):
        hit = [u for u, o in zip(units, over) if o]
        value = float(raw[alive].max() if limit.startswith("max") else raw[alive].min())
        shrink = bool(hit) or (limit.startswith("max") and to_cash > TOL)
        message = "every weight within bounds"
        if shrink:
            message = f"projected {hit} onto [{limits.min_single_strategy}, {limits.max_single_strategy}]"
            if limit.startswith("max") and to_cash > TOL:
                message += f"; {n} unit(s) can hold at most {capped:.4f}, {to_cash:.4f} stays in cash"
        stage.verdicts.append(_verdict(
            limit, value, getattr(limits, limit), RiskAction.SHRINK if shrink else RiskAction.PASS,
            code if shrink else ReasonCode.OK, message, hit))
    final_weights = {u: float(w) for u, w in zip(units, final) if w > 0}
    return _portfolio_checks(stage, final_weights)


def _portfolio_checks(stage: _Stage, final: dict[str, float]) -> RiskDecision:
    limits = stage.limits
    live = list(final)
    w = np.array([final[u] for u in live])
    window = stage.window[live].dropna()
    avg = None
    if len(live) > 1:
        corr = window.corr().to_numpy()
        outer = np.outer(w, w)
        off = ~np.eye(len(live), dtype=bool)
        avg = float((outer * corr)[off].sum() / outer[off].sum())
    if avg is not None and avg > limits.max_avg_correlation + TOL:
        stage.verdicts.append(_verdict("max_avg_correlation", avg, limits.max_avg_correlation, RiskAction.BLOCK,
                                       ReasonCode.AVG_CORRELATION_ABOVE_MAX,
                                       f"weighted average correlation {avg:.3f} > {limits.max_avg_correlation}"))
        return _blocked(stage, f"max_avg_correlation: {avg:.3f} > {limits.max_avg_correlation}",
                        ["min_portfolio_sharpe", "max_portfolio_drawdown"])
    stage.verdicts.append(_verdict("max_avg_correlation", avg, limits.max_avg_correlation, RiskAction.PASS,
                                   ReasonCode.OK, "single unit" if avg is None else f"weighted average {avg:.3f}"))
    port = window.to_numpy() @ w
    if len(port) < stage.min_history:
        stage.verdicts += _not_evaluated(limits, ["min_portfolio_sharpe", "max_portfolio_drawdown"],
                                         f"only {len(port)} common returns")
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=stage.verdicts,
                            block_reason=f"portfolio history too short ({len(port)} common returns)")
    p_sharpe, p_dd = sharpe_ratio(port), max_drawdown(port)
    blocks = []
    for limit, value, breach, code in (
        ("min_portfolio_sharpe", p_sharpe, p_sharpe < limits.min_portfolio_sharpe - TOL, ReasonCode.PORTFOLIO_SHARPE_BELOW_MIN),
        ("max_portfolio_drawdown", p_dd, p_dd > limits.max_portfolio_drawdown + TOL, ReasonCode.PORTFOLIO_DRAWDOWN_ABOVE_MAX),
    ):
        threshold = getattr(limits, limit)
        stage.verdicts.append(_verdict(limit, value, threshold, RiskAction.BLOCK if breach else RiskAction.PASS,
                                       code if breach else ReasonCode.OK,
                                       f"target portfolio {limit.split('_', 2)[2]} {value:.3f} vs {threshold}"))
        if breach:
            blocks.append(f"{limit}: {value:.3f} vs {threshold}")
    if blocks:
        return RiskDecision(status=RiskStatus.BLOCKED, weights={}, verdicts=stage.verdicts,
                            block_reason="; ".join(blocks))
    changed = any(v.action != RiskAction.PASS for v in stage.verdicts)
    return RiskDecision(status=RiskStatus.ADJUSTED if changed else RiskStatus.APPROVED,
                        weights=final, verdicts=stage.verdicts)
