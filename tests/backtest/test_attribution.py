"""Performance attribution: hand-computed cases, Carino linking invariants, real prices, errors."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.backtest.attribution import Attribution, attribution_from_history, performance_attribution
from src.errors import DataError, InsufficientDataError
from src.models.execution_models import ValuePoint
from src.utils.market_data import asset_prices, simple_returns

DAYS = pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"])


def frames(weights: dict, returns: dict, portfolio: list[float]):
    idx = DAYS[: len(portfolio)]
    return pd.DataFrame(weights, index=idx), pd.DataFrame(returns, index=idx), pd.Series(portfolio, index=idx)


def line_sum(result: Attribution) -> float:
    return math.fsum(result.contributions.values())


def test_attribute_when_two_days_two_units_then_matches_hand_computed_carino_lines():
    # Day 1: A 0.6 * +10% = +0.06, B 0.4 * -5% = -0.02, R1 = 0.04
    # Day 2: A 0.5 * -2%  = -0.01, B 0.5 * +4% = +0.02, R2 = 0.01
    # Total R = 1.04 * 1.01 - 1 = 0.0504 (plain sums give A 0.05 + B 0.00 = 0.05: 0.0004 short)
    # k1 = ln(1.04)/0.04 = 0.98051783, k2 = ln(1.01)/0.01 = 0.99503309, K = ln(1.0504)/0.0504 = 0.97561595
    # A = (0.06 k1 - 0.01 k2) / K = 0.05010244 ; B = (-0.02 k1 + 0.02 k2) / K = 0.00029756
    w, r, rp = frames({"A": [0.6, 0.5], "B": [0.4, 0.5]}, {"A": [0.10, -0.02], "B": [-0.05, 0.04]}, [0.04, 0.01])
    result = performance_attribution(w, r, rp)
    k1, k2, big_k = math.log(1.04) / 0.04, math.log(1.01) / 0.01, math.log(1.0504) / 0.0504
    assert result.total_return == pytest.approx(0.0504, abs=1e-15)
    assert result.contributions["A"] == pytest.approx((0.06 * k1 - 0.01 * k2) / big_k, abs=1e-15)
    assert result.contributions["A"] == pytest.approx(0.05010244, abs=1e-8)
    assert result.contributions["B"] == pytest.approx((-0.02 * k1 + 0.02 * k2) / big_k, abs=1e-15)
    assert result.contributions["B"] == pytest.approx(0.00029756, abs=1e-8)
    assert result.contributions["trading_and_fees"] == pytest.approx(0.0, abs=1e-15)
    assert line_sum(result) == pytest.approx(result.total_return, abs=1e-12)
    assert (result.start, result.end, result.days) == (date(2021, 1, 4), date(2021, 1, 5), 2)
    assert result.method == "carino_1999_log_linking"


def test_attribute_when_a_day_is_flat_then_its_coefficient_is_the_limit_one():
    # Day 1: A 0.5 * +2% = +0.01, B 0.5 * -2% = -0.01, R1 = 0 -> k1 = lim ln(1+x)/x = 1
    # Day 2: A 1.0 * +3% = +0.03, R2 = 0.03 -> k2 = K = ln(1.03)/0.03 = 0.98529341 (one non-flat day)
    # A = 0.01 * 1 / K + 0.03 = 0.04014926 ; B = -0.01 / K = -0.01014926 ; sum 0.03
    w, r, rp = frames({"A": [0.5, 1.0], "B": [0.5, 0.0]}, {"A": [0.02, 0.03], "B": [-0.02, 0.0]}, [0.0, 0.03])
    result = performance_attribution(w, r, rp)
    assert result.contributions["A"] == pytest.approx(0.04014926104070464, abs=1e-15)
    assert result.contributions["B"] == pytest.approx(-0.010149261040704644, abs=1e-15)
    assert line_sum(result) == pytest.approx(0.03, abs=1e-12)


def test_attribute_when_every_day_is_flat_then_lines_are_the_plain_sums():
    # R_t = 0 for all t, so R = 0 and k_t = K = 1: the linked lines are the plain sums.
    w, r, rp = frames({"A": [0.5, 0.5], "B": [0.5, 0.5]}, {"A": [0.02, -0.04], "B": [-0.02, 0.04]}, [0.0, 0.0])
    result = performance_attribution(w, r, rp)
    assert result.total_return == 0.0
    assert result.contributions["A"] == pytest.approx(0.01 - 0.02, abs=1e-15)
    assert result.contributions["B"] == pytest.approx(-0.01 + 0.02, abs=1e-15)


def test_attribute_when_total_return_is_zero_but_days_are_not_then_lines_sum_to_zero():
    # +10% then -1/11: 1.1 * 10/11 = 1, so R = 0 and K takes its limit 1; A's line is
    # 0.1 * ln(1.1)/0.1 + (-1/11) * ln(10/11)/(-1/11) = ln(1.1) + ln(10/11) = 0.
    w, r, rp = frames({"A": [1.0, 1.0]}, {"A": [0.1, -1 / 11]}, [0.1, -1 / 11])
    result = performance_attribution(w, r, rp)
    assert result.total_return == pytest.approx(0.0, abs=1e-15)
    assert result.contributions["A"] == pytest.approx(0.0, abs=1e-15)
    assert line_sum(result) == pytest.approx(result.total_return, abs=1e-12)


def test_attribute_when_a_fee_reduces_the_return_then_residual_line_equals_the_fee():
    # Units: A 0.7 * 2% + B 0.3 * 1% = 0.017; a fee of 25 on 100,000 costs 0.00025, cash earns 0.
    # One day, so k1 / K = 1 and the residual line is exactly -0.00025.
    w, r, rp = frames({"A": [0.7], "B": [0.25], "cash": [0.05]}, {"A": [0.02], "B": [0.012]}, [0.017 - 0.00025])
    result = performance_attribution(w, r, rp)
    assert result.contributions["trading_and_fees"] == pytest.approx(-0.00025, abs=1e-15)
    assert result.contributions["cash"] == 0.0
    assert line_sum(result) == pytest.approx(result.total_return, abs=1e-12)


def test_attribute_when_cash_has_a_return_column_then_cash_earns_it():
    # cash 0.5 * 0.01% = 0.00005, A 0.5 * 1% = 0.005; one day, so the lines are these numbers.
    w, r, rp = frames({"A": [0.5], "cash": [0.5]}, {"A": [0.01], "cash": [0.0001]}, [0.00505])
    result = performance_attribution(w, r, rp)
    assert result.contributions["cash"] == pytest.approx(0.00005, abs=1e-15)
    assert result.contributions["trading_and_fees"] == pytest.approx(0.0, abs=1e-15)


@st.composite
def attribution_inputs(draw):
    n = draw(st.integers(1, 60))
    m = draw(st.integers(1, 4))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    raw = np.array(draw(st.lists(st.lists(unit, min_size=m, max_size=m), min_size=n, max_size=n)))
    invested = np.array(draw(st.lists(unit, min_size=n, max_size=n)))
    weights = raw / np.maximum(raw.sum(axis=1, keepdims=True), 1e-12) * invested[:, None]
    ret = st.floats(-0.5, 0.5, exclude_min=True, exclude_max=True, allow_nan=False)
    returns = np.array(draw(st.lists(st.lists(ret, min_size=m, max_size=m), min_size=n, max_size=n)))
    portfolio = np.array(draw(st.lists(ret, min_size=n, max_size=n)))
    idx = pd.bdate_range("2020-01-01", periods=n)
    cols = [f"u{j}" for j in range(m)]
    return pd.DataFrame(weights, idx, cols), pd.DataFrame(returns, idx, cols), pd.Series(portfolio, idx)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(attribution_inputs())
def test_attribute_when_inputs_are_random_then_lines_sum_to_compounded_return(inputs):
    w, r, rp = inputs
    assert (w.sum(axis=1) <= 1.0 + 1e-12).all()
    result = performance_attribution(w, r, rp)
    assert result.total_return == pytest.approx(float(np.prod(1.0 + rp.to_numpy()) - 1.0), rel=1e-12, abs=1e-15)
    # 1e-10 absolute, relative once the total is beyond 1 (60 days of +/-50% can compound to 1e10).
    assert line_sum(result) == pytest.approx(result.total_return, rel=1e-10, abs=1e-10)


def test_attribute_when_real_prices_are_held_then_residual_is_zero_and_sum_is_buy_and_hold():
    prices = asset_prices(["KO", "PG"]).loc["2020-03-02":].iloc[:21]  # 21 closes -> 20 daily returns
    returns = simple_returns(prices)
    holdings = np.array([0.6, 0.4]) * 100_000.0 / prices.iloc[0].to_numpy()
    values = prices.to_numpy() * holdings
    totals = values.sum(axis=1)
    weights = pd.DataFrame(values[:-1] / totals[:-1, None], index=returns.index, columns=prices.columns)
    portfolio = pd.Series(totals[1:] / totals[:-1] - 1.0, index=returns.index)
    result = performance_attribution(weights, returns, portfolio)
    assert result.days == 20
    assert result.contributions["trading_and_fees"] == pytest.approx(0.0, abs=1e-14)
    assert line_sum(result) == pytest.approx(totals[-1] / totals[0] - 1.0, abs=1e-12)


def point(day: str, value: float, cash: float, weights: dict, flow: float = 0.0) -> ValuePoint:
    return ValuePoint(timestamp=datetime.fromisoformat(f"{day}T16:00"), value=value, cash=cash, flow=flow,
                      weights=weights)


def test_attribute_history_when_a_deposit_arrives_then_it_is_not_a_return():
    # Close 0: 100,000 = A 60,000 + B 30,000 + cash 10,000.
    # Day 1: A +5% -> 63,000, B -10% -> 27,000; deposit 5,000: value 105,000, R1 = 100,000/100,000 - 1 = 0.
    #        Contributions A 0.6 * 5% = 0.03, B 0.3 * -10% = -0.03, cash 0.1 * 0 = 0; k1 = 1.
    # Day 2: A +10% -> 69,300, B flat; value 111,300, R2 = 0.06; weights (0.6, 27/105, 15/105): A 0.06.
    # Total 0.06, K = k2 = ln(1.06)/0.06 = 0.97114847: A = 0.03/K + 0.06 = 0.09089126, B = -0.03/K.
    history = [point("2021-01-04", 100_000, 10_000, {"A": 0.6, "B": 0.3}),
               point("2021-01-05", 105_000, 15_000, {"A": 0.6, "B": 27 / 105}, flow=5_000),
               point("2021-01-06", 111_300, 15_000, {"A": 69.3 / 111.3, "B": 27 / 111.3})]
    unit_returns = pd.DataFrame({"A": [0.05, 0.10], "B": [-0.10, 0.0]}, index=DAYS[1:])
    result = attribution_from_history(history, unit_returns)
    assert result.total_return == pytest.approx(0.06, abs=1e-15)
    assert result.contributions["A"] == pytest.approx(0.09089126015833746, abs=1e-14)
    assert result.contributions["B"] == pytest.approx(-0.03089126015833745, abs=1e-14)
    assert result.contributions["cash"] == 0.0
    assert result.contributions["trading_and_fees"] == pytest.approx(0.0, abs=1e-14)
    assert (result.start, result.end, result.days) == (date(2021, 1, 5), date(2021, 1, 6), 2)


def test_attribute_history_when_a_trading_day_is_skipped_then_unit_returns_are_compounded():
    # No point on 01-05: A's return over (01-04, 01-06] is 1.05 * 1.10 - 1 = 0.155, all in A.
    history = [point("2021-01-04", 100_000, 0, {"A": 1.0}), point("2021-01-06", 115_500, 0, {"A": 1.0})]
    unit_returns = pd.DataFrame({"A": [0.05, 0.10]}, index=DAYS[1:])
    result = attribution_from_history(history, unit_returns)
    assert result.contributions["A"] == pytest.approx(0.155, abs=1e-14)
    assert result.contributions["trading_and_fees"] == pytest.approx(0.0, abs=1e-14)


def test_attribute_history_when_fewer_than_two_points_then_insufficient_data():
    with pytest.raises(InsufficientDataError, match="history has 1 point"):
        attribution_from_history([point("2021-01-04", 100_000, 0, {"A": 1.0})], pd.DataFrame({"A": [0.0]}))


@pytest.mark.parametrize("unit_returns", [
    pd.DataFrame({"A": [0.01], "B": [0.02]}, index=DAYS[2:]),          # no row for 01-05
    pd.DataFrame({"A": [0.01, 0.02]}, index=DAYS[1:]),                 # no column B
    pd.DataFrame({"A": [0.01, 0.02], "B": [np.nan, 0.0]}, index=DAYS[1:]),  # B missing on 01-05
])
def test_attribute_history_when_a_held_unit_has_no_return_then_error_names_unit_and_date(unit_returns):
    history = [point("2021-01-04", 100, 0, {"A": 0.5, "B": 0.5}), point("2021-01-05", 101, 0, {"A": 0.5, "B": 0.5})]
    with pytest.raises(DataError, match=r"no return of '(A|B)' on 2021-01-05, where it had weight 0.5"):
        attribution_from_history(history, unit_returns)


def test_attribute_history_when_a_skipped_day_has_no_return_then_error_names_that_day():
    history = [point("2021-01-04", 100, 0, {"A": 1.0}), point("2021-01-06", 101, 0, {"A": 1.0})]
    with pytest.raises(DataError, match="no return of 'A' on 2021-01-05, where it had weight 1.0"):
        attribution_from_history(history, pd.DataFrame({"A": [np.nan, 0.01]}, index=DAYS[1:]))


@pytest.mark.parametrize("unit_returns", [pd.DataFrame({"A": [0.01]}, index=DAYS[1:2]),
                                          pd.DataFrame({"A": [0.01], "B": [np.nan]}, index=DAYS[1:2])])
def test_attribute_history_when_an_unheld_unit_has_no_return_then_it_contributes_zero(unit_returns):
    history = [point("2021-01-04", 100, 0, {"A": 1.0, "B": 0.0}), point("2021-01-05", 101, 0, {"A": 1.0, "B": 0.0})]
    result = attribution_from_history(history, unit_returns)
    assert result.contributions["B"] == 0.0 and result.contributions["A"] == pytest.approx(0.01, abs=1e-15)


def test_attribute_history_when_all_in_cash_then_only_cash_and_residual_lines():
    history = [point("2021-01-04", 100, 100, {"A": 0.0}), point("2021-01-05", 100, 100, {"A": 0.0})]
    result = attribution_from_history(history, pd.DataFrame({"B": [0.01]}, index=DAYS[1:2]))
    assert result.contributions == {"A": 0.0, "cash": 0.0, "trading_and_fees": 0.0}


def test_attribute_when_indexes_are_misaligned_then_error_not_reindexed():
    w, r, rp = frames({"A": [1.0, 1.0]}, {"A": [0.01, 0.02]}, [0.01, 0.02])
    with pytest.raises(DataError, match=r"portfolio_returns.index\[1\]=2021-01-06 00:00:00 differs"):
        performance_attribution(w, r, rp.set_axis(DAYS[[0, 2]]))
    with pytest.raises(DataError, match="unit_returns.index has 1 rows but weights.index has 2"):
        performance_attribution(w, r.iloc[:1], rp)


@pytest.mark.parametrize("weights, returns, portfolio, error, fragment", [
    ({"A": [np.nan]}, {"A": [0.01]}, [0.01], DataError, r"weights\['A'\] on 2021-01-04 is nan"),
    ({"A": [1.0]}, {"A": [np.nan]}, [0.01], DataError, r"unit_returns\['A'\] on 2021-01-04 is nan"),
    ({"A": [1.0]}, {"A": [-1.5]}, [0.01], DataError, r"unit_returns\['A'\] on 2021-01-04 is -1.5"),
    ({"A": [1.0]}, {"A": [-1.0]}, [-1.0], DataError, "portfolio_returns on 2021-01-04 is -1.0"),
    ({"A": [1.0]}, {"B": [0.01]}, [0.01], DataError, "unit_returns has no column for unit 'A'"),
    ({"trading_and_fees": [1.0]}, {"A": [0.01]}, [0.01], DataError, "reserved"),
    ({"A": []}, {"A": []}, [], InsufficientDataError, "weights has 0 rows"),
])
def test_attribute_when_input_is_bad_then_error_names_field_and_value(weights, returns, portfolio, error, fragment):
    with pytest.raises(error, match=fragment):
        performance_attribution(*frames(weights, returns, portfolio))


def test_attribute_when_days_are_not_increasing_or_not_dates_then_error():
    w, r, rp = frames({"A": [1.0, 1.0]}, {"A": [0.01, 0.02]}, [0.01, 0.02])
    back = DAYS[[1, 0]]
    with pytest.raises(DataError, match="strictly increasing"):
        performance_attribution(w.set_axis(back), r.set_axis(back), rp.set_axis(back))
    with pytest.raises(DataError, match="must be a DatetimeIndex, got RangeIndex"):
        performance_attribution(w.reset_index(drop=True), r.reset_index(drop=True), rp.reset_index(drop=True))
    with pytest.raises(DataError, match="portfolio_returns must be a pandas Series, got list"):
        performance_attribution(w, r, [0.01, 0.02])
