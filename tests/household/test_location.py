"""Asset location (issue 10, item 2): unit tax profiles from the shipped data, the tax-aware placement
of a two-person household's targets, and its estimated tax drag beside pro rata."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import src.household.location as location
from src.household.location import (drag_rate, locate_assets, location_report, tax_drag, unit_tax_profiles,
                                    UnitTaxProfile)
from src.market.data import HistoricalMarketData
from src.strategies import rules
from src.tax.models import AccountType, TaxSettings

MARKET_DIR = Path(__file__).resolve().parents[2] / "src" / "data" / "market"
AS_OF = date(2016, 12, 30)
SLEEVE = "momentum_strategy"
STOCKS = ("AAPL", "JNJ", "SPY")
UNITS = (*STOCKS, "UST10Y", SLEEVE)
ACCOUNT_VALUES = {"taxable_a": 400_000.0, "taxable_b": 200_000.0, "ira_a": 150_000.0, "ira_b": 100_000.0,
                  "roth_a": 50_000.0}
ACCOUNT_TYPES = {"taxable_a": AccountType.TAXABLE, "taxable_b": AccountType.TAXABLE,
                 "ira_a": AccountType.TRADITIONAL_IRA, "ira_b": AccountType.TRADITIONAL_IRA,
                 "roth_a": AccountType.ROTH_IRA}
TOTAL = sum(ACCOUNT_VALUES.values())
TARGETS = {**{s: 0.20 * TOTAL for s in STOCKS}, "UST10Y": 0.30 * TOTAL, SLEEVE: 0.10 * TOTAL}


@lru_cache(maxsize=None)
def profiles_2016() -> dict[str, UnitTaxProfile]:
    return unit_tax_profiles(list(UNITS), market=HistoricalMarketData(), as_of=AS_OF)


def spy_levels() -> pd.Series:
    """The shipped SPY total returns compounded, read straight from the CSV (dates in UTC)."""
    returns = pd.read_csv(MARKET_DIR / "spy_total_return_daily.csv.gz", parse_dates=["date"], index_col="date")
    returns.index = returns.index.tz_convert(None)
    return (1.0 + returns["return"]).cumprod()


def assert_exact(placement, targets, values, tol=1e-6):
    for account, value in values.items():
        assert sum(placement[account].values()) == pytest.approx(value, abs=tol), account
    for unit, target in targets.items():
        assert sum(p[unit] for p in placement.values()) == pytest.approx(target, abs=tol), unit
    assert all(v >= -tol for p in placement.values() for v in p.values())


def test_profile_when_bond_as_of_2016_12_30_then_income_is_the_shipped_yield_that_day():
    yields = pd.read_csv(MARKET_DIR / "us_treasury_yields_daily.csv.gz", parse_dates=["Time Period"],
                         index_col="Time Period")
    profiles = unit_tax_profiles(["UST10Y", "UST5Y"], market=HistoricalMarketData(), as_of=AS_OF)
    assert profiles["UST10Y"].income_yield == yields.loc["2016-12-30", "10year"] == pytest.approx(0.0245)
    assert profiles["UST5Y"].income_yield == yields.loc["2016-12-30", "5year"]
    assert profiles["UST10Y"].asset_class == "bond" and profiles["UST10Y"].turnover == 0.0
    assert profiles["UST10Y"].dividend_yield == 0.0


def test_profile_when_stock_in_2016_then_dividend_yield_is_the_index_yield_from_spy_between_1_and_3_percent():
    profiles = profiles_2016()
    spy = spy_levels()
    index = pd.read_csv(MARKET_DIR / "sp500_index_daily.csv.gz", parse_dates=["Date"], index_col="Date")["SP500"]
    start, end = pd.Timestamp("2015-12-30"), pd.Timestamp("2016-12-30")
    expected = (spy[end] / spy[start]) / (index[end] / index[start]) - 1.0
    for stock in STOCKS:
        assert profiles[stock].asset_class == "stock" and profiles[stock].turnover == 0.0
        assert profiles[stock].income_yield == 0.0
        assert profiles[stock].dividend_yield == pytest.approx(expected, rel=1e-12)
    assert 0.01 < profiles["SPY"].dividend_yield < 0.03
    assert any("applied to the unit as the index's yield" in n for n in profiles["AAPL"].notes)


def test_profile_when_stock_after_spy_ends_then_last_trailing_year_is_used_and_said():
    late = unit_tax_profiles(["JNJ"], market=HistoricalMarketData(), as_of=date(2020, 6, 30))["JNJ"]
    at_end = unit_tax_profiles(["JNJ"], market=HistoricalMarketData(), as_of=date(2018, 4, 27))["JNJ"]
    assert late.dividend_yield == at_end.dividend_yield > 0.0
    assert any("2017-04-27..2018-04-27" in n and "ends 2018-04-27" in n for n in late.notes)


def test_profile_when_spy_as_of_2016_then_expected_return_is_its_trailing_5_year_geometric_return():
    spy = spy_levels()
    window = spy.loc["2011-12-30":"2016-12-30"]
    expected = (window.iloc[-1] / window.iloc[0]) ** (252 / (len(window) - 1)) - 1.0
    assert profiles_2016()["SPY"].expected_return == pytest.approx(expected, rel=1e-9)


def test_profile_when_sleeve_then_turnover_is_the_yearly_sales_of_its_own_rule_weights():
    prices = pd.read_csv(MARKET_DIR / "sp500_20_stocks_daily.csv.gz", parse_dates=["Date"], index_col="Date")
    weights = rules.cross_sectional_momentum(prices.loc[:"2016-12-30"]).iloc[1:].fillna(0.0)
    sold = (weights.shift(1) - weights).clip(lower=0.0).sum(axis=1).loc["2011-12-31":"2016-12-30"]
    years = (pd.Timestamp("2016-12-30") - pd.Timestamp("2011-12-30")).days / 365.25
    profile = profiles_2016()[SLEEVE]
    assert profile.asset_class == "sleeve"
    assert profile.turnover == pytest.approx(sold.sum() / years, rel=1e-9)
    assert 1.0 < profile.turnover < 12.0  # five names re-ranked monthly
    assert profile.dividend_yield == pytest.approx(profiles_2016()["SPY"].dividend_yield)  # always invested
    print(f"\n{SLEEVE} as of {AS_OF}: turnover {profile.turnover:.2f}/yr, expected return "
          f"{profile.expected_return:.2%}, drag rate {drag_rate(profile, TaxSettings()):.2%}")


def test_profile_when_data_does_not_reach_as_of_then_zero_with_a_note_never_a_made_up_figure():
    profiles = unit_tax_profiles(["BTC", "btc_trend", "UST10Y"], market=HistoricalMarketData(),
                                 as_of=date(1989, 12, 29))
    for unit, profile in profiles.items():
        assert profile.expected_return == 0.0 and any("unknown" in n for n in profile.notes), unit
    assert profiles["UST10Y"].income_yield == 0.0
    assert profiles["btc_trend"].turnover == 0.0


def test_profiles_when_later_data_exists_then_they_equal_those_from_data_cut_at_as_of(monkeypatch):
    full = profiles_2016()
    cut = pd.Timestamp(AS_OF)

    class CutMarket(HistoricalMarketData):
        def price_series(self, unit):
            return super().price_series(unit).loc[:cut]

    originals = {name: getattr(location, name) for name in ("load_prices", "treasury_yields", "group_prices")}
    for name, function in originals.items():
        monkeypatch.setattr(location, name, lambda *a, _f=function: _f(*a).loc[:cut])
    assert unit_tax_profiles(list(UNITS), market=CutMarket(), as_of=AS_OF) == full
    cut = pd.Timestamp(AS_OF) - pd.Timedelta(days=1)  # the cut bites: one day less changes the profiles
    assert unit_tax_profiles(list(UNITS), market=CutMarket(), as_of=AS_OF) != full


def test_locate_when_tax_aware_then_least_efficient_units_fill_the_iras_and_the_highest_return_the_roth():
    profiles = profiles_2016()
    tax = TaxSettings()
    placement = locate_assets(TARGETS, ACCOUNT_VALUES, ACCOUNT_TYPES, profiles, tax=tax)
    assert_exact(placement, TARGETS, ACCOUNT_VALUES)
    rates = {u: drag_rate(profiles[u], tax) for u in UNITS}
    assert rates[SLEEVE] > rates["UST10Y"] > max(rates[s] for s in STOCKS)  # bonds are taxed before stocks
    sheltered = {u for a in ("ira_a", "ira_b", "roth_a") for u, v in placement[a].items() if v > 1e-9}
    assert sheltered == {SLEEVE, "UST10Y"}
    # the IRAs and the Roth are full of the sleeve and the bond; the rest of the bond is taxable
    assert sum(placement[a]["UST10Y"] for a in ("ira_a", "ira_b")) == pytest.approx(250_000.0 - 40_000.0)
    assert sum(placement[a]["UST10Y"] for a in ("taxable_a", "taxable_b")) == pytest.approx(60_000.0)
    # the Roth holds the sheltered unit with the highest expected return (here the highest of all units)
    best = max(UNITS, key=lambda u: profiles[u].expected_return)
    assert best == SLEEVE and placement["roth_a"][SLEEVE] == pytest.approx(50_000.0)
    # accounts of one type hold the same mix
    assert placement["ira_a"]["UST10Y"] / 150_000 == pytest.approx(placement["ira_b"]["UST10Y"] / 100_000)
    assert placement["taxable_a"]["AAPL"] / 400_000 == pytest.approx(placement["taxable_b"]["AAPL"] / 200_000)


def test_locate_when_pro_rata_then_every_account_holds_the_targets_scaled_to_its_value():
    placement = locate_assets(TARGETS, ACCOUNT_VALUES, ACCOUNT_TYPES, profiles_2016(), method="pro_rata")
    assert_exact(placement, TARGETS, ACCOUNT_VALUES)
    for account, value in ACCOUNT_VALUES.items():
        for unit, target in TARGETS.items():
            assert placement[account][unit] == pytest.approx(target * value / TOTAL, rel=1e-12)


def test_report_when_2016_household_then_tax_aware_drag_is_strictly_lower_than_pro_rata(capsys):
    report = location_report(TARGETS, ACCOUNT_VALUES, ACCOUNT_TYPES, profiles_2016())
    assert report.drag_tax_aware < report.drag_pro_rata
    assert report.saving == pytest.approx(report.drag_pro_rata - report.drag_tax_aware)
    assert report.drag_pro_rata == pytest.approx(tax_drag(report.pro_rata, ACCOUNT_TYPES, profiles_2016(),
                                                          TaxSettings()))
    with capsys.disabled():
        print(f"\nhousehold of {TOTAL:,.0f} as of {AS_OF}: estimated tax drag {report.drag_pro_rata:,.0f}/yr pro rata, "
              f"{report.drag_tax_aware:,.0f}/yr tax aware (saves {report.saving:,.0f}/yr)")


def test_tax_drag_when_held_by_hand_then_each_term_at_its_rate_and_nothing_in_iras_or_roth():
    tax = TaxSettings(short_term_rate=0.4, long_term_rate=0.2)
    profiles = {
        "B": UnitTaxProfile(unit="B", asset_class="bond", income_yield=0.03, dividend_yield=0.0, turnover=0.0,
                            expected_return=0.02),
        "S": UnitTaxProfile(unit="S", asset_class="sleeve", income_yield=0.0, dividend_yield=0.01, turnover=3.0,
                            expected_return=0.10),
        "L": UnitTaxProfile(unit="L", asset_class="sleeve", income_yield=0.0, dividend_yield=0.0, turnover=0.5,
                            expected_return=-0.10),
    }
    types = {"t": AccountType.TAXABLE, "i": AccountType.TRADITIONAL_IRA, "k": AccountType.K401,
             "r": AccountType.ROTH_IRA}
    held = {"B": 100.0, "S": 100.0, "L": 100.0}
    # bond 100 x 3% x 40%; sleeve 100 x 1% x 20% + 100 x min(3, 1) x 10% x 40%; a loss realises no tax
    assert tax_drag({"t": held}, types, profiles, tax) == pytest.approx(1.2 + 0.2 + 4.0)
    assert tax_drag({a: held for a in ("i", "k", "r")}, types, profiles, tax) == 0.0
    with pytest.raises(ValueError, match="no tax profile"):
        tax_drag({"t": {"X": 1.0}}, types, profiles, tax)


def test_locate_when_totals_differ_or_a_value_is_negative_then_value_error():
    with pytest.raises(ValueError, match="must use exactly"):
        locate_assets({**TARGETS, "AAPL": TARGETS["AAPL"] + 1.0}, ACCOUNT_VALUES, ACCOUNT_TYPES, profiles_2016())
    with pytest.raises(ValueError, match="non-negative"):
        locate_assets({"AAPL": -1.0}, {"taxable_a": -1.0}, ACCOUNT_TYPES, profiles_2016())


TYPES = list(AccountType)


@settings(max_examples=200, deadline=None)
@given(targets=st.lists(st.floats(1.0, 1e6), min_size=1, max_size=len(UNITS)),
       accounts=st.lists(st.tuples(st.sampled_from(TYPES), st.floats(0.01, 1.0)), min_size=1, max_size=6))
def test_locate_when_random_targets_and_accounts_then_constraints_hold_and_tax_aware_never_costs_more(targets,
                                                                                                     accounts):
    target_values = dict(zip(UNITS, targets))
    total, weight = sum(target_values.values()), sum(w for _, w in accounts)
    values = {f"acct{i}": w / weight * total for i, (_, w) in enumerate(accounts)}
    types = {f"acct{i}": t for i, (t, _) in enumerate(accounts)}
    profiles = profiles_2016()
    drags = {}
    for method in ("pro_rata", "tax_aware"):
        placement = locate_assets(target_values, values, types, profiles, method=method)
        assert_exact(placement, target_values, values)
        drags[method] = tax_drag(placement, types, profiles, TaxSettings())
    assert drags["tax_aware"] <= drags["pro_rata"] + 1e-9 * total
