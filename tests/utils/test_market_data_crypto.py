"""The shipped Binance daily crypto closes (USDT) and volumes: real values, NaN never filled."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from src.errors import DataError
from src.market.data import HistoricalMarketData
from src.utils.market_data import (CRYPTO_SYMBOLS, asset_prices, available_symbols, crypto_volumes,
                                   listed_returns, load_prices, simple_returns)

FIRST_COVERED = {"BTC": "2018-01-01", "ETH": "2017-08-17", "BNB": "2020-09-20",
                 "SOL": "2020-08-11", "XRP": "2020-09-20"}  # crypto_daily_PROVENANCE.md, per-asset table


@pytest.fixture(scope="module")
def crypto() -> pd.DataFrame:
    return load_prices("crypto")


def test_load_prices_when_crypto_then_five_symbols_every_utc_day(crypto):
    assert list(crypto.columns) == ["BTC", "ETH", "BNB", "SOL", "XRP"] == list(CRYPTO_SYMBOLS)
    assert crypto.index[0] == pd.Timestamp("2017-08-17") and crypto.index[-1] == pd.Timestamp("2025-09-18")
    assert crypto.index.equals(pd.date_range("2017-08-17", "2025-09-18", freq="D", name="date"))
    assert len(crypto) == 2955


@pytest.mark.parametrize("day, symbol, close", [
    ("2017-08-17", "ETH", 302.0), ("2018-01-01", "BTC", 13380.0), ("2018-12-15", "BTC", 3211.72),
    ("2020-03-12", "BTC", 4800.0), ("2025-09-18", "BTC", 117073.53), ("2022-12-29", "SOL", 9.64),
    ("2025-01-15", "XRP", 3.1429),
])
def test_load_prices_when_crypto_then_provenance_checkpoints_match(crypto, day, symbol, close):
    assert crypto.loc[day, symbol] == close


def test_load_prices_when_crypto_then_nan_before_first_covered_day_and_none_after(crypto):
    for symbol, first in FIRST_COVERED.items():
        column = crypto[symbol]
        assert column.first_valid_index() == pd.Timestamp(first)
        assert column.loc[:pd.Timestamp(first) - pd.Timedelta(days=1)].isna().all()  # kept, not filled
        assert column.loc[first:].notna().all() and (column.loc[first:] > 0).all()


def test_load_prices_when_crypto_modified_by_caller_then_cache_untouched(crypto):
    crypto.loc["2017-08-17", "BTC"] = 1.0
    assert pd.isna(load_prices("crypto").loc["2017-08-17", "BTC"])


def test_asset_prices_when_crypto_then_each_symbol_starts_at_its_first_covered_day():
    for symbol, first in FIRST_COVERED.items():
        assert asset_prices([symbol]).index[0] == pd.Timestamp(first)
    assert asset_prices(["BTC", "ETH"]).index[0] == pd.Timestamp("2018-01-01")  # ETH's 2017 rows dropped
    pair = asset_prices(["SOL", "XRP"])
    assert pair.index[0] == pd.Timestamp("2020-09-20") and pair.notna().all().all()


def test_asset_prices_when_crypto_and_stock_then_inner_join_on_stock_days():
    prices = asset_prices(["BTC", "AAPL"])
    assert prices.index[0] == pd.Timestamp("2018-01-02") and prices.index[-1] == pd.Timestamp("2022-12-28")
    assert pd.Timestamp("2018-01-06") not in prices.index  # a Saturday: crypto trades, stocks do not
    assert prices.notna().all().all()


def test_simple_returns_when_btc_covid_crash_then_minus_39_5_percent():
    returns = simple_returns(asset_prices(["BTC"]))
    assert returns.loc["2020-03-12", "BTC"] == pytest.approx(4800.0 / 7934.52 - 1, abs=1e-15)  # -39.50%
    assert round(returns.loc["2020-03-12", "BTC"], 3) == -0.395


def test_crypto_volumes_when_loaded_then_base_asset_volumes_per_symbol():
    volumes = crypto_volumes()
    assert list(volumes.columns) == ["BTC", "ETH", "BNB", "SOL", "XRP"]
    assert volumes.index.equals(load_prices("crypto").index)
    assert volumes.loc["2017-08-17", "ETH"] == 7030.71034  # the file's first ETH volume, in ETH
    for symbol, first in FIRST_COVERED.items():
        assert volumes[symbol].first_valid_index() == pd.Timestamp(first)
        assert (volumes[symbol].loc[first:] > 0).all()


def test_available_symbols_when_crypto_and_bonds_shipped_then_listed():
    assert set(CRYPTO_SYMBOLS) | {"UST10Y", "UST5Y", "AAPL", "SPY"} <= set(available_symbols())


def test_historical_market_data_when_crypto_on_sunday_then_price_served():
    market = HistoricalMarketData()
    assert market.prices_at(datetime(2020, 3, 15), ["BTC"]) == {"BTC": load_prices("crypto").loc["2020-03-15", "BTC"]}
    with pytest.raises(DataError, match=r"prices\['BNB'\]: no price on or before 2020-09-19"):
        market.prices_at(datetime(2020, 9, 19), ["BNB"])


def test_load_prices_when_group_misspelt_then_error_lists_new_groups():
    with pytest.raises(DataError, match=r"group='cryptos' is not one of .*'bonds'.*'crypto'"):
        load_prices("cryptos")


def test_listed_returns_when_coins_start_later_then_nan_until_the_day_after_their_first_close():
    crypto = load_prices("crypto")  # not the module's fixture: a test above writes into it
    returns = listed_returns(crypto)
    assert returns.index[0] == pd.Timestamp("2017-08-18")  # the first row has no previous close
    for symbol, first in FIRST_COVERED.items():
        day_after = pd.Timestamp(first) + pd.Timedelta(days=1)
        assert returns[symbol].loc[:first].isna().all() and returns[symbol].loc[day_after:].notna().all()
    bnb = crypto["BNB"]
    assert returns.loc["2020-09-21", "BNB"] == pytest.approx(bnb["2020-09-21"] / bnb["2020-09-20"] - 1, rel=1e-15)


def test_listed_returns_when_a_price_missing_after_the_first_then_data_error():
    gap = load_prices("crypto").loc["2021-01-01":"2021-01-10"]
    gap.loc["2021-01-05", "SOL"] = float("nan")
    with pytest.raises(DataError, match=r"prices of \['SOL'\] have missing"):
        listed_returns(gap)
