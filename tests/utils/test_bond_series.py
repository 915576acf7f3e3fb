"""The constant-maturity Treasury total-return series: hand-computed bond maths on the shipped yields."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from src.errors import DataError
from src.market.data import HistoricalMarketData
from src.utils.bond_series import (bond_price, convexity, modified_duration, repricing_return,
                                   total_return_index)
from src.utils.market_data import asset_prices, available_symbols, load_prices, treasury_yields


def _hand_return(c: float, y: float, days: int, maturity: float) -> float:
    """The module docstring's formula, written out in plain Python."""
    t = maturity - days / 365
    w = (1 + y / 2) ** (-2 * t)
    return c / y * (1 - w) + w + c * days / 365 - 1


@pytest.fixture(scope="module")
def real_10y() -> pd.Series:
    """The shipped 10-year yields of the first seven published days (1990-01-02 .. 1990-01-10)."""
    return treasury_yields()["10year"].loc["1990-01-02":"1990-01-10"].rename("UST10Y")


# --- bond maths, hand-computed ---------------------------------------------------------------

def test_modified_duration_when_10y_5pct_par_bond_then_7_7946():
    # (1 - 1.025 ** -20) / 0.05 = (1 - 0.6102709) / 0.05
    assert round(modified_duration(0.05, 10.0), 4) == 7.7946


def test_convexity_when_10y_5pct_par_bond_then_matches_cash_flow_sum():
    y = 0.05
    flows = [0.025] * 19 + [1.025]  # per 1 of face, half-yearly
    by_hand = sum(cf * k * (k + 1) / 4 / (1 + y / 2) ** (k + 2) for k, cf in enumerate(flows, start=1))
    assert convexity(y, 10.0) == pytest.approx(by_hand, rel=1e-12)
    assert round(convexity(y, 10.0), 4) == 73.6287


def test_bond_price_when_yield_equals_coupon_then_par():
    assert bond_price(0.05, 0.05, 10.0) == pytest.approx(100.0, abs=1e-12)
    assert bond_price(0.0794, 0.0794, 10.0 - 3 / 365) == pytest.approx(100.0, abs=1e-12)


def test_bond_price_when_integer_maturity_then_equals_discounted_cash_flows():
    flows = [2.5] * 9 + [102.5]  # 5 years, 5% coupon, per 100 of face, at 6%
    by_hand = sum(cf / 1.03 ** k for k, cf in enumerate(flows, start=1))
    assert bond_price(0.05, 0.06, 5.0) == pytest.approx(by_hand, rel=1e-13)
    assert by_hand == pytest.approx(95.7349, abs=1e-4)


def test_bond_price_when_zero_yield_then_undiscounted_cash_flows():
    assert bond_price(0.05, 0.0, 10.0) == pytest.approx(150.0, abs=1e-12)
    assert modified_duration(0.0, 10.0) == pytest.approx(10.0)
    assert convexity(0.0, 10.0) == pytest.approx(10.0 * 10.5)


def test_duration_and_convexity_when_tiny_yield_then_series_branch_matches_exact_value():
    y = 0.9e-6  # below 1e-6 the closed forms cancel badly, so a Taylor series in y is used
    flows = [y / 2] * 19 + [1 + y / 2]
    price = sum(cf / (1 + y / 2) ** k for k, cf in enumerate(flows, start=1))
    by_hand_d = sum(cf * k / 2 / (1 + y / 2) ** (k + 1) for k, cf in enumerate(flows, start=1)) / price
    by_hand_c = sum(cf * k * (k + 1) / 4 / (1 + y / 2) ** (k + 2) for k, cf in enumerate(flows, start=1)) / price
    assert modified_duration(y, 10.0) == pytest.approx(by_hand_d, rel=1e-11)
    assert convexity(y, 10.0) == pytest.approx(by_hand_c, rel=1e-11)


# --- the repricing return ---------------------------------------------------------------------

def test_repricing_return_when_yield_unchanged_then_exactly_the_carry():
    for days in (1, 3, 4):
        assert repricing_return(0.0802, 0.0802, days, 10.0) == pytest.approx(0.0802 * days / 365, abs=1e-15)


def test_repricing_return_when_yield_rises_then_negative():
    assert repricing_return(0.0794, 0.0799, 1, 10.0) < 0
    assert repricing_return(0.0794, 0.0789, 1, 10.0) > 0.0794 / 365


@pytest.mark.parametrize("dy", [1e-4, -1e-4, 2.5e-4, -5e-4])
def test_repricing_return_when_small_move_then_duration_convexity_to_second_order(dy):
    y0, days, maturity = 0.05, 1, 10.0
    t = maturity - days / 365  # the bond is a day shorter when repriced
    d, c, carry = modified_duration(y0, t), convexity(y0, t), y0 * days / 365

    def error(move: float) -> float:
        return repricing_return(y0, y0 + move, days, maturity) - (-d * move + 0.5 * c * move**2 + carry)

    assert abs(error(dy)) < 0.01 * 0.5 * c * dy**2                  # far below the convexity term
    assert error(dy) / error(dy / 2) == pytest.approx(8.0, rel=0.02)  # the remainder is third order


def test_repricing_return_when_real_day_then_matches_hand_computation(real_10y):
    # 10-year CMT yield 7.94% on 1990-01-02, 7.99% on 1990-01-03: one calendar day.
    assert real_10y.loc["1990-01-02"] == 0.0794 and real_10y.loc["1990-01-03"] == 0.0799
    by_hand = _hand_return(0.0794, 0.0799, 1, 10.0)
    assert by_hand == pytest.approx(-0.00318093842454081, abs=1e-15)  # to 40 digits: -0.0031809384245408094
    assert repricing_return(0.0794, 0.0799, 1, 10.0) == pytest.approx(by_hand, abs=1e-15)
    level = load_prices("bonds")["UST10Y"]
    assert level.loc["1990-01-02"] == 100.0
    assert level.loc["1990-01-03"] == pytest.approx(100.0 * (1 + by_hand), rel=1e-14)


def test_total_return_index_when_weekend_then_three_days_elapsed(real_10y):
    level = total_return_index(real_10y, 10.0)
    # Friday 1990-01-05 at 7.99% to Monday 1990-01-08 at 8.02%: three calendar days of carry.
    by_hand = _hand_return(0.0799, 0.0802, 3, 10.0)
    assert level.loc["1990-01-08"] / level.loc["1990-01-05"] - 1 == pytest.approx(by_hand, abs=1e-14)
    # Monday 8.02% to Tuesday 8.02%: unchanged yield, exactly one day's carry.
    assert level.loc["1990-01-09"] / level.loc["1990-01-08"] - 1 == pytest.approx(0.0802 / 365, abs=1e-14)


def test_total_return_index_when_5y_real_day_then_matches_hand_computation():
    level = load_prices("bonds")["UST5Y"]
    # 5-year CMT yield 7.87% on 1990-01-02, 7.92% on 1990-01-03.
    assert level.loc["1990-01-03"] / 100.0 - 1 == pytest.approx(_hand_return(0.0787, 0.0792, 1, 5.0), abs=1e-14)


# --- gaps and bad input -----------------------------------------------------------------------

def test_total_return_index_when_yield_blank_then_nan_and_next_return_bridges_the_days(real_10y):
    yields = real_10y.copy()
    yields.loc["1990-01-03":"1990-01-04"] = np.nan  # not published on two days
    level = total_return_index(yields, 10.0)
    assert level.loc["1990-01-03":"1990-01-04"].isna().all()  # no level where no yield: never filled
    # 1990-01-05 uses the last published yield (01-02, 7.94%) and the 3 calendar days elapsed.
    assert level.loc["1990-01-05"] == pytest.approx(100.0 * (1 + _hand_return(0.0794, 0.0799, 3, 10.0)), rel=1e-14)


def test_total_return_index_when_gap_over_7_days_then_data_error_names_date(real_10y):
    yields = real_10y.drop(pd.to_datetime(["1990-01-03", "1990-01-04", "1990-01-05", "1990-01-08"]))
    assert total_return_index(yields, 10.0).notna().all()  # 01-02 to 01-09 is exactly 7 days: bridged
    yields = yields.drop(pd.Timestamp("1990-01-09"))
    with pytest.raises(DataError, match=r"UST10Y\[1990-01-10\]: 8 calendar days since .* 1990-01-02"):
        total_return_index(yields, 10.0)


def test_total_return_index_when_yield_in_percent_then_data_error_names_value(real_10y):
    with pytest.raises(DataError, match=r"UST10Y\[1990-01-02\]=7\.9\d* is not a finite yield as a fraction"):
        total_return_index(real_10y * 100, 10.0)


def test_total_return_index_when_dates_unsorted_then_data_error(real_10y):
    with pytest.raises(DataError, match="UST10Y: dates are unsorted or duplicated"):
        total_return_index(real_10y.iloc[::-1], 10.0)


def test_total_return_index_when_nothing_published_then_data_error(real_10y):
    with pytest.raises(DataError, match="no published yield"):
        total_return_index(real_10y * np.nan, 10.0)


def test_bond_maths_when_bad_arguments_then_data_error_names_field():
    with pytest.raises(DataError, match=r"maturity_years=-1.0 must be a positive"):
        modified_duration(0.05, -1.0)
    with pytest.raises(DataError, match=r"ytm=nan is not a finite yield"):
        bond_price(0.05, float("nan"), 10.0)
    with pytest.raises(DataError, match=r"days=0.0 must be positive"):
        repricing_return(0.05, 0.05, 0, 10.0)


# --- the shipped symbols ----------------------------------------------------------------------

def test_bonds_group_when_loaded_then_both_symbols_complete_from_1990():
    bonds = load_prices("bonds")
    assert list(bonds.columns) == ["UST10Y", "UST5Y"]
    assert bonds.index[0] == pd.Timestamp("1990-01-02") and bonds.index[-1] == pd.Timestamp("2017-03-29")
    assert bonds.notna().all().all() and (bonds > 0).all().all()
    assert {"UST10Y", "UST5Y"} <= set(available_symbols())


def test_asset_prices_when_bond_and_stock_then_inner_join():
    prices = asset_prices(["UST10Y", "KO"])
    assert prices.index[0] == pd.Timestamp("1990-01-02") and prices.index[-1] == pd.Timestamp("2017-03-29")
    assert prices.notna().all().all()


def test_historical_market_data_when_bond_symbol_then_served_like_any_asset():
    market = HistoricalMarketData()
    price = market.prices_at(datetime(1990, 1, 3), ["UST10Y"])["UST10Y"]
    assert price == pytest.approx(100.0 * (1 + _hand_return(0.0794, 0.0799, 1, 10.0)), rel=1e-14)
    assert market.trading_days(["UST10Y", "UST5Y"])[0] == pd.Timestamp("1990-01-02")


def test_ust10y_when_1990_to_2016_then_annual_return_in_line_with_published_figures():
    # Published 10-year Treasury total returns over 1990-2016 (e.g. Damodaran's annual T-bond
    # returns, NYU Stern) compound to roughly 6-8% a year; the derived index should agree loosely.
    level = load_prices("bonds")["UST10Y"].loc["1990-01-02":"2016-12-30"]
    years = (level.index[-1] - level.index[0]).days / 365.25
    annual = (level.iloc[-1] / level.iloc[0]) ** (1 / years) - 1
    print(f"UST10Y annualised total return 1990-01-02..2016-12-30: {annual:.4%}")
    assert 0.055 < annual < 0.085, f"UST10Y annualised total return 1990-01-02..2016-12-30 = {annual:.4%}"
