"""The risk-budget solver: exact contributions, bounds, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.engines import ledoit_wolf, risk_budget_weights, risk_contributions
from src.errors import InfeasibleError
from src.utils.market_data import load_prices, simple_returns


@pytest.fixture(scope="module")
def stock_cov() -> np.ndarray:
    returns = simple_returns(load_prices("stocks")).to_numpy()[-504:]
    return ledoit_wolf(returns)[0]


def test_weights_when_equal_budgets_then_contributions_equal_to_1e_10(stock_cov):
    w = risk_budget_weights(stock_cov)
    assert w.sum() == pytest.approx(1.0, abs=1e-14) and (w > 0).all()
    assert np.max(np.abs(risk_contributions(w, stock_cov) - 1 / 20)) < 1e-10


def test_weights_when_custom_budgets_then_contributions_match_to_1e_10(stock_cov):
    budgets = np.arange(1.0, 21.0)
    w = risk_budget_weights(stock_cov, budgets)
    assert np.max(np.abs(risk_contributions(w, stock_cov) - budgets / budgets.sum())) < 1e-10


def test_weights_when_diagonal_cov_then_inverse_volatility():
    cov = np.diag([0.04, 0.01, 0.0025])
    w = risk_budget_weights(cov)
    inv = 1 / np.sqrt(np.diag(cov))
    assert w == pytest.approx(inv / inv.sum(), abs=1e-14)


def test_weights_when_two_assets_correlated_then_closed_form():
    # For two assets equal risk contributions give w1 / w2 = sigma2 / sigma1, whatever rho.
    s1, s2, rho = 0.3, 0.1, 0.6
    cov = np.array([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
    w = risk_budget_weights(cov)
    assert w[0] / w[1] == pytest.approx(s2 / s1, rel=1e-12)


def test_weights_when_bounds_given_then_met_and_sum_one(stock_cov):
    w = risk_budget_weights(stock_cov, min_weight=0.04, max_weight=0.07)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert w.min() >= 0.04 - 1e-12 and w.max() <= 0.07 + 1e-12
    free = (w > 0.04 + 1e-9) & (w < 0.07 - 1e-9)
    rc = risk_contributions(w, stock_cov)
    # units strictly inside their bounds share one ratio of contribution to budget
    assert np.ptp(rc[free] / (1 / 20)) < 1e-6


def test_weights_when_bounds_slack_then_same_as_unconstrained(stock_cov):
    assert risk_budget_weights(stock_cov, min_weight=0.0, max_weight=1.0) == pytest.approx(
        risk_budget_weights(stock_cov), abs=1e-15)


@pytest.mark.parametrize("cov, budgets, error, fragment", [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), None, ValueError, "not positive definite"),
    (np.array([[1.0, 0.1], [0.2, 1.0]]), None, ValueError, "not symmetric"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), None, ValueError, "non-finite"),
    (np.ones((2, 3)), None, ValueError, "square"),
    (np.eye(2), np.array([1.0, 0.0]), ValueError, "budgets must be finite and > 0"),
    (np.eye(2), np.array([1.0]), ValueError, "budgets has shape"),
])
def test_weights_when_input_bad_then_error(cov, budgets, error, fragment):
    with pytest.raises(error, match=fragment):
        risk_budget_weights(cov, budgets)


def test_weights_when_bounds_infeasible_then_error():
    with pytest.raises(InfeasibleError, match="admit no weights"):
        risk_budget_weights(np.eye(3), max_weight=0.3)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=0, max_value=10_000))
def test_weights_when_any_shrunk_real_cov_then_contributions_match(n, start):
    # Property over many real covariance matrices: windows of the 20 stocks' returns.
    returns = simple_returns(load_prices("stocks")).to_numpy()
    start = start % (len(returns) - 300)
    cov, _ = ledoit_wolf(returns[start:start + 250, :n])
    budgets = np.linspace(1.0, 2.0, n)
    w = risk_budget_weights(cov, budgets)
    assert np.max(np.abs(risk_contributions(w, cov) - budgets / budgets.sum())) < 1e-10
