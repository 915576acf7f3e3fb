"""Cost-aware method: no-trade region, partial trades that stop at marginal benefit = marginal
cost (KKT checked numerically), new money, dust cash, impact, and the solver's properties."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from src.engines import CostAwareEngine, MarketContext, ledoit_wolf, no_trade_check, solve_trade
from src.engines.cost_aware import objective
from src.engines.triggers import CheckFrequencyGate
from src.models.portfolio_models import PortfolioConfig
from src.utils.market_data import asset_prices, load_prices, simple_returns
from tests.conftest import state_at_weights

UNITS = ["KO", "XOM", "JNJ", "AAPL"]
TARGETS = {u: 0.25 for u in UNITS}
TS = datetime(2021, 12, 31)
PRICES = {u: 1.0 for u in UNITS}
COST = 15e-4  # default fee 10 bps + slippage 5 bps


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return simple_returns(asset_prices(UNITS))


@pytest.fixture(scope="module")
def sigma(returns) -> np.ndarray:
    """The annualised Ledoit-Wolf covariance the engine should use at TS (computed here)."""
    return ledoit_wolf(returns[UNITS].loc[:TS].iloc[-252:].to_numpy())[0] * 252


def config(**params) -> PortfolioConfig:
    return PortfolioConfig(name="ca", target_allocations=dict(TARGETS), rebalancing_method="cost_aware",
                           rebalancing_params=params)


def ctx(returns, weights, *, cash=0.0, nav=100_000.0, ts=TS, prices=PRICES) -> MarketContext:
    return MarketContext(timestamp=ts, state=state_at_weights(weights, prices, nav=nav, cash=cash, timestamp=ts),
                         returns=returns)


def shifted(**moves) -> dict[str, float]:
    return {u: 0.25 + moves.get(u, 0.0) for u in UNITS}


def assert_kkt(w0, new, sigma, mu, *, a=1.0, c=COST, k=0.0, tol=1e-10):
    """Marginal benefit = marginal cost for every traded unit; no untouched unit worth trading."""
    wstar = np.full(len(w0), 0.25)
    d = new - w0
    g = 2 * a * sigma @ (new - wstar) + mu
    for i in range(len(d)):
        if d[i] > 1e-12:     # bought: benefit -g_i equals cost c + 1.5 k sqrt(d)
            assert g[i] + c + 1.5 * k * d[i] ** 0.5 == pytest.approx(0.0, abs=tol), i
        elif d[i] < -1e-12 and new[i] > 1e-12:
            assert g[i] - c - 1.5 * k * (-d[i]) ** 0.5 == pytest.approx(0.0, abs=tol), i
        elif abs(d[i]) <= 1e-12:
            assert abs(g[i]) <= c + tol, i


def vec(weights) -> np.ndarray:
    return np.array([weights.get(u, 0.0) for u in UNITS])


def test_when_inside_no_trade_region_then_trigger_quiet_and_engine_holds(returns):
    engine = CostAwareEngine(config())
    c = ctx(returns, shifted(KO=0.005, XOM=-0.005))
    decision = engine.trigger.evaluate(c, {})
    assert not decision.fired and "inside the no-trade region" in decision.reason
    held = vec(shifted(KO=0.005, XOM=-0.005))
    assert vec(engine.calculate_target_weights(c).weights) == pytest.approx(held, abs=1e-14)


def test_when_outside_fully_invested_then_partial_trade_stops_where_benefit_equals_cost(returns, sigma):
    engine = CostAwareEngine(config())
    now = shifted(KO=0.10, XOM=-0.10)
    c = ctx(returns, now)
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired and "KO" in decision.reason
    result = engine.calculate_target_weights(c)
    new = vec(result.weights)
    assert 0.25 < result.weights["KO"] < 0.35 and 0.15 < result.weights["XOM"] < 0.25  # partial, not to target
    assert new.sum() == pytest.approx(1.0, abs=1e-12) and new.min() >= 0
    assert_kkt(vec(now), new, sigma, result.diagnostics["budget_multiplier"])
    d = result.diagnostics
    assert d["objective"] < d["objective_no_trade"] and d["objective"] < d["objective_full_trade"]
    assert d["tracking_error_after"] < d["tracking_error_before"]


def test_when_cash_to_spend_then_kkt_holds_with_budget_slack(returns, sigma):
    # 10% of NAV in cash (all units held): the budget is not binding, so mu = 0.
    now = {"KO": 0.40, "XOM": 0.20, "JNJ": 0.20, "AAPL": 0.10}
    engine = CostAwareEngine(config())
    result = engine.calculate_target_weights(ctx(returns, now, cash=10_000.0))
    w0, new = vec(now), vec(result.weights)
    assert new.sum() < 1.0 and result.diagnostics["budget_multiplier"] == 0.0
    assert_kkt(w0, new, sigma, 0.0)


def test_when_cash_to_spend_then_trigger_is_the_gradient_condition(returns, sigma):
    # With cash available the no-trade region is |2 a (Sigma x)_i| <= c for every held unit.
    engine = CostAwareEngine(config())
    for move in (0.01, 0.02, 0.03, 0.05):
        now = {u: w * 0.95 for u, w in shifted(KO=move, XOM=-move).items()}
        g = 2 * sigma @ (vec(now) - 0.25)
        c = ctx(returns, now, cash=5_000.0)
        assert engine.trigger.evaluate(c, {}).fired == bool(np.any(np.abs(g) > COST)), move


def test_when_zero_cost_then_trades_fully_to_target(returns):
    engine = CostAwareEngine(config(fee_bps=0.0, slippage_bps=0.0))
    c = ctx(returns, shifted(KO=0.10, XOM=-0.04, AAPL=-0.06))
    assert engine.trigger.evaluate(c, {}).fired
    assert vec(engine.calculate_target_weights(c).weights) == pytest.approx(vec(TARGETS), abs=1e-10)


def test_when_cash_is_dust_then_it_is_not_spent_and_only_switches_count(returns):
    # After a fully invested trade the bought units sit at -g = c + mu > c. A state a little
    # inside that edge, with 5 bps of cash left by fees: buying with the dust would "pay" (mu = 0
    # rule), but dust below min_trade_size is not spent, and no switch pays, so no trade.
    engine = CostAwareEngine(config())
    after = engine.calculate_target_weights(ctx(returns, shifted(KO=0.10, XOM=-0.10))).weights
    inside = {u: 0.9995 * (w + 0.1 * (TARGETS[u] - w)) for u, w in after.items()}
    c = ctx(returns, inside, cash=50.0)
    assert not engine.trigger.evaluate(c, {}).fired
    assert vec(engine.calculate_target_weights(c).weights) == pytest.approx(vec(inside), abs=1e-14)
    # the same state with a dust threshold below its cash: buying XOM with it pays
    spend = CostAwareEngine(config(min_trade_size=0.0001)).trigger.evaluate(c, {})
    assert spend.fired and "buying XOM" in spend.reason


def test_when_new_account_all_cash_then_bought_to_targets_exactly(returns):
    engine = CostAwareEngine(config())
    state = state_at_weights({}, PRICES, cash=100_000.0, timestamp=TS)
    c = MarketContext(timestamp=TS, state=state, returns=returns)
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired and "new money: KO, XOM, JNJ, AAPL targeted but not held" in decision.reason
    result = engine.calculate_target_weights(c)
    assert result.weights == pytest.approx(TARGETS, abs=1e-15)
    assert result.diagnostics["new_money"] == pytest.approx(1.0)


def test_when_unit_unheld_and_idle_cash_then_it_is_bought_to_full_target(returns):
    # JNJ is targeted but not held and 25% of NAV is idle: JNJ gets its full 0.25 (a partial
    # trade would stop short of it), the held units are optimised as usual.
    now = {"KO": 0.25, "XOM": 0.25, "AAPL": 0.25}
    engine = CostAwareEngine(config())
    c = ctx(returns, now, cash=25_000.0)
    assert "new money: JNJ" in engine.trigger.evaluate(c, {}).reason
    result = engine.calculate_target_weights(c)
    assert result.weights["JNJ"] == pytest.approx(0.25, abs=1e-15)
    assert vec(result.weights) == pytest.approx(vec(TARGETS), abs=1e-15)
    assert any("new money first: JNJ" in n for n in result.notes)


def test_when_unit_unheld_but_only_dust_cash_then_no_new_money_rule(returns):
    now = {"KO": 0.3330, "XOM": 0.3330, "AAPL": 0.3330}  # 0.1% cash < min_trade_size
    problem = CostAwareEngine(config()).problem(ctx(returns, now, cash=100.0))
    assert problem.new_units == [] and problem.budget == pytest.approx(problem.w.sum())


def test_when_impact_then_kkt_includes_impact_slope_and_trades_less(returns, sigma):
    now = shifted(KO=0.12, XOM=-0.12)
    plain = CostAwareEngine(config()).calculate_target_weights(ctx(returns, now))
    impact = CostAwareEngine(config(impact_coefficient=0.05)).calculate_target_weights(ctx(returns, now))
    assert_kkt(vec(now), vec(impact.weights), sigma, impact.diagnostics["budget_multiplier"], k=0.05)
    assert 0 < impact.diagnostics["turnover"] < plain.diagnostics["turnover"]


def test_when_same_inputs_then_same_result_and_changed_window_is_not_served_from_cache(returns):
    engine = CostAwareEngine(config())
    now = shifted(KO=0.10, XOM=-0.10)
    first = engine.calculate_target_weights(ctx(returns, now))
    assert engine.calculate_target_weights(ctx(returns, now)) == first
    calmer = returns.copy()
    calmer.loc["2021-06-01":"2021-12-31", "KO"] *= 0.5  # same last date, different data
    assert engine.calculate_target_weights(ctx(calmer, now)).weights != first.weights


def test_when_unit_lacks_history_then_kept_at_its_weight_and_recorded(returns):
    gappy = returns.copy()
    gappy.loc["2021-11-01":"2021-11-05", "AAPL"] = np.nan
    now = shifted(KO=0.10, XOM=-0.05, AAPL=-0.05)
    result = CostAwareEngine(config()).calculate_target_weights(ctx(gappy, now))
    assert result.weights["AAPL"] == pytest.approx(0.20, abs=1e-15)
    (excluded,) = result.exclusions
    assert excluded.unit == "AAPL"
    assert "cost_aware lookback=252 needs 252 daily returns; AAPL has 247" in excluded.detail
    assert sum(result.weights.values()) <= 1.0 + 1e-12


def test_trigger_candidate_days_and_history_days():
    engine = CostAwareEngine(config(check_frequency="monthly", lookback=126))
    days = pd.bdate_range("2021-01-01", "2021-06-30")
    assert np.array_equal(engine.trigger.candidate_days(days), CheckFrequencyGate("monthly").candidate_days(days))
    assert engine.history_days == 126


def test_when_history_too_short_and_drifted_then_weights_held_and_quiet(returns):
    engine = CostAwareEngine(config())
    drifted = shifted(**{list(TARGETS)[0]: 0.05, list(TARGETS)[1]: -0.05})
    c = ctx(returns, drifted, ts=datetime(1981, 6, 1))
    result = engine.calculate_target_weights(c)
    assert result.weights == pytest.approx(drifted)
    assert all("cost_aware lookback=252" in e.detail for e in result.exclusions)
    assert not engine.trigger.evaluate(c, result.weights).fired


def test_when_history_too_short_and_account_in_cash_then_invested_at_configured_targets(returns):
    engine = CostAwareEngine(config())
    c = ctx(returns, {}, cash=100_000.0, ts=datetime(1981, 6, 1))
    assert engine.trigger.evaluate(c, {}).fired
    assert engine.calculate_target_weights(c).weights == pytest.approx(TARGETS)


@pytest.mark.parametrize("params, fragment", [
    ({"fee_bps": -1}, "fee_bps"), ({"risk_aversion": 0}, "risk_aversion"), ({"horizon_years": 0}, "horizon_years"),
    ({"lookback": 5}, "lookback"), ({"impact_coefficient": -0.1}, "impact_coefficient"), ({"fees": 1}, "fees"),
])
def test_params_when_invalid_then_error_names_field(params, fragment):
    with pytest.raises(ValidationError, match=fragment):
        config(**params)


def test_params_defaults():
    p = config().rebalancing_params
    assert (p.fee_bps, p.slippage_bps, p.risk_aversion, p.horizon_years, p.lookback, p.impact_coefficient) == \
        (10.0, 5.0, 1.0, 1.0, 252, 0.0)
    assert p.cost_per_turnover == pytest.approx(COST)


@pytest.fixture(scope="module")
def stock_cov() -> np.ndarray:
    return ledoit_wolf(simple_returns(load_prices("stocks")).to_numpy()[-252:])[0] * 252


def _weights(data, n):
    raw = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n + 1, max_size=n + 1).filter(lambda v: sum(v) > 1e-3))
    return np.array(raw[:n]) / sum(raw)  # the last share is cash


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_solver_property_feasible_and_no_worse_than_no_trade_or_full_trade(stock_cov, data):
    n = data.draw(st.integers(2, 6))
    idx = data.draw(st.lists(st.integers(0, stock_cov.shape[0] - 1), min_size=n, max_size=n, unique=True))
    sigma = stock_cov[np.ix_(idx, idx)]
    w, wstar = _weights(data, n), _weights(data, n)
    cost = np.array(data.draw(st.lists(st.floats(0.0, 0.02), min_size=n, max_size=n)))
    scale = data.draw(st.floats(0.01, 50.0))
    impact = data.draw(st.sampled_from([0.0, 0.0, 0.01, 0.5]))
    budget = 1.0 if data.draw(st.booleans()) else float(w.sum())
    delta, mu = solve_trade(w, wstar, sigma, cost, scale, impact, budget)
    new = w + delta
    assert new.min() >= 0.0 and new.sum() <= budget + 1e-12 and mu >= 0.0

    def f(d):
        return objective(d, w, wstar, sigma, cost, scale, impact)

    assert f(delta) <= f(np.zeros(n)) + 1e-14
    if budget == 1.0:  # the full trade to w* is feasible only when cash may be spent
        assert f(delta) <= f(wstar - w) + 1e-14
    if no_trade_check(w, wstar, sigma, cost, scale, budget).inside:
        assert np.abs(delta).max() <= 1e-9
