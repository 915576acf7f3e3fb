"""The risk policy: hysteresis, where dropped weight goes, which units the trailing limits
apply to, and what a breached portfolio-level limit does.

Hand-built series have figures fixed by construction: Z1, Z2 and Z3 are mutually orthogonal
zero-mean +/-1 patterns (Walsh functions) scaled to a sample standard deviation of 1, so
``mu + VOL * z`` has an annualised Sharpe of exactly ``mu / VOL * sqrt(252)`` and
``rho * Z1 + sqrt(1 - rho**2) * Z2`` has a correlation of exactly ``rho`` with Z1.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.models.risk_models import (
    NON_BINDING_RISK_LIMITS,
    ReasonCode,
    RiskAction,
    RiskExclusion,
    RiskLimits,
    RiskPolicy,
    RiskStatus,
)
from src.risk.limits import apply_risk_limits, surviving_targets

LOOSE = dict(NON_BINDING_RISK_LIMITS)
N = 120
DATES = pd.bdate_range("2020-01-01", periods=N)
T0 = datetime(2020, 7, 1)
VOL = 0.01
# Explicit margins, so the examples below do not move with the shipped defaults.
HYST = RiskPolicy(readmit_sharpe_margin=0.25, readmit_drawdown_margin=0.05, readmit_correlation_margin=0.10,
                  min_days_out=63)
ZERO_HYSTERESIS = RiskPolicy(readmit_sharpe_margin=0.0, readmit_drawdown_margin=0.0,
                             readmit_correlation_margin=0.0, min_days_out=0)


def _standardised(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std(ddof=1)


_K = np.arange(N)
Z1 = _standardised(np.where(_K % 2 == 0, 1.0, -1.0))
Z2 = _standardised(np.where((_K // 2) % 2 == 0, 1.0, -1.0))
Z3 = _standardised(np.where(_K % 2 == 0, 1.0, -1.0) * np.where((_K // 2) % 2 == 0, 1.0, -1.0))


def with_sharpe(sharpe: float, shape: np.ndarray) -> np.ndarray:
    """Returns with sample volatility VOL and annualised Sharpe exactly ``sharpe``."""
    return sharpe * VOL / math.sqrt(252) + VOL * shape


def correlated(rho: float, sharpe: float = 1.0) -> np.ndarray:
    """Returns whose correlation with anything built on Z1 is exactly ``rho`` (and 0 with Z3)."""
    return with_sharpe(sharpe, rho * Z1 + math.sqrt(1.0 - rho * rho) * Z2)


def one_drawdown(depth: float) -> np.ndarray:
    """Rising 0.1% a day except one fall of ``depth``: max drawdown exactly ``depth``."""
    out = np.full(N, 0.001)
    out[59] = -depth
    return out


A = with_sharpe(2.0, Z1)
C = with_sharpe(1.5, Z3)
D = with_sharpe(1.0, Z2)
LOSER = with_sharpe(-1.0, -Z2)
CRASH = np.concatenate([np.full(60, 0.002), np.full(20, -0.02), np.full(40, 0.01)])  # drawdown 1 - 0.98**20
BASE = pd.DataFrame({"A": A, "B": 1.2 * A, "C": C, "D": D, "L": LOSER, "X": CRASH}, index=DATES)


def limits(**over) -> RiskLimits:
    return RiskLimits(**{**LOOSE, **over})


def verdict(decision, name):
    return next(v for v in decision.verdicts if v.limit == name)


def run(weights, lim, returns=BASE, policy=None, **kw):
    return apply_risk_limits(weights, returns, lim, lookback=N, min_history=60, policy=policy, **kw)


def walk(steps, weights, lim, make_returns, policy=HYST):
    """Decisions at T0 + days for each (days, figure), passing each decision's exclusions on."""
    decisions, prior = [], {}
    for days, figure in steps:
        d = run(weights, lim, returns=make_returns(figure), policy=policy, exclusions=prior,
                timestamp=T0 + timedelta(days=days))
        decisions.append(d)
        prior = d.exclusions
    return decisions


def sharpe_frame(sharpe: float) -> pd.DataFrame:
    return pd.DataFrame({"A": A, "X": with_sharpe(sharpe, Z2)}, index=DATES)


def drawdown_frame(depth: float) -> pd.DataFrame:
    return pd.DataFrame({"A": A, "X": one_drawdown(depth)}, index=DATES)


def correlation_frame(rho: float) -> pd.DataFrame:
    return pd.DataFrame({"A": A, "X": correlated(rho), "C": C}, index=DATES)


def test_fixture_series_when_built_then_figures_are_exact():
    sharpe = lambda x: x.mean() / x.std(ddof=1) * math.sqrt(252)  # noqa: E731
    assert sharpe(with_sharpe(0.3, Z2)) == pytest.approx(0.3, abs=1e-12)
    assert np.corrcoef(A, correlated(0.65))[0, 1] == pytest.approx(0.65, abs=1e-12)
    assert abs(np.corrcoef(correlated(0.65), C)[0, 1]) < 1e-12
    wealth = np.cumprod(1 + one_drawdown(0.21))
    assert (1 - wealth / np.maximum.accumulate(wealth)).max() == pytest.approx(0.21, abs=1e-12)


# --- hysteresis: min_strategy_sharpe --------------------------------------------------------

def test_readmit_when_sharpe_oscillates_inside_margin_then_held_out_until_past_margin():
    # limit 0.0, margin 0.25: X dropped at -0.5, then hovers in (0, 0.25) and dips below 0 again.
    steps = [(0, -0.5), (70, 0.1), (100, -0.1), (130, 0.2), (160, 0.24), (190, 0.3)]
    ds = walk(steps, {"A": 0.5, "X": 0.5}, limits(min_strategy_sharpe=0.0), sharpe_frame)
    first = verdict(ds[0], "min_strategy_sharpe")
    assert first.reason_code == ReasonCode.STRATEGY_SHARPE_BELOW_MIN and first.units == ["X"]
    assert ds[0].exclusions["X"].since == T0 and ds[0].exclusions["X"].value == pytest.approx(-0.5)
    for d in ds[1:-1]:
        v = verdict(d, "min_strategy_sharpe")
        assert "X" not in d.weights and d.weights == pytest.approx({"A": 1.0})  # redistributed to A
        assert v.action == RiskAction.DROP and v.reason_code == ReasonCode.HELD_OUT and v.units == ["X"]
        assert "still held out X" in v.message and "by the margin and 63 days" in v.message
        # held, not dropped anew: the clock of the original drop keeps running
        assert d.exclusions["X"].since == T0 and d.exclusions["X"].reason_code == ReasonCode.STRATEGY_SHARPE_BELOW_MIN
    last = ds[-1]
    v = verdict(last, "min_strategy_sharpe")
    assert last.weights == pytest.approx({"A": 0.5, "X": 0.5}) and last.exclusions == {}
    assert v.action == RiskAction.PASS and v.reason_code == ReasonCode.READMITTED and v.units == []
    assert "readmitted ['X']" in v.message


def test_readmit_when_sharpe_recovered_past_margin_before_min_days_out_then_stays_out():
    steps = [(0, -0.5), (30, 1.0), (62, 1.0), (63, 1.0)]
    ds = walk(steps, {"A": 0.5, "X": 0.5}, limits(min_strategy_sharpe=0.0), sharpe_frame)
    for d in ds[1:3]:
        assert "X" not in d.weights and verdict(d, "min_strategy_sharpe").reason_code == ReasonCode.HELD_OUT
    assert set(ds[3].weights) == {"A", "X"}  # 63 calendar days: min_days_out reached
    assert verdict(ds[3], "min_strategy_sharpe").reason_code == ReasonCode.READMITTED


def test_readmit_when_zero_margin_and_no_days_out_then_back_as_soon_as_within_limit():
    ds = walk([(0, -0.5), (1, 0.1)], {"A": 0.5, "X": 0.5}, limits(min_strategy_sharpe=0.0), sharpe_frame,
              policy=ZERO_HYSTERESIS)
    assert "X" not in ds[0].weights and set(ds[1].weights) == {"A", "X"}


# --- hysteresis: max_strategy_drawdown ------------------------------------------------------

def test_readmit_when_drawdown_oscillates_inside_margin_then_held_out_until_past_margin():
    # limit 0.2, margin 0.05: dropped at 0.25; 0.18 / 0.21 / 0.16 keep it out; 0.14 readmits.
    steps = [(0, 0.25), (70, 0.18), (100, 0.21), (130, 0.16), (160, 0.14)]
    ds = walk(steps, {"A": 0.5, "X": 0.5}, limits(max_strategy_drawdown=0.2), drawdown_frame)
    first = verdict(ds[0], "max_strategy_drawdown")
    assert first.reason_code == ReasonCode.STRATEGY_DRAWDOWN_ABOVE_MAX and first.value == pytest.approx(0.25)
    for d in ds[1:-1]:
        v = verdict(d, "max_strategy_drawdown")
        assert "X" not in d.weights and v.reason_code == ReasonCode.HELD_OUT and v.units == ["X"]
        assert "still held out X" in v.message
        assert d.exclusions["X"].since == T0 and d.exclusions["X"].limit == "max_strategy_drawdown"
    v = verdict(ds[-1], "max_strategy_drawdown")
    assert set(ds[-1].weights) == {"A", "X"} and ds[-1].exclusions == {}
    assert v.reason_code == ReasonCode.READMITTED and "max drawdown recovered past the margin" in v.message


def test_readmit_when_drawdown_recovered_before_min_days_out_then_stays_out():
    ds = walk([(0, 0.25), (30, 0.05), (63, 0.05)], {"A": 0.5, "X": 0.5}, limits(max_strategy_drawdown=0.2),
              drawdown_frame)
    assert "X" not in ds[1].weights and verdict(ds[1], "max_strategy_drawdown").reason_code == ReasonCode.HELD_OUT
    assert "X" in ds[2].weights


# --- hysteresis: max_correlation_pair -------------------------------------------------------

CORR_WEIGHTS = {"A": 0.4, "X": 0.3, "C": 0.3}


def test_readmit_when_correlation_oscillates_inside_margin_then_held_out_until_past_margin():
    # limit 0.7, margin 0.1: X (lower Sharpe than A) dropped at rho 0.8; 0.65 / 0.75 / 0.62 keep
    # it out (0.75 is above the limit again, but X is held, not dropped anew); 0.55 readmits.
    steps = [(0, 0.8), (70, 0.65), (100, 0.75), (130, 0.62), (160, 0.55)]
    ds = walk(steps, CORR_WEIGHTS, limits(max_correlation_pair=0.7), correlation_frame)
    first = verdict(ds[0], "max_correlation_pair")
    assert first.reason_code == ReasonCode.CORRELATION_PAIR_ABOVE_MAX and first.units == ["X"]
    assert first.value == pytest.approx(0.8) and "A~X rho 0.800: dropped X" in first.message
    assert ds[0].weights == pytest.approx({"A": 0.4 / 0.7, "C": 0.3 / 0.7})
    for d in ds[1:-1]:
        v = verdict(d, "max_correlation_pair")
        assert "X" not in d.weights and v.action == RiskAction.DROP
        assert v.reason_code == ReasonCode.HELD_OUT and v.units == ["X"] and "still held out X" in v.message
        assert d.exclusions["X"].since == T0 and d.exclusions["X"].limit == "max_correlation_pair"
    last = ds[-1]
    v = verdict(last, "max_correlation_pair")
    assert last.weights == pytest.approx(CORR_WEIGHTS) and last.exclusions == {}
    assert v.action == RiskAction.PASS and "readmitted X" in v.message


def test_readmit_when_correlation_recovers_past_margin_then_verdict_code_readmitted():
    ds = walk([(0, 0.8), (160, 0.55)], CORR_WEIGHTS, limits(max_correlation_pair=0.7), correlation_frame)
    assert "X" in ds[-1].weights
    assert verdict(ds[-1], "max_correlation_pair").reason_code == ReasonCode.READMITTED


def test_readmit_when_correlation_clear_before_min_days_out_then_stays_out():
    ds = walk([(0, 0.8), (30, 0.3), (63, 0.3)], CORR_WEIGHTS, limits(max_correlation_pair=0.7), correlation_frame)
    assert "X" not in ds[1].weights and verdict(ds[1], "max_correlation_pair").reason_code == ReasonCode.HELD_OUT
    assert "X" in ds[2].weights


def test_readmit_when_correlation_zero_margin_then_back_once_at_or_below_limit():
    ds = walk([(0, 0.8), (1, 0.69)], CORR_WEIGHTS, limits(max_correlation_pair=0.7), correlation_frame,
              policy=ZERO_HYSTERESIS)
    assert "X" not in ds[0].weights and "X" in ds[1].weights


# --- walk-forward on the shipped registry ---------------------------------------------------

def month_ends(returns: pd.DataFrame, start: str = "2000-01-01") -> list[pd.Timestamp]:
    idx = returns.loc[start:].index
    return [g.iloc[-1] for _, g in pd.Series(idx, index=idx).groupby(idx.to_period("M"))]


def walk_forward(returns, units, lim, policy):
    """Monthly decisions on equal engine weights; the in-set after each and the drop/readmit dates."""
    weights = {u: 1 / len(units) for u in units}
    prior, states, events = {}, [], []
    for end in month_ends(returns):
        d = apply_risk_limits(weights, returns.loc[:end], lim, lookback=252, min_history=60, policy=policy,
                              exclusions=prior, timestamp=end.to_pydatetime())
        states.append(frozenset(u for u in units if u not in d.exclusions))
        for u in units:
            if u in prior and u not in d.exclusions:
                events.append((u, prior[u].since, end.to_pydatetime()))
        prior = d.exclusions
    switches = sum(len(a ^ b) for a, b in zip(states, states[1:]))
    return switches, states, events


SLEEVES = ("momentum_strategy", "low_vol_strategy", "sma_crossover")
WALK_CASES = [
    (SLEEVES, dict(min_strategy_sharpe=0.0)),
    (SLEEVES, dict(max_strategy_drawdown=0.15)),
    (("buy_hold_index", "momentum_strategy", "low_vol_strategy"), dict(max_correlation_pair=0.7)),
    (("rsi_strategy", "macd_strategy", "ml_strategy"), dict(min_strategy_sharpe=0.5)),
]


@pytest.mark.parametrize("policy", [HYST, RiskPolicy()], ids=["explicit", "shipped_defaults"])
@pytest.mark.parametrize("units, over", WALK_CASES)
def test_walk_forward_when_hysteresis_then_no_more_switches_than_without(registry_returns, units, over, policy):
    lim = limits(**over)
    with_h, _, readmissions = walk_forward(registry_returns, units, lim, policy)
    without, states0, _ = walk_forward(registry_returns, units, lim, ZERO_HYSTERESIS)
    # the limit binds sometimes, not always: some month has a unit out and some has all in
    assert any(len(s) < len(units) for s in states0) and any(len(s) == len(units) for s in states0)
    assert without > 0
    assert with_h <= without, (with_h, without)
    # no unit ever came back before min_days_out calendar days
    assert all((back - since).days >= policy.min_days_out for _, since, back in readmissions)


@pytest.mark.parametrize("policy", [HYST, RiskPolicy()], ids=["explicit", "shipped_defaults"])
def test_walk_forward_when_sleeves_sharpe_limit_then_hysteresis_strictly_fewer_switches(registry_returns, policy):
    lim = limits(min_strategy_sharpe=0.0)
    with_h, _, _ = walk_forward(registry_returns, SLEEVES, lim, policy)
    without, _, _ = walk_forward(registry_returns, SLEEVES, lim, ZERO_HYSTERESIS)
    assert with_h < without, (with_h, without)


# --- on_drop ------------------------------------------------------------------------------

def test_drop_when_redistribute_and_no_cap_binds_then_survivors_take_weight_pro_rata():
    d = run({"A": 0.3, "C": 0.2, "D": 0.1, "L": 0.4}, limits(min_strategy_sharpe=0.0), policy=RiskPolicy(on_drop="redistribute"))
    assert d.weights == pytest.approx({"A": 0.5, "C": 1 / 3, "D": 1 / 6})
    assert "dropped weight 0.4000 offered to the surviving units" in verdict(d, "max_single_strategy").message


def test_drop_when_redistribute_and_caps_bind_then_capped_and_excess_stays_in_cash():
    d = run({"A": 0.35, "C": 0.35, "L": 0.3}, limits(min_strategy_sharpe=0.0, max_single_strategy=0.4))
    assert d.weights == pytest.approx({"A": 0.4, "C": 0.4})  # pro rata would be 0.5 each: 0.2 to cash
    v = verdict(d, "max_single_strategy")
    assert v.action == RiskAction.SHRINK and "0.2000 stays in cash" in v.message


def test_drop_when_redistribute_and_one_cap_binds_then_rest_fully_invested_within_cap():
    d = run({"A": 0.3, "C": 0.2, "D": 0.1, "L": 0.4}, limits(min_strategy_sharpe=0.0, max_single_strategy=0.4))
    assert d.weights["A"] == pytest.approx(0.4) and sum(d.weights.values()) == pytest.approx(1.0)
    assert 0.4 + 1e-12 >= d.weights["C"] > d.weights["D"] > 0.1  # order kept, both took some of L's weight


def test_drop_when_cash_policy_then_survivors_unchanged_and_dropped_weight_in_cash():
    d = run({"A": 0.3, "C": 0.2, "D": 0.1, "L": 0.4}, limits(min_strategy_sharpe=0.0), policy=RiskPolicy(on_drop="cash"))
    assert d.weights == pytest.approx({"A": 0.3, "C": 0.2, "D": 0.1})
    assert "dropped weight 0.4000 kept in cash" in verdict(d, "max_single_strategy").message


def held_out(*units: str, at: datetime = T0) -> dict[str, RiskExclusion]:
    return {u: RiskExclusion(unit=u, limit="min_strategy_sharpe", reason_code=ReasonCode.STRATEGY_SHARPE_BELOW_MIN,
                             since=at, value=-1.0) for u in units}


@pytest.mark.parametrize("policy", [HYST, HYST.model_copy(update={"on_drop": "cash"})], ids=["redistribute", "cash"])
@pytest.mark.parametrize("weights, over", [
    ({"A": 0.3, "C": 0.2, "D": 0.1, "X": 0.4}, {}),
    ({"A": 0.3, "C": 0.2, "D": 0.1, "X": 0.4}, dict(max_single_strategy=0.4)),
    ({"A": 0.35, "C": 0.35, "X": 0.3}, dict(max_single_strategy=0.4, min_single_strategy=0.05)),
])
def test_surviving_targets_when_units_held_out_then_equal_to_risk_stage_placement(policy, weights, over):
    lim = limits(**over)
    d = run(weights, lim, policy=policy, exclusions=held_out("X"), timestamp=T0 + timedelta(days=1))
    assert "X" in d.exclusions and "X" not in d.weights
    assert surviving_targets(weights, d.exclusions, lim, policy) == pytest.approx(d.weights)


@settings(max_examples=150, deadline=None)
@given(raw=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=4, max_size=4),
       out=st.sets(st.sampled_from(["A", "C", "D", "X"]), min_size=1, max_size=3),
       cap=st.floats(min_value=0.25, max_value=1.0), floor=st.sampled_from([0.0, 0.02, 0.05]),
       on_drop=st.sampled_from(["redistribute", "cash"]))
def test_surviving_targets_when_any_held_out_set_then_equal_to_risk_stage_placement(raw, out, cap, floor, on_drop):
    weights = {u: w / sum(raw) for u, w in zip(["A", "C", "D", "X"], raw)}
    lim, policy = limits(max_single_strategy=cap, min_single_strategy=floor), HYST.model_copy(update={"on_drop": on_drop})
    d = run(weights, lim, policy=policy, exclusions=held_out(*out), timestamp=T0)
    assert d.status != RiskStatus.BLOCKED and set(d.exclusions) == out
    placed = {u: w for u, w in surviving_targets(weights, d.exclusions, lim, policy).items() if w > 1e-12}
    assert placed == pytest.approx(d.weights, abs=1e-12)


# --- unit_limits_for_assets -----------------------------------------------------------------

def test_unit_limits_when_loser_is_plain_asset_then_kept_by_default():
    d = run({"A": 0.5, "L": 0.5}, limits(min_strategy_sharpe=0.0), strategy_units={"A"})
    assert d.weights == pytest.approx({"A": 0.5, "L": 0.5}) and d.exclusions == {}
    v = verdict(d, "min_strategy_sharpe")
    assert v.action == RiskAction.PASS and v.value == pytest.approx(2.0)  # only A is measured


def test_unit_limits_when_applied_to_assets_then_plain_asset_loser_dropped():
    d = run({"A": 0.5, "L": 0.5}, limits(min_strategy_sharpe=0.0), strategy_units={"A"},
            policy=RiskPolicy(unit_limits_for_assets=True))
    assert set(d.weights) == {"A"} and d.exclusions["L"].limit == "min_strategy_sharpe"


def test_unit_limits_when_strategy_units_none_then_every_unit_is_a_sleeve():
    d = run({"A": 0.5, "L": 0.5}, limits(min_strategy_sharpe=0.0))
    assert set(d.weights) == {"A"}


def test_unit_limits_when_crashed_plain_asset_then_drawdown_limit_skips_it_unless_enabled():
    kept = run({"A": 0.5, "X": 0.5}, limits(max_strategy_drawdown=0.2), strategy_units={"A"})
    assert set(kept.weights) == {"A", "X"}
    dropped = run({"A": 0.5, "X": 0.5}, limits(max_strategy_drawdown=0.2), strategy_units={"A"},
                  policy=RiskPolicy(unit_limits_for_assets=True))
    assert set(dropped.weights) == {"A"} and verdict(dropped, "max_strategy_drawdown").units == ["X"]


def test_unit_limits_when_correlated_pair_includes_plain_asset_then_pair_limit_skipped_unless_enabled():
    kept = run({"A": 0.5, "B": 0.5}, limits(max_correlation_pair=0.9), strategy_units={"A"})
    v = verdict(kept, "max_correlation_pair")
    assert set(kept.weights) == {"A", "B"} and "fewer than two units it applies to" in v.message
    dropped = run({"A": 0.5, "B": 0.5}, limits(max_correlation_pair=0.9), strategy_units={"A"},
                  policy=RiskPolicy(unit_limits_for_assets=True))
    assert len(dropped.weights) == 1 and verdict(dropped, "max_correlation_pair").action == RiskAction.DROP


# --- portfolio_limit_action -----------------------------------------------------------------

TARGET = {"X": 0.5, "C": 0.5}  # max drawdown about 0.18 over the window
DD_LIMIT = limits(max_portfolio_drawdown=0.1)


def test_portfolio_limit_when_warn_default_then_targets_kept_with_warning():
    d = run(TARGET, DD_LIMIT)
    v = verdict(d, "max_portfolio_drawdown")
    assert d.status == RiskStatus.APPROVED and d.weights == pytest.approx(TARGET) and d.block_reason is None
    assert v.action == RiskAction.WARN and v.reason_code == ReasonCode.PORTFOLIO_DRAWDOWN_ABOVE_MAX
    assert v.value > 0.1 and "warning only, targets kept" in v.message
    assert len(d.warnings) == 1 and d.warnings[0].startswith("max_portfolio_drawdown: target portfolio")


def test_portfolio_limit_when_warn_avg_correlation_then_warning_not_block():
    d = run({"A": 0.5, "B": 0.5}, limits(max_avg_correlation=0.5))
    assert d.status == RiskStatus.APPROVED and set(d.weights) == {"A", "B"}
    assert verdict(d, "max_avg_correlation").action == RiskAction.WARN
    assert any(w.startswith("max_avg_correlation") for w in d.warnings)


def test_portfolio_limit_when_block_then_blocked_naming_limit():
    d = run(TARGET, DD_LIMIT, policy=RiskPolicy(portfolio_limit_action="block"))
    assert d.status == RiskStatus.BLOCKED and d.weights == {} and d.warnings == []
    assert "max_portfolio_drawdown" in d.block_reason
    assert verdict(d, "max_portfolio_drawdown").action == RiskAction.BLOCK


WORSE = RiskPolicy(portfolio_limit_action="block_if_worse")


@pytest.mark.parametrize("current, blocked", [
    ({"C": 1.0}, True),    # held now draws down far less: the targets are worse -> block
    ({"X": 0.3}, True),    # 30% in X, 70% cash at zero return: about 0.11 < 0.18 -> block
    (None, True),          # all cash: drawdown 0 -> block
    ({"X": 1.0}, False),   # held now draws down 0.33: the targets are better -> warn, trade
])
def test_portfolio_limit_when_block_if_worse_then_blocks_only_if_targets_worse_than_held(current, blocked):
    d = run(TARGET, DD_LIMIT, policy=WORSE, current_weights=current)
    v = verdict(d, "max_portfolio_drawdown")
    assert "(held now:" in v.message
    if blocked:
        assert d.status == RiskStatus.BLOCKED and v.action == RiskAction.BLOCK and d.weights == {}
    else:
        assert d.status != RiskStatus.BLOCKED and v.action == RiskAction.WARN
        assert d.weights == pytest.approx(TARGET) and d.warnings


def test_portfolio_limit_when_block_if_worse_and_all_cash_then_cash_counts_as_zero_return():
    # Sharpe of all cash is 0: a positive Sharpe below the minimum is better than holding cash ...
    d = run({"A": 0.5, "C": 0.5}, limits(min_portfolio_sharpe=50.0), policy=WORSE, current_weights={})
    v = verdict(d, "min_portfolio_sharpe")
    assert d.status != RiskStatus.BLOCKED and v.action == RiskAction.WARN and "held now: 0.000" in v.message
    # ... a negative one is worse
    d = run({"L": 0.7, "D": 0.3}, limits(min_portfolio_sharpe=0.5), policy=WORSE, current_weights={})
    v = verdict(d, "min_portfolio_sharpe")
    assert v.value < 0 and d.status == RiskStatus.BLOCKED and v.action == RiskAction.BLOCK


# --- invariants on the shipped registry -------------------------------------------------------

ENDS = ["1995-06-30", "2001-09-28", "2003-12-31", "2008-10-31", "2009-06-30", "2013-06-28", "2020-03-31",
        "2021-12-31", "2022-12-28"]


@st.composite
def risk_cases(draw, columns):
    units = draw(st.lists(st.sampled_from(columns), min_size=1, max_size=len(columns), unique=True))
    weights = {u: draw(st.floats(min_value=0.0, max_value=1.0, allow_subnormal=False)) for u in units}
    if sum(weights.values()) <= 0:
        weights[units[0]] = 1.0
    cap = draw(st.floats(min_value=0.05, max_value=1.0))
    lim = RiskLimits(
        max_single_strategy=cap, min_single_strategy=draw(st.floats(min_value=0.0, max_value=min(cap, 0.2))),
        max_correlation_pair=draw(st.floats(min_value=0.0, max_value=1.0)),
        max_avg_correlation=draw(st.floats(min_value=0.0, max_value=1.0)),
        min_strategy_sharpe=draw(st.floats(min_value=-2.0, max_value=2.0)),
        max_strategy_drawdown=draw(st.floats(min_value=0.02, max_value=1.0)),
        max_portfolio_leverage=draw(st.floats(min_value=0.3, max_value=2.0)),
        min_portfolio_sharpe=draw(st.floats(min_value=-2.0, max_value=2.0)),
        max_portfolio_drawdown=draw(st.floats(min_value=0.02, max_value=1.0)))
    policy = RiskPolicy(
        on_drop=draw(st.sampled_from(["redistribute", "cash"])), unit_limits_for_assets=draw(st.booleans()),
        portfolio_limit_action=draw(st.sampled_from(["warn", "block", "block_if_worse"])),
        readmit_sharpe_margin=draw(st.floats(min_value=0.0, max_value=1.0)),
        readmit_drawdown_margin=draw(st.floats(min_value=0.0, max_value=0.2)),
        readmit_correlation_margin=draw(st.floats(min_value=0.0, max_value=0.3)),
        min_days_out=draw(st.integers(min_value=0, max_value=400)))
    first, second = sorted(draw(st.lists(st.sampled_from(ENDS), min_size=2, max_size=2, unique=True)))
    sleeves = draw(st.one_of(st.none(), st.sets(st.sampled_from(units))))
    current = draw(st.one_of(st.none(), st.dictionaries(st.sampled_from(units), st.floats(0.0, 0.5), max_size=3)))
    return weights, lim, policy, first, second, sleeves, current


def check_invariants(d, weights, lim):
    assert set(d.weights) <= {u for u, w in weights.items() if w > 0}
    assert all(0.0 <= w <= lim.max_single_strategy + 1e-9 for w in d.weights.values()), d.weights
    assert sum(d.weights.values()) <= lim.max_portfolio_leverage + 1e-9
    assert set(d.exclusions) <= set(weights) and not set(d.exclusions) & set(d.weights)
    if d.status == RiskStatus.BLOCKED:
        assert d.weights == {} and d.block_reason


def decide(returns, end, weights, lim, policy, sleeves, current, prior):
    return apply_risk_limits(weights, returns.loc[:end], lim, lookback=252, min_history=60, policy=policy,
                             strategy_units=sleeves, exclusions=prior, timestamp=pd.Timestamp(end).to_pydatetime(),
                             current_weights=current)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_when_any_weights_and_policy_then_final_weights_within_limits(registry_returns, data):
    weights, lim, policy, first, _, sleeves, current = data.draw(risk_cases(list(registry_returns.columns)))
    check_invariants(decide(registry_returns, first, weights, lim, policy, sleeves, current, {}), weights, lim)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_when_exclusions_carried_forward_then_final_weights_within_limits(registry_returns, data):
    weights, lim, policy, first, second, sleeves, current = data.draw(risk_cases(list(registry_returns.columns)))
    d = decide(registry_returns, first, weights, lim, policy, sleeves, current, {})
    check_invariants(d, weights, lim)
    # Correlation exclusions are left out of the carried memory: carrying them can crash the
    # stage (see test_apply_when_every_survivor_held_out_for_correlation_then_blocked_not_crash).
    prior = {u: e for u, e in d.exclusions.items() if e.limit != "max_correlation_pair"}
    check_invariants(decide(registry_returns, second, weights, lim, policy, sleeves, current, prior), weights, lim)


# --- bugs found by these tests, fixed since ----------------------------------------------

def three_correlated(a_sharpe: float) -> pd.DataFrame:
    """X and Y each correlate 0.8 with A and 0.64 with each other."""
    return pd.DataFrame({"A": with_sharpe(a_sharpe, Z1), "X": with_sharpe(1.0, 0.8 * Z1 + 0.6 * Z2),
                         "Y": with_sharpe(1.0, 0.8 * Z1 + 0.6 * Z3)}, index=DATES)


def test_apply_when_every_survivor_held_out_for_correlation_then_blocked_not_crash():
    lim = limits(max_correlation_pair=0.7, min_strategy_sharpe=0.0)
    weights = {"A": 0.4, "X": 0.3, "Y": 0.3}
    first = run(weights, lim, returns=three_correlated(2.0), timestamp=T0)
    assert set(first.exclusions) == {"X", "Y"} and first.weights == pytest.approx({"A": 1.0})
    second = run(weights, lim, returns=three_correlated(-0.5), exclusions=first.exclusions,
                 timestamp=T0 + timedelta(days=100))
    assert second.status == RiskStatus.BLOCKED and second.weights == {}
    assert set(second.exclusions) == {"A", "X", "Y"}


def test_readmit_when_correlation_partner_dropped_before_min_days_out_then_unit_stays_out():
    lim = limits(max_correlation_pair=0.7, min_strategy_sharpe=0.0)
    weights = {"A": 0.4, "X": 0.3, "C": 0.3}
    frame_ = lambda a_sharpe: pd.DataFrame({"A": with_sharpe(a_sharpe, Z1), "X": correlated(0.8), "C": C},  # noqa: E731
                                           index=DATES)
    first = run(weights, lim, returns=frame_(2.0), strategy_units={"A", "X"}, timestamp=T0)
    assert set(first.exclusions) == {"X"}
    second = run(weights, lim, returns=frame_(-0.5), strategy_units={"A", "X"}, exclusions=first.exclusions,
                 timestamp=T0 + timedelta(days=1))
    assert "A" in second.exclusions  # dropped for Sharpe
    assert "X" not in second.weights and "X" in second.exclusions  # 1 day < min_days_out 63


def test_portfolio_limit_when_block_if_worse_and_held_unit_not_proposed_then_measured_not_cash():
    returns = BASE.assign(Y=CRASH * 1.5)
    d = run(TARGET, DD_LIMIT, returns=returns, policy=WORSE, current_weights={"Y": 1.0})
    v = verdict(d, "max_portfolio_drawdown")
    assert "held now: 0.456" in v.message
    assert d.status != RiskStatus.BLOCKED and v.action == RiskAction.WARN


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_drop_when_survivor_weight_subnormal_then_decision_not_crash():
    d = run({"L": 1.0, "A": 5e-324}, limits(min_strategy_sharpe=0.0))
    assert "L" in d.exclusions and sum(d.weights.values()) <= 1.0 + 1e-9
