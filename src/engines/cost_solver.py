"""The cost-aware trade: solver and exact no-trade condition (see ``src/engines/cost_aware.py``).

Minimises ``a * x' Sigma x + sum_i c_i |Delta_i| + k * sum_i |Delta_i| ** 1.5`` with
``x = w + Delta - w*`` over ``w + Delta >= 0`` and ``sum(w + Delta) <= budget`` (``==`` when idle
cash is invested), by coordinate descent with exact one-dimensional steps and Brent's method on
the budget multiplier.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
from scipy.optimize import brentq

# Slack on the no-trade comparisons and the budget, so float noise at an edge is not a trade.
COST_EPS = 1e-12
# Coordinate descent stops when no weight moves by more than this.
SOLVE_TOL = 1e-14
MAX_SWEEPS = 100_000


def objective(delta: np.ndarray, w: np.ndarray, wstar: np.ndarray, sigma: np.ndarray, cost: np.ndarray,
              scale: float, impact: float = 0.0) -> float:
    """``a x' Sigma x + sum c |Delta| + k sum |Delta| ** 1.5`` with ``x = w + Delta - w*``."""
    x = w + delta - wstar
    ad = np.abs(delta)
    return float(scale * x @ sigma @ x + cost @ ad + impact * np.sum(ad ** 1.5))


def _step(a: float, b: float, c: float, k: float, lo: float, hi: float) -> float:
    """Exact argmin over ``t in [lo, hi]`` of ``a t^2 + b t + c|t| + k|t|^1.5`` (a, c, k >= 0).

    For ``t > 0`` the slope ``2 a t + b + c + 1.5 k sqrt(t)`` vanishes at ``t = s^2`` with
    ``s = -2 (b + c) / (1.5 k + sqrt(2.25 k^2 - 8 a (b + c)))`` (the cancellation-free form of the
    quadratic's root); symmetrically for ``t < 0``. Convex in one variable, so clipping the
    unconstrained minimiser to the interval gives the constrained one.
    """
    if b + c < 0.0:
        den = 1.5 * k + np.sqrt(2.25 * k * k - 8.0 * a * (b + c))
        t = hi if den <= 0.0 else (2.0 * (b + c) / den) ** 2
    elif b - c > 0.0:
        den = 1.5 * k + np.sqrt(2.25 * k * k + 8.0 * a * (b - c))
        t = lo if den <= 0.0 else -((2.0 * (b - c) / den) ** 2)
    else:
        t = 0.0
    return min(max(t, lo), hi)


def _descend(d: np.ndarray, grad: np.ndarray, twice_scaled: np.ndarray, cost: np.ndarray, impact: float,
             mu: float, lo: np.ndarray, hi: np.ndarray) -> None:
    """Coordinate descent in place on ``d`` (``grad = 2 a Sigma x`` kept in step)."""
    n = len(d)
    diag = [0.5 * twice_scaled[i, i] for i in range(n)]
    cols = [twice_scaled[:, i] for i in range(n)]
    for _ in range(MAX_SWEEPS):
        moved = 0.0
        for i in range(n):
            di = d[i]
            b = grad[i] - 2.0 * diag[i] * di + mu
            t = _step(diag[i], b, cost[i], impact, lo[i], hi[i])
            if t != di:
                grad += (t - di) * cols[i]
                d[i] = t
                moved = max(moved, abs(t - di))
        if moved <= SOLVE_TOL:
            return


def solve_trade(w: np.ndarray, wstar: np.ndarray, sigma: np.ndarray, cost: np.ndarray, scale: float,
                impact: float = 0.0, budget: float = 1.0, equality: bool = False) -> tuple[np.ndarray, float]:
    """The optimal trade ``Delta*`` and the budget multiplier ``mu``.

    Parameters
    ----------
    w, wstar : numpy.ndarray
        Current and reference weights (fractions of NAV, ``w >= 0``).
    sigma : numpy.ndarray
        Annualised covariance (symmetric positive semi-definite).
    cost : numpy.ndarray
        Cost per unit of turnover of each unit (fraction of notional, >= 0).
    scale : float
        ``risk_aversion * horizon_years`` (> 0).
    impact : float
        Impact coefficient ``k`` (>= 0).
    budget : float
        Largest total weight after the trade (>= 0).
    equality : bool
        The total weight after the trade must equal ``budget`` (idle cash is invested); ``mu``
        may then be negative.

    Returns
    -------
    (numpy.ndarray, float)
        ``Delta*`` with ``w + Delta* >= 0`` and ``sum(w + Delta*) <= budget`` (``==`` with
        ``equality``), and ``mu``.
    """
    w, wstar, cost = (np.asarray(v, dtype=float) for v in (w, wstar, cost))
    sigma = np.asarray(sigma, dtype=float)
    if not (np.all(np.isfinite(sigma)) and np.all(np.isfinite(w)) and np.all(np.isfinite(wstar))):
        raise ValueError("solve_trade: w, wstar and sigma must be finite")
    if np.any(w < 0) or np.any(cost < 0) or scale <= 0 or impact < 0 or budget < 0:
        raise ValueError(f"solve_trade: need w >= 0, cost >= 0, scale > 0, impact >= 0, budget >= 0 "
                         f"(scale={scale}, impact={impact}, budget={budget})")
    lo, hi = -w, np.maximum(budget - w, -w)
    twice_scaled = 2.0 * scale * sigma
    d = np.zeros_like(w)
    grad = twice_scaled @ (w - wstar)

    def excess(mu: float) -> float:
        _descend(d, grad, twice_scaled, cost, impact, mu, lo, hi)
        return float(np.sum(w + d) - budget)

    mu = 0.0
    if excess(0.0) > COST_EPS:
        # Raising mu only lowers every coordinate's optimum, so the invested sum falls with mu.
        low, high = 0.0, 1e-6
        while excess(high) > 0.0:
            low, high = high, high * 4.0
        mu = high if excess(high) == 0.0 else brentq(excess, low, high, xtol=1e-16, rtol=1e-15, maxiter=500)
        over = excess(mu)
        if over > 0.0:  # the root is exact to ~1e-16 in mu; trim what is left from the largest buy
            i = int(np.argmax(d))
            d[i] -= min(over, d[i] - lo[i])
    elif equality and excess(0.0) < -COST_EPS:
        # Under-invested: a negative mu (a subsidy on buying) until the invested sum reaches budget.
        high, low = 0.0, -1e-6
        while excess(low) < 0.0 and low > -1e6:
            high, low = low, low * 4.0
        mu = low if excess(low) == 0.0 else brentq(excess, low, high, xtol=1e-16, rtol=1e-15, maxiter=500)
        excess(mu)
    return d, mu


class NoTradeCheck(NamedTuple):
    """Outcome of :func:`no_trade_check`: ``buy``/``sell`` index the units whose trade pays."""

    inside: bool
    gradient: np.ndarray
    buy: Optional[int] = None
    sell: Optional[int] = None


def no_trade_check(w: np.ndarray, wstar: np.ndarray, sigma: np.ndarray, cost: np.ndarray, scale: float,
                   budget: float) -> NoTradeCheck:
    """Whether ``Delta = 0`` is optimal (the exact condition of the module docstring).

    With cash to spend (``sum(w) < budget``) ``mu = 0``: a buy pays if ``-g_i > c_i``, a sale of
    a held unit if ``g_i > c_i``. Fully invested: no trade iff
    ``max(0, max_i(-c_i - g_i)) <= min_held(c_i - g_i)``; otherwise either a sale pays on its own
    (``g_j > c_j``) or buying ``i`` funded by selling ``j`` does (``g_j - g_i > c_i + c_j``).
    """
    g = 2.0 * scale * sigma @ (w - wstar)
    held = w > 0
    can_buy = w < budget - COST_EPS
    buy_gain = np.where(can_buy, -g - cost, -np.inf)
    sell_gain = np.where(held, g - cost, -np.inf)
    i = int(np.argmax(buy_gain)) if can_buy.any() else None
    j = int(np.argmax(sell_gain)) if held.any() else None
    if np.sum(w) < budget - COST_EPS:
        buy_pays = i is not None and buy_gain[i] > COST_EPS
        sell_pays = j is not None and sell_gain[j] > COST_EPS
        if not (buy_pays or sell_pays):
            return NoTradeCheck(True, g)
        return NoTradeCheck(False, g, i if buy_pays else None, j if sell_pays else None)
    if j is not None and sell_gain[j] > COST_EPS:
        return NoTradeCheck(False, g, None, j)
    if i is not None and j is not None and buy_gain[i] + sell_gain[j] > COST_EPS:
        # -c_i - g_i > c_j - g_j: the switch from j into i removes more risk than it costs.
        return NoTradeCheck(False, g, i, j)
    return NoTradeCheck(True, g)
