"""Exact Euclidean projection onto the capped simplex ``{w : lo <= w <= hi, sum(w) = s}``.

Clipping and then renormalising breaks the caps (renormalising pushes a clipped weight back
over its cap); the projection meets every bound and the sum exactly.
"""

from __future__ import annotations

import numpy as np

from src.errors import InfeasibleError

SUM_TOLERANCE = 1e-12


def project_capped_simplex(
    v: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float, total: float = 1.0
) -> np.ndarray:
    """Closest point to ``v`` (in the Euclidean norm) with ``lower <= w <= upper`` and
    ``sum(w) == total``.

    The solution is ``w = clip(v - tau, lower, upper)`` for the scalar ``tau`` at which the
    sum equals ``total``. The sum is piecewise linear and non-increasing in ``tau``, with
    breakpoints at ``v - upper`` and ``v - lower``; ``tau`` is found exactly by sorting the
    breakpoints and solving the linear piece that contains the answer.

    Parameters
    ----------
    v : numpy.ndarray
        The point to project (finite).
    lower, upper : float or numpy.ndarray
        Bounds per coordinate (``lower <= upper``).
    total : float
        Required sum.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InfeasibleError
        If ``sum(lower) > total`` or ``sum(upper) < total``.
    ValueError
        If an input is not finite or a lower bound exceeds its upper bound.
    """
    v = np.asarray(v, dtype=float)
    lo = np.broadcast_to(np.asarray(lower, dtype=float), v.shape).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=float), v.shape).copy()
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("project_capped_simplex: v, lower and upper must be finite")
    if np.any(lo > hi):
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"lower[{i}]={lo[i]} exceeds upper[{i}]={hi[i]}")
    if lo.sum() > total + SUM_TOLERANCE:
        raise InfeasibleError(f"lower bounds sum to {lo.sum():.6g} > total {total}")
    if hi.sum() < total - SUM_TOLERANCE:
        raise InfeasibleError(f"upper bounds sum to {hi.sum():.6g} < total {total}")

    breaks = np.unique(np.concatenate([v - hi, v - lo]))

    # The sum at each breakpoint is non-increasing in tau; find consecutive breakpoints
    # a <= tau <= b that bracket ``total``.
    sums = np.clip(v[None, :] - breaks[:, None], lo, hi).sum(axis=1)
    idx = np.searchsorted(-sums, -total, side="left")  # first breakpoint whose sum <= total
    if idx == 0:
        tau = breaks[0]
    elif idx >= len(breaks):
        tau = breaks[-1]
    else:
        a, b = breaks[idx - 1], breaks[idx]
        sa, sb = sums[idx - 1], sums[idx]
        tau = a if sa == sb else a + (sa - total) * (b - a) / (sa - sb)
    w = np.clip(v - tau, lo, hi)
    # Spread the last rounding error over the coordinates that are strictly inside bounds.
    free = (w > lo) & (w < hi)
    if free.any():
        w[free] += (total - w.sum()) / free.sum()
        w = np.clip(w, lo, hi)
    return w
