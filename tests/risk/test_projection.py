"""Exact projection onto {lo <= w <= hi, sum w = s}."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from src.errors import InfeasibleError
from src.risk.projection import project_capped_simplex


def test_project_when_one_weight_over_cap_then_cap_met_exactly_unlike_clip_and_renormalise():
    v = np.array([0.6, 0.3, 0.1])
    w = project_capped_simplex(v, 0.05, 0.4)
    assert w == pytest.approx([0.4, 0.4, 0.2]) and w.sum() == pytest.approx(1.0)
    clipped = np.clip(v, 0.05, 0.4)
    assert (clipped / clipped.sum()).max() > 0.4  # the naive method breaks the cap


def test_project_when_already_feasible_then_unchanged():
    v = np.array([0.3, 0.3, 0.4])
    assert project_capped_simplex(v, 0.05, 0.4) == pytest.approx(v, abs=1e-15)


@pytest.mark.parametrize("lo, hi, fragment", [(0.5, 1.0, "lower bounds sum to 1.5"), (0.0, 0.3, "upper bounds sum to 0.9")])
def test_project_when_infeasible_then_error(lo, hi, fragment):
    with pytest.raises(InfeasibleError, match=fragment):
        project_capped_simplex(np.ones(3) / 3, lo, hi)


def test_project_when_bound_order_wrong_then_error():
    with pytest.raises(ValueError, match=r"lower\[0\]=0.5 exceeds upper\[0\]=0.1"):
        project_capped_simplex(np.ones(2), np.array([0.5, 0.0]), np.array([0.1, 1.0]))


vectors = st.lists(st.floats(min_value=-2, max_value=2, allow_nan=False), min_size=2, max_size=8)


@settings(max_examples=200, deadline=None)
@given(vectors, st.floats(min_value=0.0, max_value=0.2), st.floats(min_value=0.2, max_value=1.0),
       st.floats(min_value=0.5, max_value=1.5))
def test_project_when_any_input_then_bounds_and_sum_exact(v, lo, hi, total):
    n = len(v)
    assume(n * lo <= total <= n * hi)
    w = project_capped_simplex(np.array(v), lo, hi, total)
    assert w.min() >= lo - 1e-15 and w.max() <= hi + 1e-15
    assert w.sum() == pytest.approx(total, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(vectors)
def test_project_when_compared_with_generic_solver_then_no_closer_point_exists(v):
    v = np.array(v)
    n = len(v)
    lo, hi = 0.02, max(0.6, 1.0 / n + 0.01)
    w = project_capped_simplex(v, lo, hi)
    ref = minimize(lambda x: np.sum((x - v) ** 2), np.full(n, 1.0 / n), method="SLSQP",
                   bounds=[(lo, hi)] * n, constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                   options={"ftol": 1e-14, "maxiter": 500})
    assert np.sum((w - v) ** 2) <= np.sum((ref.x - v) ** 2) + 1e-9
