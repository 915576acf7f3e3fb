"""The proxies' shipped data: WTI crude (values read by hand from the CSV) and the 3-month bill."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from src.market.data import HistoricalMarketData
from src.utils.market_data import asset_prices, available_symbols, load_prices, simple_returns, treasury_yields


@pytest.fixture(scope="module")
def wti() -> pd.Series:
    return load_prices("commodities")["WTI"]


@pytest.mark.parametrize("day, price", [
    # lines of src/data/market/wti_crude_daily.csv.gz, read with zcat: "1/2/1986,25.56", ...
    ("1986-01-02", 25.56), ("1998-12-24", 11.03), ("2008-07-03", 145.31), ("2016-02-11", 26.19),
    ("2016-04-04", 34.3), ("2019-01-03", 46.92),
])
def test_wti_when_loaded_then_prices_equal_the_shipped_csv(wti, day, price):
    assert wti[day] == price


@pytest.mark.parametrize("day", ["1986-02-17", "2018-12-31"])  # "2/17/1986,." and "12/31/2018,."
def test_wti_when_csv_has_a_dot_then_nan_never_filled(wti, day):
    assert math.isnan(wti[day])


def test_wti_when_loaded_then_whole_file_with_its_blanks(wti):
    assert (wti.index[0], wti.index[-1], len(wti)) == (pd.Timestamp("1986-01-02"), pd.Timestamp("2019-01-03"), 8611)
    assert wti.isna().sum() == 290 and (wti.dropna() > 0).all()


def test_wti_when_used_as_an_asset_then_blank_days_dropped_and_return_spans_them():
    prices = asset_prices(["WTI"])
    assert pd.Timestamp("2018-12-31") not in prices.index and prices.notna().all().all()
    returns = simple_returns(prices)["WTI"]
    assert returns["2019-01-02"] == pytest.approx(46.31 / 45.15 - 1, rel=1e-12)  # 12/28/2018 -> 1/2/2019


def test_wti_when_served_by_market_data_then_like_any_asset():
    assert {"WTI", "UST3M"} <= set(available_symbols())
    assert HistoricalMarketData().prices_at(datetime(2008, 7, 3, 16), ["WTI"]) == {"WTI": 145.31}


def _bill_return(prev_yield: float, new_yield: float, days: int) -> float:
    """By hand: a par bill of 0.25 years bought at ``prev_yield`` (its coupon), repriced ``days`` later."""
    t = 0.25 - days / 365
    w = (1 + new_yield / 2) ** (-2 * t)
    price = w + (prev_yield / new_yield) * (1 - w) if new_yield else 1 + prev_yield * t
    return price + prev_yield * days / 365 - 1


@pytest.mark.parametrize("before, after, y0, y1, days", [
    ("1990-01-05", "1990-01-08", 0.0779, 0.0779, 3),  # unchanged over a weekend: exactly the accrual
    ("1990-01-02", "1990-01-03", 0.0783, 0.0789, 1),  # the yield rose: accrual less the repricing
    ("2008-12-10", "2008-12-11", 0.0000, 0.0001, 1),  # from a zero yield: no accrual
])
def test_ust3m_when_real_days_then_matches_hand_computation(before, after, y0, y1, days):
    yields = treasury_yields()["3month"]
    assert (yields[before], yields[after]) == (y0, y1)  # the shipped 3-month yields
    bill = load_prices("bills")["UST3M"]
    assert bill[after] / bill[before] - 1 == pytest.approx(_bill_return(y0, y1, days), rel=1e-9, abs=1e-15)


def test_ust3m_when_unchanged_yield_then_return_is_yield_times_days_over_365():
    bill = load_prices("bills")["UST3M"]
    assert bill["1990-01-08"] / bill["1990-01-05"] - 1 == pytest.approx(0.0779 * 3 / 365, rel=1e-12)


def test_ust3m_when_1990_to_2016_then_about_3_percent_a_year():
    bill = load_prices("bills")["UST3M"]
    assert bill.iloc[0] == 100.0 and bill.index[0] == pd.Timestamp("1990-01-02")
    span = bill.loc["1990-01-02":"2016-12-30"]
    years = (span.index[-1] - span.index[0]).days / 365.25
    assert (span.iloc[-1] / span.iloc[0]) ** (1 / years) - 1 == pytest.approx(0.030, abs=0.002)  # T-bills: ~3%
