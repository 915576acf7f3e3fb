"""Cost-aware method: no-trade region, partial trades that stop at marginal benefit = marginal
cost (KKT checked numerically), the objective's scale (risk_aversion x horizon per unit of the
targets' own variance), idle cash invested with an equality budget, new money, dust cash,
impact, and the solver's properties."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy.optimize import minimize

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


def scale_of(sigma, *, risk_aversion=0.005, horizon_years=1.0, wstar=None) -> float:
    """The objective's ``a``: risk_aversion x horizon per unit of the targets' own variance."""
    wstar = np.full(len(sigma), 0.25) if wstar is None else wstar
    return risk_aversion * horizon_years / float(wstar @ sigma @ wstar)


def config(**params) -> PortfolioConfig:
    return PortfolioConfig(name="ca", target_allocations=dict(TARGETS), rebalancing_method="cost_aware",
                           rebalancing_params=params)


def ctx(returns, weights, *, cash=0.0, nav=100_000.0, ts=TS, prices=PRICES) -> MarketContext:
    return MarketContext(timestamp=ts, state=state_at_weights(weights, prices, nav=nav, cash=cash, timestamp=ts),
                         returns=returns)


def shifted(**moves) -> dict[str, float]:
    return {u: 0.25 + moves.get(u, 0.0) for u in UNITS}


def assert_kkt(w0, new, sigma, mu, *, a, c=COST, k=0.0, wstar=None, budget=None, delta=None, tol=1e-10):
    """Marginal benefit = marginal cost for every traded unit; no untouched unit worth trading.

    ``a`` is the objective's scale (no default: it is not risk_aversion), ``mu`` the budget
    multiplier (>= 0 for an inequality budget, any sign when the budget holds with equality).
    With ``budget``, a unit holding all of it sits at the solver's bound ``w_i + Delta_i <= budget``
    (buying more would pay if it could: only selling is checked). ``delta``, the solver's trade,
    keeps moves too small to survive ``w0 + delta`` (their impact slope still counts).
    """
    wstar = np.full(len(w0), 0.25) if wstar is None else wstar
    d = new - w0 if delta is None else delta
    g = 2 * a * sigma @ (new - wstar) + mu
    c = np.broadcast_to(np.asarray(c, dtype=float), d.shape)
    for i in range(len(d)):
        if budget is not None and new[i] >= budget - 1e-12:  # at the cap: selling does not pay
            assert g[i] - c[i] - 1.5 * k * max(-d[i], 0.0) ** 0.5 <= tol, i
        elif d[i] > 1e-12:   # bought: benefit -g_i equals cost c + 1.5 k sqrt(d)
            assert g[i] + c[i] + 1.5 * k * d[i] ** 0.5 == pytest.approx(0.0, abs=tol), i
        elif d[i] < -1e-12 and new[i] > 1e-12:
            assert g[i] - c[i] - 1.5 * k * (-d[i]) ** 0.5 == pytest.approx(0.0, abs=tol), i
        elif d[i] < -1e-12:  # sold out: selling further would still pay, but nothing is left
            assert g[i] - c[i] - 1.5 * k * (-d[i]) ** 0.5 >= -tol, i
        elif w0[i] > 1e-12:  # untouched and held: neither buying nor selling pays (a move below
            # 1e-12 still has the impact slope 1.5 k sqrt|d| on its side)
            assert abs(g[i]) <= c[i] + 1.5 * k * abs(d[i]) ** 0.5 + tol, i
        else:                # untouched and not held: buying does not pay (it cannot be sold)
            assert g[i] >= -c[i] - 1.5 * k * abs(d[i]) ** 0.5 - tol, i


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
    assert engine.problem(c).scale == pytest.approx(scale_of(sigma), rel=1e-12)
    assert_kkt(vec(now), new, sigma, result.diagnostics["budget_multiplier"], a=scale_of(sigma))
    d = result.diagnostics
    assert d["objective"] < d["objective_no_trade"] and d["objective"] < d["objective_full_trade"]
    assert d["tracking_error_after"] < d["tracking_error_before"]


def test_objective_scale_is_risk_aversion_times_horizon_per_unit_of_target_variance(returns, sigma):
    # a = risk_aversion x horizon / (w*' Sigma w*), with the same Ledoit-Wolf Sigma as the engine.
    c = ctx(returns, shifted(KO=0.10, XOM=-0.10))
    for params in ({}, {"risk_aversion": 0.02, "horizon_years": 3.0}):
        problem = CostAwareEngine(config(**params)).problem(c)
        assert problem.sigma == pytest.approx(sigma, rel=1e-12, abs=0)
        assert problem.scale == pytest.approx(scale_of(sigma, **params), rel=1e-12)
    # priced relative to the targets' own variance: doubling every return (Sigma x 4, a / 4)
    # leaves the problem a * Sigma, and so the decision, unchanged
    engine, louder = CostAwareEngine(config()), ctx(returns * 2.0, shifted(KO=0.10, XOM=-0.10))
    assert engine.problem(louder).scale == pytest.approx(engine.problem(c).scale / 4.0, rel=1e-10)
    assert vec(engine.calculate_target_weights(louder).weights) == \
        pytest.approx(vec(engine.calculate_target_weights(c).weights), abs=1e-10)


def fully_invested_minimum(w, wstar, sigma, cost, a, budget) -> np.ndarray:
    """Independent reference: SLSQP on ``Delta = p - q`` (p, q >= 0, a smooth problem) with
    ``sum(w + Delta) == budget`` and ``w + Delta >= 0``."""
    n = len(w)

    def f(z):
        x = w + z[:n] - z[n:] - wstar
        return a * x @ sigma @ x + cost @ (z[:n] + z[n:])

    def grad(z):
        g = 2 * a * sigma @ (w + z[:n] - z[n:] - wstar)
        return np.concatenate([g + cost, -g + cost])

    res = minimize(f, np.zeros(2 * n), jac=grad, method="SLSQP", bounds=[(0, None)] * (2 * n),
                   constraints=[{"type": "eq", "fun": lambda z: np.sum(w + z[:n] - z[n:]) - budget,
                                 "jac": lambda z: np.concatenate([np.ones(n), -np.ones(n)])},
                                {"type": "ineq", "fun": lambda z: w + z[:n] - z[n:],
                                 "jac": lambda z: np.hstack([np.eye(n), -np.eye(n)])}],
                   options={"ftol": 1e-16, "maxiter": 1000})
    assert res.success, res.message
    return w + res.x[:n] - res.x[n:]


def test_when_idle_cash_then_trigger_fires_and_result_is_the_fully_invested_optimum(returns, sigma):
    # 10% of NAV idle (targets sum to 1, so none of it is the targets' cash), all units held:
    # the budget holds with equality and the multiplier may take either sign.
    now = {"KO": 0.40, "XOM": 0.20, "JNJ": 0.20, "AAPL": 0.10}
    engine = CostAwareEngine(config())
    c = ctx(returns, now, cash=10_000.0)
    problem = engine.problem(c)
    assert problem.invest_idle and problem.budget == 1.0 and problem.new_units == []
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired
    assert "idle cash 0.1000 of NAV beyond the targets' cash: invested" in decision.reason
    result = engine.calculate_target_weights(c)
    w0, new, mu, a = vec(now), vec(result.weights), result.diagnostics["budget_multiplier"], scale_of(sigma)
    assert new.sum() == pytest.approx(1.0, abs=1e-12) and new.min() >= 0.0
    assert_kkt(w0, new, sigma, mu, a=a)

    # the minimiser among fully invested weights: an independent solver ...
    def f(v):
        return objective(v - w0, w0, np.full(4, 0.25), sigma, np.full(4, COST), a)
    ref = fully_invested_minimum(w0, np.full(4, 0.25), sigma, np.full(4, COST), a, 1.0)
    assert f(new) <= f(ref) + 1e-12
    assert new == pytest.approx(ref, abs=1e-6)
    # ... and no move along a feasible direction (buy i, sell j, sum kept) lowers the objective
    for i in range(4):
        for j in range(4):
            for eps in (1e-3, 1e-5, 1e-7):
                if i != j and new[j] >= eps:
                    moved = new.copy()
                    moved[i] += eps
                    moved[j] -= eps
                    assert f(moved) >= f(new) - 1e-15, (i, j, eps)


def test_when_idle_cash_inside_the_old_no_trade_region_then_still_invested_at_negative_multiplier(returns, sigma):
    # Every unit at 95% of its target, 5% cash: no |g_i| exceeds c (the old mu = 0 rule held
    # still), but idle cash is invested. Buying all four to target gives x = 0, so g = 0 and
    # every bought unit has g_i + mu = -c: mu = -c, a subsidy on buying.
    now = {u: 0.95 * w for u, w in TARGETS.items()}
    a = scale_of(sigma)
    g = 2 * a * sigma @ (vec(now) - 0.25)
    assert np.all(np.abs(g) <= COST)
    assert no_trade_check(vec(now), np.full(4, 0.25), sigma, np.full(4, COST), a, 1.0).inside
    engine = CostAwareEngine(config())
    c = ctx(returns, now, cash=5_000.0)
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired and "idle cash 0.0500 of NAV" in decision.reason
    result = engine.calculate_target_weights(c)
    assert vec(result.weights).sum() == pytest.approx(1.0, abs=1e-12)
    assert vec(result.weights) == pytest.approx(vec(TARGETS), abs=1e-12)
    assert result.diagnostics["budget_multiplier"] == pytest.approx(-COST, abs=1e-12)
    assert_kkt(vec(now), vec(result.weights), sigma, result.diagnostics["budget_multiplier"], a=a)


def test_no_trade_check_with_budget_slack_is_the_gradient_condition(sigma):
    # An inequality budget with room (the engine's case when the cash is the targets' own):
    # mu = 0 and the no-trade region is |2 a (Sigma x)_i| <= c for every held unit.
    a, wstar, cost = scale_of(sigma), np.full(4, 0.25), np.full(4, COST)
    outcomes = set()
    for move in (0.005, 0.01, 0.02, 0.03, 0.05, 0.10):
        w = 0.95 * vec(shifted(KO=move, XOM=-move))
        g = 2 * a * sigma @ (w - wstar)
        check = no_trade_check(w, wstar, sigma, cost, a, 1.0)
        assert check.gradient == pytest.approx(g, rel=1e-12)
        assert check.inside == (not np.any(np.abs(g) > COST)), move
        outcomes.add(check.inside)
        delta, mu = solve_trade(w, wstar, sigma, cost, a, 0.0, 1.0)
        new = w + delta
        if move <= 0.05:  # the trade leaves cash: the budget is slack and mu = 0
            assert mu == 0.0 and new.sum() < 1.0 - 1e-3
        else:             # the 5% cash does not cover the buys: the budget binds, mu > 0
            assert mu > 0.0 and new.sum() == pytest.approx(1.0, abs=1e-12)
        assert_kkt(w, new, sigma, mu, a=a)
    assert outcomes == {True, False}


def test_solve_trade_equality_two_assets_by_hand():
    # Sigma = diag(0.04, 0.01), a = 1, c = 0.001, w = (0.6, 0.1), w* = (0.5, 0.5), budget 1
    # with equality (0.3 idle). On the budget line new_2 = 1 - new_1, and for
    # 0.1 <= new_1 <= 0.6 unit 1 is sold and unit 2 bought, so with x_1 = new_1 - 0.5 = -x_2:
    #   f = (0.04 + 0.01) x_1^2 + c (0.6 - new_1) + c (0.9 - new_1) = 0.05 x_1^2 + 0.001 (0.5 - 2 x_1)
    #   f' = 0.1 x_1 - 0.002 = 0  ->  x_1 = 0.02: new = (0.52, 0.48), f = 0.00002 + 0.00046 = 0.00048.
    # KKT: g = 2 a Sigma x = (0.08 * 0.02, 0.02 * -0.02) = (0.0016, -0.0004);
    #   sold unit 1: g_1 + mu = c -> mu = 0.001 - 0.0016 = -0.0006 (negative: buying is subsidised);
    #   bought unit 2: g_2 + mu = -0.0004 - 0.0006 = -0.001 = -c.
    w, wstar, sigma, cost = np.array([0.6, 0.1]), np.array([0.5, 0.5]), np.diag([0.04, 0.01]), np.full(2, 0.001)
    delta, mu = solve_trade(w, wstar, sigma, cost, 1.0, 0.0, 1.0, equality=True)
    assert w + delta == pytest.approx([0.52, 0.48], abs=1e-12)
    assert mu == pytest.approx(-0.0006, abs=1e-12)
    assert (w + delta).sum() == pytest.approx(1.0, abs=1e-12)
    assert objective(delta, w, wstar, sigma, cost, 1.0) == pytest.approx(0.00048, abs=1e-15)
    # Without equality the coordinates decouple at mu = 0: unit 1 is sold while 0.08 x_1 > c
    # (to x_1 = 0.0125), unit 2 bought while -0.02 x_2 > c (to x_2 = -0.05): (0.5125, 0.45),
    # 3.75% left in cash, f = 0.04 * 0.0125^2 + 0.01 * 0.05^2 + c (0.0875 + 0.35) = 0.00046875.
    delta, mu = solve_trade(w, wstar, sigma, cost, 1.0, 0.0, 1.0)
    assert w + delta == pytest.approx([0.5125, 0.45], abs=1e-12) and mu == 0.0
    assert objective(delta, w, wstar, sigma, cost, 1.0) == pytest.approx(0.00046875, abs=1e-15)


def test_when_zero_cost_then_trades_fully_to_target(returns):
    engine = CostAwareEngine(config(fee_bps=0.0, slippage_bps=0.0))
    c = ctx(returns, shifted(KO=0.10, XOM=-0.04, AAPL=-0.06))
    assert engine.trigger.evaluate(c, {}).fired
    assert vec(engine.calculate_target_weights(c).weights) == pytest.approx(vec(TARGETS), abs=1e-10)


def test_when_cash_is_dust_then_it_is_not_spent_and_only_switches_count(returns, sigma):
    # After a fully invested trade the bought units sit at -g = c + mu > c. A state a little
    # inside that edge, with 5 bps of cash left by fees: buying with the dust would "pay" (mu = 0
    # rule), but dust below min_trade_size is not spent, and no switch pays, so no trade.
    engine = CostAwareEngine(config())
    after = engine.calculate_target_weights(ctx(returns, shifted(KO=0.10, XOM=-0.10))).weights
    inside = {u: 0.9995 * (w + 0.1 * (TARGETS[u] - w)) for u, w in after.items()}
    c = ctx(returns, inside, cash=50.0)
    a, wstar, cost = scale_of(sigma), np.full(4, 0.25), np.full(4, COST)
    slack = no_trade_check(vec(inside), wstar, sigma, cost, a, 1.0)
    assert not slack.inside and UNITS[slack.buy] == "XOM"  # spending the dust would pay ...
    assert no_trade_check(vec(inside), wstar, sigma, cost, a, vec(inside).sum()).inside  # ... no switch does
    problem = engine.problem(c)
    assert not problem.invest_idle and problem.budget == pytest.approx(problem.w.sum(), abs=1e-15)
    assert not engine.trigger.evaluate(c, {}).fired
    assert vec(engine.calculate_target_weights(c).weights) == pytest.approx(vec(inside), abs=1e-14)
    # the same state with a dust threshold below its cash: the cash is idle and invested in full
    spend = CostAwareEngine(config(min_trade_size=0.0001))
    decision = spend.trigger.evaluate(c, {})
    assert decision.fired and "idle cash 0.0005 of NAV beyond the targets' cash: invested" in decision.reason
    result = spend.calculate_target_weights(c)
    assert vec(result.weights).sum() == pytest.approx(1.0, abs=1e-12)
    assert_kkt(vec(inside), vec(result.weights), sigma, result.diagnostics["budget_multiplier"], a=a)


def test_when_dust_cash_and_outside_then_only_a_switch_within_the_invested_weight(returns, sigma):
    # 0.5% cash < min_trade_size (1%): the budget is the invested weight, met as an inequality
    # (mu >= 0), so the trade is a switch and the dust stays cash.
    now = {u: 0.995 * w for u, w in shifted(KO=0.10, XOM=-0.10).items()}
    engine = CostAwareEngine(config())
    c = ctx(returns, now, cash=500.0)
    problem = engine.problem(c)
    assert not problem.invest_idle and problem.budget == pytest.approx(0.995, abs=1e-12)
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired and "buying XOM funded by selling KO" in decision.reason
    result = engine.calculate_target_weights(c)
    new, mu = vec(result.weights), result.diagnostics["budget_multiplier"]
    assert new.sum() <= problem.budget + 1e-12 and new.sum() == pytest.approx(0.995, abs=1e-12)
    assert mu >= 0.0
    assert_kkt(vec(now), new, sigma, mu, a=scale_of(sigma))


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
    assert not problem.invest_idle


def test_when_impact_then_kkt_includes_impact_slope_and_trades_less(returns, sigma):
    now = shifted(KO=0.12, XOM=-0.12)
    plain = CostAwareEngine(config()).calculate_target_weights(ctx(returns, now))
    impact = CostAwareEngine(config(impact_coefficient=0.05)).calculate_target_weights(ctx(returns, now))
    assert_kkt(vec(now), vec(impact.weights), sigma, impact.diagnostics["budget_multiplier"], a=scale_of(sigma),
               k=0.05)
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


def test_when_history_too_short_then_only_new_money_is_invested(returns):
    # No unit is measurable: idle cash buys units targeted but not held (to their configured
    # target); with every unit held, idle cash is not invested and the trigger is quiet.
    engine, early = CostAwareEngine(config()), datetime(1981, 6, 1)
    c = ctx(returns, {"KO": 0.25, "XOM": 0.25, "AAPL": 0.25}, cash=25_000.0, ts=early)
    decision = engine.trigger.evaluate(c, {})
    assert decision.fired and "new money: JNJ" in decision.reason
    assert engine.calculate_target_weights(c).weights == pytest.approx(TARGETS, abs=1e-15)
    held = {"KO": 0.30, "XOM": 0.20, "JNJ": 0.20, "AAPL": 0.20}
    c = ctx(returns, held, cash=10_000.0, ts=early)
    problem = engine.problem(c)
    assert problem.units == [] and not problem.invest_idle
    decision = engine.trigger.evaluate(c, {})
    assert not decision.fired and "no unit has a full lookback" in decision.reason
    assert engine.calculate_target_weights(c).weights == pytest.approx(held, abs=1e-15)


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
        (10.0, 5.0, 0.005, 1.0, 252, 0.0)
    assert p.check_frequency == "weekly" and p.min_trade_size == 0.01
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


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_solver_property_equality_budget_met_and_no_worse_than_any_fully_invested_point(stock_cov, data):
    # equality=True (idle cash invested): budget between the invested weight and 1, as the
    # engine sets it (w.sum() + idle cash).
    n = data.draw(st.integers(2, 6))
    idx = data.draw(st.lists(st.integers(0, stock_cov.shape[0] - 1), min_size=n, max_size=n, unique=True))
    sigma = stock_cov[np.ix_(idx, idx)]
    w, wstar = _weights(data, n), _weights(data, n)
    cost = np.array(data.draw(st.lists(st.floats(0.0, 0.02), min_size=n, max_size=n)))
    scale = data.draw(st.floats(0.01, 50.0))
    impact = data.draw(st.sampled_from([0.0, 0.0, 0.01, 0.5]))
    share = data.draw(st.one_of(st.just(1.0), st.just(0.0), st.floats(0.0, 1.0)))
    budget = float(w.sum() + share * (1.0 - w.sum()))
    delta, mu = solve_trade(w, wstar, sigma, cost, scale, impact, budget, equality=True)
    new = w + delta
    assert np.all(np.isfinite(new)) and np.isfinite(mu)
    assert new.min() >= 0.0 and abs(new.sum() - budget) <= 1e-10

    def f(d):
        return objective(d, w, wstar, sigma, cost, scale, impact)

    # feasible points: the targets scaled to the budget, all idle cash into one unit, and
    # random points of the simplex {v >= 0, sum v = budget}
    points = [w + (budget - w.sum()) * np.eye(n)[i] for i in range(n)]
    if wstar.sum() > 0:
        points.append(wstar * budget / wstar.sum())
    simplex = st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).filter(lambda v: sum(v) > 1e-3)
    for _ in range(5):
        raw = np.array(data.draw(simplex))
        points.append(raw * budget / raw.sum())
    for v in points:
        assert f(delta) <= f(v - w) + 1e-14
    # and the optimality conditions hold with the multiplier returned (of either sign)
    assert_kkt(w, new, sigma, mu, a=scale, c=cost, k=impact, wstar=wstar, budget=budget, delta=delta,
               tol=1e-9)
