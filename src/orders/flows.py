"""Cash flows as rebalancing: a deposit buys the most underweight units first, a withdrawal sells
the most overweight first; nothing else trades in a cash-flow cycle (pure, no I/O).

Both are water-filling on *relative* drift (a unit's distance from its target value as a fraction
of that target): a deposit lifts the most underweight unit until it is as underweight as the next,
then both, and so on until the money is spent; a withdrawal trims the most overweight the same way
until the cash is raised. Money left once every unit is on target (a deposit larger than the
underweights) is spread by target weight; cash still missing once no unit is overweight is raised
by target weight. What the flow cannot fix (overweights on a deposit, underweights on a
withdrawal) is left to the regular trigger at its next check.
"""

from __future__ import annotations

import numpy as np

from src.models.trading_models import FeeModel, PortfolioState


def water_fill(excess: np.ndarray, targets: np.ndarray, budget: float) -> np.ndarray:
    """Amounts (>= 0, summing to ``min(budget, excess.sum())``) that cut the largest relative
    excesses ``excess / targets`` first, down to a common level."""
    budget = min(budget, float(excess.sum()))
    if budget <= 0:
        return np.zeros_like(excess)
    relative = np.where(targets > 0, excess / np.where(targets > 0, targets, 1.0), 0.0)
    lo, hi = 0.0, float(relative.max())
    for _ in range(200):  # bisection on the common level; 200 halvings reach float precision
        level = (lo + hi) / 2.0
        used = float(np.sum(np.maximum(relative - level, 0.0) * targets))
        lo, hi = (lo, level) if used >= budget else (level, hi)
    amounts = np.maximum(relative - hi, 0.0) * targets
    return amounts * (budget / amounts.sum()) if amounts.sum() > 0 else amounts


def flow_targets(state: PortfolioState, targets: dict[str, float], flow: float, fee_model: FeeModel,
                 reserve_bps: float = 0.0) -> dict[str, float]:
    """Target weights (of today's total value) that trade only the cash flow ``flow``.

    Parameters
    ----------
    state : PortfolioState
        The account; for a deposit its cash already holds the money, for a withdrawal not yet
        taken out.
    targets : dict
        The final targets (after the risk limits).
    flow : float
        The deposit (> 0) or withdrawal (< 0) of this cycle.
    fee_model, reserve_bps
        Fees (and the broker's slippage reserve) kept back from what a deposit buys, and added
        to what a withdrawal sells, so the money is there after costs.
    """
    units = sorted(set(targets) | set(state.holdings))
    total = state.total_value()
    values = np.array([state.holdings.get(u, 0.0) * state.prices[u] for u in units])
    weights = np.array([targets.get(u, 0.0) for u in units])
    cost = fee_model.bps / 10_000.0 + reserve_bps / 10_000.0
    if flow > 0:
        after = total
        idle = state.cash - (1.0 - weights.sum()) * after  # cash above the target's cash share
        budget = max(0.0, idle / (1.0 + cost) - fee_model.fixed * len(units))
        gaps = np.maximum(weights * after - values, 0.0)
        buys = water_fill(gaps, weights * after, budget)
        rest = budget - buys.sum()
        if rest > 0 and weights.sum() > 0:
            buys = buys + rest * weights / weights.sum()
        new = values + buys
    else:
        after = total + flow  # the value once the money is out
        need = max(0.0, -flow - state.cash)
        gross = need / max(1.0 - cost, 1e-9) + fee_model.fixed * len(units) if need > 0 else 0.0
        excess = np.maximum(values - weights * after, 0.0)
        sells = water_fill(excess, np.maximum(weights * after, 1e-12), gross)
        rest = gross - sells.sum()
        if rest > 0:
            left = values - sells
            share = weights * (left > 0)
            sells = sells + (rest * share / share.sum() if share.sum() > 0 else rest * left / left.sum())
        new = np.maximum(values - sells, 0.0)
    return {u: float(v / total) for u, v in zip(units, new) if v > 0 or u in targets}
