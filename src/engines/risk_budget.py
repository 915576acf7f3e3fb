"""Risk-budgeting weights: each unit's share of portfolio variance equals its budget.

Unconstrained, the weights come from Newton's method on the strictly convex problem

    minimise  f(x) = 1/2 x' C x - sum_i b_i log x_i      (x > 0)

whose optimum satisfies ``x_i (C x)_i = b_i`` for every i, so ``w = x / sum(x)`` has relative
risk contributions ``w_i (C w)_i / w' C w`` equal to ``b_i`` (Spinu, F. (2013), "An algorithm
for computing risk parity weights", SSRN 2297383; Roncalli, T. (2013), "Introduction to Risk
Parity and Budgeting"). Newton converges quadratically, so the contributions match the budgets
to machine precision in a handful of iterations; steps are damped by ``1 / (1 + lambda)``
(lambda = Newton decrement) while far from the optimum, which keeps ``x`` positive.

With bounds on the weights, ``w(lam)`` minimises ``1/2 w' C w - lam * sum b_i log w_i`` over
``lower <= w <= upper`` (projected Newton on the box), and ``lam`` is found by Brent's method so
that ``sum(w) = 1``; units at a bound then carry more or less than their budget.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import brentq

from src.errors import InfeasibleError
from src.risk.projection import project_capped_simplex

MAX_NEWTON_STEPS = 200


def _check_inputs(cov: np.ndarray, budgets: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(cov, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise ValueError(f"cov must be a non-empty square matrix, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cov has a non-finite entry")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-14 * np.abs(c).max()):
        raise ValueError("cov is not symmetric")
    n = c.shape[0]
    if budgets is None:
        b = np.full(n, 1.0 / n)
    else:
        b = np.asarray(budgets, dtype=float)
        if b.shape != (n,):
            raise ValueError(f"budgets has shape {b.shape}, expected ({n},)")
        if not np.all(np.isfinite(b)) or np.any(b <= 0):
            raise ValueError(f"budgets must be finite and > 0, got {b.tolist()}")
        b = b / b.sum()
    try:
        cho_factor(c)
    except np.linalg.LinAlgError as exc:
        raise ValueError("cov is not positive definite (shrink it, e.g. with ledoit_wolf)") from exc
    return c, b


def _newton_unconstrained(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = b / np.sqrt(np.diag(c))  # inverse-volatility start, already positive
    x *= math.sqrt(b.sum() / (x @ c @ x))
    for _ in range(MAX_NEWTON_STEPS):
        cx = c @ x
        grad = cx - b / x
        hess = c + np.diag(b / x**2)
        step = cho_solve(cho_factor(hess), grad)
        decrement = math.sqrt(max(float(grad @ step), 0.0))
        if decrement > 0.25:
            x = x - step / (1.0 + decrement)
        else:
            x = x - step
            if decrement < 1e-15:
                break
    return x


def _box_solution(c: np.ndarray, b: np.ndarray, lam: float, lo: np.ndarray, hi: np.ndarray,
                  start: np.ndarray) -> np.ndarray:
    """Projected Newton for min 1/2 w'Cw - lam b'log(w) over lo <= w <= hi (lo > 0)."""
    w = np.clip(start, lo, hi)

    def f(v: np.ndarray) -> float:
        return 0.5 * v @ c @ v - lam * float(b @ np.log(v))

    for _ in range(MAX_NEWTON_STEPS):
        grad = c @ w - lam * b / w
        at_bound = ((w <= lo) & (grad > 0)) | ((w >= hi) & (grad < 0))
        free = ~at_bound
        if not free.any() or np.max(np.abs(grad[free])) <= 1e-14 * max(1.0, lam):
            break
        hess = c[np.ix_(free, free)] + np.diag(lam * b[free] / w[free] ** 2)
        direction = np.zeros_like(w)
        direction[free] = -cho_solve(cho_factor(hess), grad[free])
        step, f0 = 1.0, f(w)
        while step > 1e-12:
            trial = np.clip(w + step * direction, lo, hi)
            if f(trial) <= f0 + 1e-4 * float(grad @ (trial - w)):
                break
            step *= 0.5
        if np.array_equal(trial, w):
            break
        w = trial
    return w


def risk_budget_weights(
    cov: np.ndarray,
    budgets: Optional[np.ndarray] = None,
    min_weight: Optional[float | np.ndarray] = None,
    max_weight: Optional[float | np.ndarray] = None,
) -> np.ndarray:
    """Long-only weights (summing to 1) whose risk contributions equal the budgets.

    Parameters
    ----------
    cov : numpy.ndarray
        Positive-definite covariance matrix (n x n).
    budgets : numpy.ndarray, optional
        Positive risk budget per unit (normalised to sum 1); equal budgets if None.
    min_weight, max_weight : float or numpy.ndarray, optional
        Bounds per unit; with either given, units at a bound deviate from their budget.

    Returns
    -------
    numpy.ndarray
        Weights, ``w >= 0`` and ``sum(w) == 1``.

    Raises
    ------
    ValueError
        If ``cov`` is not symmetric positive definite or the budgets are not positive.
    InfeasibleError
        If the bounds admit no weights summing to 1.
    """
    c, b = _check_inputs(cov, budgets)
    scale = float(np.mean(np.diag(c)))  # conditioning only: weights are scale-invariant
    c = c / scale
    x = _newton_unconstrained(c, b)
    w = x / x.sum()
    if min_weight is None and max_weight is None:
        return w
    n = len(b)
    lo = np.broadcast_to(np.asarray(0.0 if min_weight is None else min_weight, dtype=float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(1.0 if max_weight is None else max_weight, dtype=float), (n,)).copy()
    if np.any(lo > hi) or lo.sum() > 1 + 1e-12 or hi.sum() < 1 - 1e-12:
        raise InfeasibleError(
            f"bounds min_weight={min_weight}, max_weight={max_weight} admit no weights summing to 1 for {n} units"
        )
    if np.all((w >= lo) & (w <= hi)):
        return w
    lo = np.maximum(lo, 1e-12)  # the log barrier needs strictly positive weights

    def excess(log_lam: float) -> float:
        return float(_box_solution(c, b, math.exp(log_lam), lo, hi, w).sum() - 1.0)

    # Without bounds sum(w(lam)) = sqrt(lam) * sum(x), so this centre has sum 1 unbounded.
    centre = -2.0 * math.log(x.sum())
    left, right = centre - 1.0, centre + 1.0
    while excess(left) > 0:
        left -= 2.0
    while excess(right) < 0:
        right += 2.0
    log_lam = brentq(excess, left, right, xtol=1e-14, rtol=1e-15, maxiter=200)
    sol = _box_solution(c, b, math.exp(log_lam), lo, hi, w)
    return project_capped_simplex(sol, lo, hi)  # removes the solver's last rounding of the sum


def risk_contributions(weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Relative risk contribution ``w_i (C w)_i / w' C w`` of each unit (sums to 1)."""
    w = np.asarray(weights, dtype=float)
    c = np.asarray(cov, dtype=float)
    marginal = c @ w
    return w * marginal / float(w @ marginal)
