"""Portfolio-level limits: average correlation, Sharpe and drawdown of the target portfolio.

Measured on the lookback returns at the final weights (held constant), over the units that
have enough history. What a breach does is ``RiskPolicy.portfolio_limit_action``: ``warn``
(the default: a new account is invested into its targets, the breach is recorded in the
verdicts, the event and the dashboard), ``block``, or ``block_if_worse`` (block only when the
targets measure worse than the weights held now, cash counting as a zero return).
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

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
from src.risk.stats import correlation_matrix, weighted_avg_correlation
from src.risk.verdicts import verdict
from src.utils.performance import TRADING_DAYS, max_drawdown, sharpe_ratio

TOL = 1e-9
WORSE = {"max_avg_correlation": 1.0, "min_portfolio_sharpe": -1.0, "max_portfolio_drawdown": 1.0}


def _figures(window: np.ndarray, columns: list[str], weights: Mapping[str, float],
             limits: RiskLimits, periods: float) -> dict[str, Optional[float]]:
    """Average correlation, Sharpe and drawdown of a constant-weight portfolio over ``window``."""
    position = {u: k for k, u in enumerate(columns)}
    units = [u for u in weights if u in position and weights[u] > 0]
    data = window[:, [position[u] for u in units]] if units else np.zeros((len(window), 0))
    if units and np.isnan(data).any():
        data = data[~np.isnan(data).any(axis=1)]
    w = np.array([weights[u] for u in units], dtype=float)
    out: dict[str, Optional[float]] = {"max_avg_correlation": None}
    if len(units) > 1 and limits.max_avg_correlation < 1.0 and len(data) > 2:
        avg = weighted_avg_correlation(correlation_matrix(data), w)
        out["max_avg_correlation"] = None if np.isnan(avg) else avg
    port = data @ w if units else np.zeros(len(window))
    out["rows"] = float(len(port))
    out["min_portfolio_sharpe"] = sharpe_ratio(port, periods) if len(port) >= 2 else None
    out["max_portfolio_drawdown"] = max_drawdown(port) if len(port) else None
    return out


def portfolio_checks(verdicts: list[RiskVerdict], exclusions: dict[str, RiskExclusion], final: dict[str, float],
                     measured: list[str], window: np.ndarray, columns: list[str], limits: RiskLimits,
                     policy: RiskPolicy, *, current: Optional[Mapping[str, float]], dropped: float,
                     held_window: Optional[tuple[np.ndarray, list[str]]] = None,
                     periods: float = TRADING_DAYS) -> RiskDecision:
    """Append the three portfolio-level verdicts and return the stage's decision.

    ``window`` holds the lookback returns of ``columns`` (the units the engine proposed);
    ``periods`` is its calendar's days per year (the Sharpe's annualisation: 252 or 365).
    """
    target = _figures(window, columns, {u: final[u] for u in measured}, limits, periods)
    min_rows = 20
    held = None
    warnings, blocks = [], []
    for limit, code in (("max_avg_correlation", ReasonCode.AVG_CORRELATION_ABOVE_MAX),
                        ("min_portfolio_sharpe", ReasonCode.PORTFOLIO_SHARPE_BELOW_MIN),
                        ("max_portfolio_drawdown", ReasonCode.PORTFOLIO_DRAWDOWN_ABOVE_MAX)):
        threshold = getattr(limits, limit)
        value = target[limit]
        if value is None or target["rows"] < min_rows:
            why = ("cannot bind" if limit == "max_avg_correlation" and limits.max_avg_correlation >= 1.0
                   else f"not measurable ({int(target['rows'])} common returns of units with enough history)")
            verdicts.append(verdict(limit, value, threshold, RiskAction.PASS, ReasonCode.OK, why))
            continue
        breach = (value - threshold) * WORSE[limit] > TOL
        if not breach:
            verdicts.append(verdict(limit, value, threshold, RiskAction.PASS, ReasonCode.OK,
                                     f"target portfolio {value:.3f} vs {threshold}"))
            continue
        text = f"{limit}: target portfolio {value:.3f} vs {threshold}"
        action = RiskAction.WARN
        if policy.portfolio_limit_action == "block":
            action = RiskAction.BLOCK
        elif policy.portfolio_limit_action == "block_if_worse":
            if held is None:
                data, names = held_window if held_window is not None else (window, columns)
                held = _figures(data, names, dict(current or {}), limits, periods)
            now = held[limit] if held[limit] is not None else (0.0 if limit != "max_avg_correlation" else None)
            worse = now is None or (value - now) * WORSE[limit] > TOL
            text += f" (held now: {'n/a' if now is None else f'{now:.3f}'})"
            action = RiskAction.BLOCK if worse else RiskAction.WARN
        if action == RiskAction.BLOCK:
            blocks.append(text)
            message = f"{text}: blocked (risk_policy.portfolio_limit_action={policy.portfolio_limit_action!r})"
        else:
            warnings.append(text)
            message = (f"{text}: warning only, targets kept (set risk_policy.portfolio_limit_action='block' "
                       f"to hold positions instead, or relax risk_limits.{limit})")
        verdicts.append(verdict(limit, value, threshold, action, code, message))
    if blocks:
        return RiskDecision.model_construct(status=RiskStatus.BLOCKED, weights={}, verdicts=verdicts,
                                            block_reason="; ".join(blocks), exclusions=exclusions, warnings=warnings)
    changed = dropped > TOL or any(v.action in (RiskAction.SHRINK, RiskAction.DROP) for v in verdicts)
    return RiskDecision.model_construct(status=RiskStatus.ADJUSTED if changed else RiskStatus.APPROVED,
                                        weights=final, verdicts=verdicts, block_reason=None,
                                        exclusions=exclusions, warnings=warnings)
