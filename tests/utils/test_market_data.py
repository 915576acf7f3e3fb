"""Loading the shipped prices: real files, no filling, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from src.errors import DataError
from src.utils.market_data import asset_prices, available_symbols, load_prices, simple_returns


def test_load_prices_when_stocks_then_real_first_row():
    prices = load_prices("stocks")
    assert prices.shape[1] == 20
    assert prices.loc["1990-01-02", "AAPL"] == 0.264  # the shipped file's first value


def test_spy_when_loaded_then_compounds_shipped_returns():
    spy = load_prices("spy")["SPY"]
    assert spy.iloc[0] == pytest.approx(100.0 * (1 + 0.007055075102412323))
    assert spy.index[0] == pd.Timestamp("1993-02-01")


def test_asset_prices_when_calendars_differ_then_inner_join_without_fill():
    prices = asset_prices(["AAPL", "MTUM"])
    assert prices.index.min() == pd.Timestamp("2014-01-02")
    assert prices.notna().all().all()


def test_asset_prices_when_symbol_unknown_then_error_names_it():
    with pytest.raises(DataError, match=r"symbols \['BTC/USDT'\] have no shipped prices"):
        asset_prices(["AAPL", "BTC/USDT"])


def test_load_prices_when_group_unknown_then_error():
    with pytest.raises(DataError, match="group='nonexistent'"):
        load_prices("nonexistent")


def test_simple_returns_when_price_missing_then_error_names_column():
    prices = pd.DataFrame({"A": [1.0, None, 2.0], "B": [1.0, 1.0, 1.0]},
                          index=pd.date_range("2020-01-01", periods=3))
    with pytest.raises(DataError, match=r"prices of \['A'\]"):
        simple_returns(prices)


def test_available_symbols_when_listed_then_includes_every_group():
    assert {"AAPL", "SP500", "MTUM", "SPY"} <= set(available_symbols())
