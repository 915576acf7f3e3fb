"""The risk stage: one test per limit, on hand-built and real return series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.models.risk_models import ReasonCode, RiskAction, RiskLimits, RiskPolicy, RiskStatus
from src.risk.limits import apply_risk_limits

LOOSE = dict(max_single_strategy=1.0, min_single_strategy=0.0, max_correlation_pair=1.0, max_avg_correlation=1.0,
             min_strategy_sharpe=-100.0, max_strategy_drawdown=1.0, max_portfolio_leverage=1.0,
             min_portfolio_sharpe=-100.0, max_portfolio_drawdown=1.0)
DATES = pd.bdate_range("2020-01-01", periods=120)


def limits(**over) -> RiskLimits:
    return RiskLimits(**{**LOOSE, **over})


def series(pattern: list[float], n: int = 120) -> np.ndarray:
    """A deterministic return series repeating ``pattern`` (hand-built test fixture)."""
    return np.resize(np.array(pattern), n)


def frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols, index=DATES[: len(next(iter(cols.values())))])


# Three hand-built series with known properties: A and B move together, C is independent.
A = series([0.01, -0.005, 0.004, -0.002])
B = series([0.012, -0.006, 0.005, -0.0025])  # 1.2 x A: correlation 1
C = series([0.003, 0.003, -0.002, -0.002, 0.004])
D = series([-0.002, 0.003, 0.002, -0.003, 0.004, -0.001])
RET = frame(A=A, B=B, C=C, D=D)


CASH = RiskPolicy(on_drop="cash")
BLOCK = RiskPolicy(portfolio_limit_action="block")


def run(weights, lim, returns=RET, lookback=120, min_history=60, policy=None, **kw):
    return apply_risk_limits(weights, returns, lim, lookback=lookback, min_history=min_history, policy=policy, **kw)


def verdict(decision, name):
    return next(v for v in decision.verdicts if v.limit == name)


def test_apply_when_everything_within_limits_then_approved_unchanged():
    d = run({"A": 0.3, "C": 0.3, "D": 0.4}, limits())
    assert d.status == RiskStatus.APPROVED and d.weights == pytest.approx({"A": 0.3, "C": 0.3, "D": 0.4})
    assert {v.limit for v in d.verdicts} >= set(RiskLimits.model_fields)
    assert all(v.action == RiskAction.PASS for v in d.verdicts)


def test_max_single_when_weight_over_cap_then_projected_exactly():
    d = run({"A": 0.6, "C": 0.3, "D": 0.1}, limits(max_single_strategy=0.4, min_single_strategy=0.05))
    assert d.status == RiskStatus.ADJUSTED
    assert d.weights == pytest.approx({"A": 0.4, "C": 0.4, "D": 0.2})
    v = verdict(d, "max_single_strategy")
    assert v.action == RiskAction.SHRINK and v.reason_code == ReasonCode.WEIGHT_ABOVE_MAX and v.units == ["A"]
    assert v.value == pytest.approx(0.6) and v.threshold == 0.4


def test_min_single_when_weight_under_floor_then_raised_exactly():
    d = run({"A": 0.5, "C": 0.47, "D": 0.03}, limits(min_single_strategy=0.1))
    assert min(d.weights.values()) == pytest.approx(0.1) and sum(d.weights.values()) == pytest.approx(1.0)
    assert verdict(d, "min_single_strategy").reason_code == ReasonCode.WEIGHT_BELOW_MIN


def test_min_sharpe_when_unit_loses_money_then_dropped_with_reason():
    loser = series([-0.01, 0.004])
    d = run({"A": 0.5, "L": 0.5}, limits(min_strategy_sharpe=0.0), returns=frame(A=A, L=loser), policy=CASH)
    assert d.weights == pytest.approx({"A": 0.5})  # on_drop="cash": L's weight goes to cash, not to A
    v = verdict(d, "min_strategy_sharpe")
    assert v.action == RiskAction.DROP and v.units == ["L"] and v.value < 0
    assert d.exclusions["L"].limit == "min_strategy_sharpe"


def test_min_sharpe_when_redistribute_default_then_survivors_take_weight_pro_rata():
    loser = series([-0.01, 0.004])
    d = run({"A": 0.3, "C": 0.1, "L": 0.6}, limits(min_strategy_sharpe=0.0), returns=frame(A=A, C=C, L=loser))
    assert d.weights == pytest.approx({"A": 0.75, "C": 0.25})  # 0.3 : 0.1 kept, summing to 1
    assert "offered to the surviving units" in verdict(d, "max_single_strategy").message


def test_max_drawdown_when_unit_fell_too_far_then_dropped():
    crash = np.concatenate([np.full(60, 0.002), np.full(20, -0.02), np.full(40, 0.01)])
    d = run({"A": 0.5, "X": 0.5}, limits(max_strategy_drawdown=0.2), returns=frame(A=A, X=crash))
    v = verdict(d, "max_strategy_drawdown")
    assert v.units == ["X"] and v.value == pytest.approx(1 - 0.98 ** 20)
    assert set(d.weights) == {"A"}


def test_correlation_pair_when_above_limit_then_weaker_sharpe_dropped():
    d = run({"A": 0.4, "B": 0.3, "C": 0.3}, limits(max_correlation_pair=0.9))
    v = verdict(d, "max_correlation_pair")
    sharpe = {u: RET[u].mean() / RET[u].std() for u in "AB"}
    weaker = min(sharpe, key=sharpe.get)
    assert v.reason_code == ReasonCode.CORRELATION_PAIR_ABOVE_MAX and v.units == [weaker]
    assert weaker not in d.weights and sum(d.weights.values()) == pytest.approx(1.0)
    d = run({"A": 0.4, "B": 0.3, "C": 0.3}, limits(max_correlation_pair=0.9), policy=CASH)
    assert sum(d.weights.values()) == pytest.approx(0.6 if weaker == "A" else 0.7)


def test_avg_correlation_when_above_limit_then_blocked():
    d = run({"A": 0.5, "B": 0.5}, limits(max_avg_correlation=0.5), policy=BLOCK)
    assert d.status == RiskStatus.BLOCKED and d.weights == {}
    assert "max_avg_correlation" in d.block_reason
    assert verdict(d, "max_avg_correlation").reason_code == ReasonCode.AVG_CORRELATION_ABOVE_MAX


def test_leverage_when_gross_above_limit_then_scaled_down_to_limit():
    d = run({"A": 0.6, "C": 0.6, "D": 0.3}, limits(max_portfolio_leverage=1.0))
    assert sum(d.weights.values()) == pytest.approx(1.0)
    assert d.weights["A"] / d.weights["D"] == pytest.approx(2.0)
    assert verdict(d, "max_portfolio_leverage").reason_code == ReasonCode.LEVERAGE_ABOVE_MAX


def test_portfolio_sharpe_when_below_min_then_blocked():
    d = run({"A": 0.5, "C": 0.5}, limits(min_portfolio_sharpe=50.0), policy=BLOCK)
    assert d.status == RiskStatus.BLOCKED and "min_portfolio_sharpe" in d.block_reason
    assert verdict(d, "min_portfolio_sharpe").reason_code == ReasonCode.PORTFOLIO_SHARPE_BELOW_MIN


def test_portfolio_drawdown_when_above_max_then_blocked():
    crash = np.concatenate([np.full(60, 0.002), np.full(20, -0.02), np.full(40, 0.01)])
    d = run({"X": 0.5, "Y": 0.5}, limits(max_portfolio_drawdown=0.1), returns=frame(X=crash, Y=crash * 0.9),
            policy=BLOCK)
    assert d.status == RiskStatus.BLOCKED
    assert verdict(d, "max_portfolio_drawdown").reason_code == ReasonCode.PORTFOLIO_DRAWDOWN_ABOVE_MAX


def test_history_when_unit_lacks_returns_then_held_at_weight_and_exempt_from_trailing_limits():
    short = pd.Series(series([-0.01, 0.004]), index=DATES).where(DATES >= DATES[100])  # 20 losing days
    d = run({"A": 0.5, "S": 0.5}, limits(min_strategy_sharpe=0.0), returns=frame(A=A, S=short.to_numpy()))
    v = verdict(d, "min_history_days")
    assert v.reason_code == ReasonCode.INSUFFICIENT_HISTORY and v.units == ["S"]
    assert d.weights == pytest.approx({"A": 0.5, "S": 0.5}) and "S" not in d.exclusions


def test_bounds_when_survivors_cannot_hold_exposure_then_excess_stays_in_cash():
    loser = series([-0.01, 0.004])
    d = run({"A": 0.4, "C": 0.3, "D": 0.2, "L": 0.1}, limits(min_strategy_sharpe=-1e9), returns=frame(A=A, C=C, D=D, L=loser))
    assert sum(d.weights.values()) == pytest.approx(1.0)  # nothing dropped: fully invested, Σw = 1
    d = run({"A": 0.5, "C": 0.5}, limits(max_single_strategy=0.4))
    assert d.weights == pytest.approx({"A": 0.4, "C": 0.4})  # 2 x 0.4 < 1: 0.2 stays in cash
    v = verdict(d, "max_single_strategy")
    assert v.action == RiskAction.SHRINK and "0.2000 stays in cash" in v.message


def test_bounds_when_min_weights_exceed_leverage_then_blocked_naming_limit():
    d = run({"A": 0.3, "C": 0.3, "D": 0.4}, limits(min_single_strategy=0.3, max_portfolio_leverage=0.8))
    assert d.status == RiskStatus.BLOCKED and "min_single_strategy infeasible" in d.block_reason
    v = verdict(d, "min_single_strategy")
    assert v.reason_code == ReasonCode.BOUNDS_INFEASIBLE
    assert verdict(d, "min_portfolio_sharpe").reason_code == ReasonCode.NOT_EVALUATED


def test_apply_when_every_unit_dropped_then_blocked():
    d = run({"L": 1.0}, limits(min_strategy_sharpe=0.0), returns=frame(L=series([-0.01, 0.004])))
    assert d.status == RiskStatus.BLOCKED and d.block_reason == "every unit was dropped by the per-unit limits"


@pytest.mark.parametrize("weights", [{"A": float("nan"), "C": 0.5}, {"A": -0.1, "C": 1.1}, {}])
def test_apply_when_engine_output_invalid_then_blocked(weights):
    d = run(weights, limits())
    assert d.status == RiskStatus.BLOCKED and d.verdicts[0].reason_code == ReasonCode.ENGINE_OUTPUT_INVALID


def test_apply_when_any_outcome_then_never_adds_units_or_exposure(registry_returns):
    units = list(registry_returns.columns)
    for end in ["2003-12-31", "2008-12-31", "2013-06-28", "2021-12-31"]:
        proposed = {u: 1 / len(units) for u in units[:5]}
        d = apply_risk_limits(proposed, registry_returns.loc[:end], RiskLimits(max_correlation_pair=0.95, max_avg_correlation=0.95),
                              lookback=252, min_history=60)
        assert set(d.weights) <= set(proposed)
        assert sum(d.weights.values()) <= sum(proposed.values()) + 1e-12


def test_apply_when_a_unit_is_flat_over_the_lookback_then_no_crash_and_no_pair_with_it():
    # A sleeve in cash for a whole year (the SMA sleeve before November 2001) has zero variance:
    # its correlation is undefined, so it pairs with nothing; its Sharpe is 0.
    flat = np.zeros(120)
    d = run({"A": 0.4, "F": 0.3, "C": 0.3}, limits(max_correlation_pair=0.5, max_avg_correlation=0.5,
                                                    min_strategy_sharpe=-1.0),
            returns=frame(A=A, F=flat, C=C))
    assert d.status != RiskStatus.BLOCKED and "F" in d.weights
    assert "F" not in verdict(d, "max_correlation_pair").units


def test_backtest_when_sample_starts_in_2001_then_runs_through_the_flat_sleeve(registry):
    # Issue 8: a replay from 2001-01-02 crashed on 2001-11-12 on the SMA sleeve's NaN correlation.
    from pathlib import Path

    from src.backtest.runner import run_backtest
    from src.utils.config_files import load_portfolio_file

    sample = load_portfolio_file(Path(__file__).resolve().parents[2] / "src/data/portfolios/sample_portfolio.json")
    result = run_backtest(sample.portfolio, "2001-01-02", "2002-06-28", registry=registry)
    assert result.metrics.days > 350 and result.metrics.engine_failures == 0


@pytest.mark.parametrize("dates, days", [(pd.date_range("2021-01-01", periods=120), 365),   # crypto: every day
                                         (DATES, 252)])                                     # stocks: weekdays
def test_sharpe_limits_when_calendar_given_then_annualised_with_its_days_per_year(dates, days):
    returns = pd.DataFrame({"A": A, "C": C}, index=dates)
    d = run({"A": 0.5, "C": 0.5}, limits(), returns=returns)
    unit = verdict(d, "min_strategy_sharpe").value  # the worst unit's Sharpe
    hand = min(returns[u].mean() / returns[u].std(ddof=1) * np.sqrt(days) for u in "AC")
    assert unit == pytest.approx(hand, rel=1e-12)
    port = (returns["A"] + returns["C"]) / 2
    assert verdict(d, "min_portfolio_sharpe").value == pytest.approx(port.mean() / port.std(ddof=1) * np.sqrt(days),
                                                                     rel=1e-12)
