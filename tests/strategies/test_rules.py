"""Rule-based strategies: no look-ahead, correct mechanics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.strategies import rules
from src.strategies.ml import ml_selector, ridge_fit
from src.utils.market_data import load_prices, simple_returns

RULES = [rules.sma_crossover, rules.rsi_mean_reversion, rules.macd_trend,
         rules.cross_sectional_momentum, rules.low_volatility, ml_selector]


def test_weights_to_returns_when_weight_set_today_then_earns_tomorrow():
    idx = pd.date_range("2020-01-01", periods=4)
    returns = pd.DataFrame({"A": [0.0, 0.10, 0.20, 0.30]}, index=idx)
    weights = pd.DataFrame({"A": [1.0, 1.0, 0.0, 0.0]}, index=idx)
    out = rules.weights_to_returns(weights, returns, cost_bps=0.0)
    assert list(out.index) == list(idx[1:])
    assert out.tolist() == pytest.approx([0.10, 0.20, 0.0])


def test_weights_to_returns_when_weights_change_then_cost_charged():
    idx = pd.date_range("2020-01-01", periods=3)
    returns = pd.DataFrame({"A": [0.0, 0.0, 0.0]}, index=idx)
    weights = pd.DataFrame({"A": [1.0, 0.0, 0.0]}, index=idx)
    out = rules.weights_to_returns(weights, returns, cost_bps=10.0)
    assert out.tolist() == pytest.approx([0.0, -0.001])  # selling 1.0 costs 10 bps the next day


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_when_future_prices_changed_then_past_weights_unchanged(rule):
    prices = load_prices("index" if rule is rules.sma_crossover else "stocks").loc["2000":"2004"]
    cut = prices.index[900]
    altered = prices.copy()
    altered.loc[altered.index > cut] *= 1.5  # a different future must not change the past
    a = rule(prices).loc[:cut].fillna(-1.0)
    b = rule(altered).loc[:cut].fillna(-1.0)
    pd.testing.assert_frame_equal(a, b)


def test_rsi_when_only_gains_then_100_and_only_losses_then_0():
    up = pd.DataFrame({"A": np.arange(1.0, 40.0)})
    down = pd.DataFrame({"A": np.arange(40.0, 1.0, -1.0)})
    assert rules.rsi(up)["A"].iloc[-1] == 100.0
    assert rules.rsi(down)["A"].iloc[-1] == pytest.approx(0.0)


def test_rule_weights_when_invested_then_long_only_and_at_most_fully_invested():
    prices = load_prices("stocks").loc["2010":"2012"]
    for rule in RULES[1:]:
        w = rule(prices).dropna(how="all")
        assert (w >= 0).all().all() and (w.sum(axis=1) <= 1 + 1e-12).all()


def test_ridge_fit_when_exact_linear_data_and_no_penalty_then_recovers_coefficients():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    y = x @ np.array([2.0, -1.0]) + 0.5
    assert ridge_fit(x, y, alpha=0.0) == pytest.approx([2.0, -1.0, 0.5])


def test_strategy_returns_when_built_then_start_after_warmup():
    prices = load_prices("index")
    out = rules.weights_to_returns(rules.sma_crossover(prices), simple_returns(prices))
    assert out.index[0] > prices.index[199]
