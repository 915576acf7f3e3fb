"""Metrics checked against hand-computed values."""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from src.errors import InsufficientDataError
from src.utils.market_data import load_prices
from src.utils.performance import annualization_days, compute_metrics, max_drawdown, periods_per_year, sharpe_ratio


def test_max_drawdown_when_up_down_up_then_peak_to_trough():
    # wealth 1.1, 0.88, 0.968 -> trough 0.88 from peak 1.1 = 20% fall
    assert max_drawdown([0.10, -0.20, 0.10]) == pytest.approx(0.20)


def test_max_drawdown_when_only_gains_then_zero():
    assert max_drawdown([0.01, 0.02]) == 0.0


def test_metrics_when_hand_computed_series_then_match():
    r = [0.01, -0.02, 0.03, 0.0]
    m = compute_metrics(r)
    mean = sum(r) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 3)
    assert m.total_return == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    assert m.annualized_return == pytest.approx((1.01 * 0.98 * 1.03) ** (252 / 4) - 1)
    assert m.annualized_volatility == pytest.approx(sd * math.sqrt(252))
    assert m.sharpe_ratio == pytest.approx(mean * 252 / (sd * math.sqrt(252)))
    assert m.sortino_ratio == pytest.approx(mean * 252 / (math.sqrt(0.02**2 / 4) * math.sqrt(252)))
    assert m.win_rate == pytest.approx(2 / 3)  # the flat day is not a loss
    assert m.max_drawdown == pytest.approx(0.02)


@pytest.mark.parametrize("bad, fragment", [([0.01, float("nan")], "returns[1]=nan"),
                                           ([0.01, -1.0], "returns[1]=-1.0 is a loss of 100%")])
def test_metrics_when_bad_value_then_error_names_index(bad, fragment):
    with pytest.raises(ValueError) as info:
        compute_metrics(bad)
    assert fragment in str(info.value)


def test_sharpe_when_one_observation_then_insufficient_data():
    with pytest.raises(InsufficientDataError, match="1 observation"):
        sharpe_ratio([0.01])


# --- annualisation on the data's own calendar (252 for stocks, 365 for crypto) ----------------

R = [0.01, -0.02, 0.03, 0.0, 0.015, -0.01, 0.005, 0.02, -0.005, 0.01]


def _hand_sharpe(r: list[float], days: int) -> float:
    mean = sum(r) / len(r)
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / (len(r) - 1))
    return mean / sd * math.sqrt(days)


def test_sharpe_when_crypto_calendar_then_annualised_with_365_days():
    every_day = pd.Series(R, index=pd.date_range("2021-01-01", periods=len(R)))  # Fri 1 .. Sun 10 January
    assert sharpe_ratio(every_day) == pytest.approx(_hand_sharpe(R, 365), rel=1e-12)
    m = compute_metrics(every_day)
    assert m.sharpe_ratio == pytest.approx(_hand_sharpe(R, 365), rel=1e-12)
    assert m.annualized_return == pytest.approx(math.prod(1 + x for x in R) ** (365 / len(R)) - 1, rel=1e-12)


def test_sharpe_when_stock_calendar_or_undated_then_still_252_days():
    weekdays = pd.Series(R, index=pd.bdate_range("2021-01-04", periods=len(R)))
    assert sharpe_ratio(weekdays) == pytest.approx(_hand_sharpe(R, 252), rel=1e-12)
    assert compute_metrics(weekdays) == compute_metrics(R)  # same figures as the undated series, to the bit
    assert sharpe_ratio(R) == pytest.approx(_hand_sharpe(R, 252), rel=1e-12)


def test_metrics_when_real_btc_and_ko_years_then_365_and_252_days():
    btc = load_prices("crypto")["BTC"].loc["2020-12-31":"2021-12-31"].pct_change().iloc[1:]
    ko = load_prices("stocks")["KO"].loc["2018-12-31":"2019-12-31"].pct_change().iloc[1:]
    assert len(btc) == 365 and len(ko) == 252
    assert compute_metrics(btc).annualized_volatility == pytest.approx(statistics.stdev(btc) * math.sqrt(365), rel=1e-12)
    assert compute_metrics(btc).sharpe_ratio == pytest.approx(_hand_sharpe(btc.tolist(), 365), rel=1e-12)
    assert compute_metrics(ko).annualized_volatility == pytest.approx(statistics.stdev(ko) * math.sqrt(252), rel=1e-12)
    assert compute_metrics(btc, periods=252).sharpe_ratio == pytest.approx(_hand_sharpe(btc.tolist(), 252), rel=1e-12)


@pytest.mark.parametrize("days, expected", [
    (pd.date_range("2021-01-01", periods=30), 365),                 # every calendar day: crypto
    (pd.bdate_range("2021-01-04", periods=30), 252),                # weekdays: an exchange
    (pd.DatetimeIndex(["2021-01-04", "2021-01-05"]), 252),          # two weekdays: no weekend, so 252
    (pd.date_range("2021-01-03", periods=30, freq="W-SUN"), 252),   # Sundays only: far from 365 a year
    (pd.DatetimeIndex(["2021-01-02"]), 252),                        # one day: nothing to observe
    (pd.RangeIndex(10), 252),                                       # undated
])
def test_annualization_days_when_calendar_given_then_365_only_for_every_day_markets(days, expected):
    assert annualization_days(days) == expected


def test_annualization_days_when_shipped_calendars_then_stocks_252_crypto_365():
    assert annualization_days(load_prices("stocks").index) == 252
    assert annualization_days(load_prices("crypto").index) == 365
    assert periods_per_year(load_prices("crypto").index) == pytest.approx(365.25, rel=1e-3)
