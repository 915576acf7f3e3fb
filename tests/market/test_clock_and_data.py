"""Clocks and the historical market-data source."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from src.errors import DataError, UnknownUnitError
from src.market.clock import FixedClock, ReplayClock, SystemClock
from src.market.data import SLEEVE_BASE_NAV, HistoricalMarketData, latest_trading_day


@pytest.fixture(scope="module")
def market(registry):
    return HistoricalMarketData(registry)


def test_replay_clock_when_advanced_then_steps_days_and_stops_at_end():
    clock = ReplayClock(pd.DatetimeIndex(["2021-01-04", "2021-01-05"]))
    assert clock.now() == datetime(2021, 1, 4)
    assert clock.advance() and clock.now() == datetime(2021, 1, 5)
    assert not clock.advance() and clock.now() == datetime(2021, 1, 5)


def test_replay_clock_when_seek_after_then_next_day():
    clock = ReplayClock(pd.DatetimeIndex(["2021-01-04", "2021-01-05", "2021-01-06"]))
    assert clock.seek_after(datetime(2021, 1, 4, 12)) and clock.now() == datetime(2021, 1, 5)
    assert not clock.seek_after(datetime(2021, 1, 6))


def test_clocks_when_read_then_fixed_is_fixed_and_system_is_recent():
    assert FixedClock(datetime(2020, 1, 1)).now() == datetime(2020, 1, 1)
    assert SystemClock().now().year >= 2024


def test_prices_when_asset_then_shipped_price(market):
    assert market.prices_at(datetime(1990, 1, 2), ["AAPL"]) == {"AAPL": 0.264}


def test_prices_when_sleeve_then_nav_compounded_from_registry(market, registry):
    returns = registry.returns_series("ml_strategy")
    expected = SLEEVE_BASE_NAV * float((1 + returns.loc[:"2021-12-31"]).prod())
    assert market.prices_at(datetime(2021, 12, 31), ["ml_strategy"])["ml_strategy"] == pytest.approx(expected)


def test_prices_when_weekend_then_last_close_and_when_stale_then_error(market):
    friday = market.prices_at(datetime(2021, 12, 31), ["KO"])
    assert market.prices_at(datetime(2022, 1, 2), ["KO"]) == friday
    with pytest.raises(DataError, match=r"prices\['SPY'\]: latest price is from 2018-04-27"):
        market.prices_at(datetime(2021, 12, 31), ["SPY"])
    with pytest.raises(DataError, match=r"prices\['KO'\]: no price on or before 1980-01-01"):
        market.prices_at(datetime(1980, 1, 1), ["KO"])


def test_prices_when_unit_unknown_then_error(market):
    with pytest.raises(UnknownUnitError, match="'DOGE'"):
        market.prices_at(datetime(2021, 12, 31), ["DOGE"])


def test_returns_until_when_asked_then_no_rows_after_moment(market):
    frame = market.returns_until(datetime(2020, 3, 31), ["KO", "ml_strategy"])
    assert frame.index.max() == pd.Timestamp("2020-03-31") and frame.notna().all().all()


def test_latest_trading_day_when_units_mixed_then_last_common_day(market):
    assert latest_trading_day(market, ["ml_strategy", "SPY"]) == datetime(2018, 4, 27)
