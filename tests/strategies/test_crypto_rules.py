"""The crypto strategies of the registry, checked by hand on the shipped Binance closes.

``btc_trend`` holds BTC while its close is above its 200-day SMA; ``crypto_equal_weight`` goes
back to equal weight every Sunday and drifts in between. Both run on every UTC calendar day and
start when they can first decide: nothing before the data is filled or invented.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.errors import DataError
from src.strategies import rules
from src.utils.market_data import CRYPTO_SYMBOLS, load_prices

COST = 5 / 10_000  # the registry's cost per unit of turnover


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    return load_prices("crypto")


def _close(closes: pd.DataFrame, day: str, symbol: str) -> float:
    return float(closes.loc[day, symbol])


def test_btc_trend_when_registered_then_every_calendar_day_from_the_first_200_day_sma(registry):
    returns = registry.returns_series("btc_trend")
    # BTC's data starts on 2018-01-01; its 200th close is 2018-07-19, the first decision
    assert returns.index[0] == pd.Timestamp("2018-07-20") and returns.index[-1] == pd.Timestamp("2025-09-18")
    assert returns.index.equals(pd.date_range("2018-07-20", "2025-09-18", freq="D"))
    record = registry.get_strategy("btc_trend")
    assert record.universe == ["BTC"] and record.parameters == {"window": 200}


def test_btc_trend_when_close_falls_below_sma_then_sells_and_misses_the_crash(registry, closes):
    returns = registry.returns_series("btc_trend")
    btc = closes["BTC"]
    sma = {day: sum(btc.loc[:day].iloc[-200:].tolist()) / 200 for day in ("2020-03-07", "2020-03-08")}
    assert btc["2020-03-07"] > sma["2020-03-07"]                    # 8,886.66 above 8,691.95: held
    assert btc["2020-03-08"] == 8033.31 < sma["2020-03-08"]         # below 8,681.41 at Sunday's close: sold
    # Sunday 2020-03-08 is a trading day: the position held over it earns BTC's own return
    assert returns["2020-03-08"] == pytest.approx(8033.31 / _close(closes, "2020-03-07", "BTC") - 1, abs=1e-15)
    assert returns["2020-03-09"] == pytest.approx(-COST, abs=1e-15)  # out: only the cost of selling
    assert btc["2020-03-12"] / btc["2020-03-11"] - 1 == pytest.approx(-0.395, abs=1e-3)
    assert returns["2020-03-12"] == 0.0                              # the -39.5% day, in cash


def test_equal_weight_when_registered_then_every_calendar_day_from_the_first_sunday(registry):
    returns = registry.returns_series("crypto_equal_weight")
    # ETH's data starts on Thursday 2017-08-17; the first Sunday is 2017-08-20
    assert returns.index.equals(pd.date_range("2017-08-21", "2025-09-18", freq="D"))
    record = registry.get_strategy("crypto_equal_weight")
    assert record.universe == list(CRYPTO_SYMBOLS) and record.parameters == {"weekday": 6}


def test_equal_weight_when_only_eth_has_prices_then_holds_eth_alone(registry, closes):
    returns = registry.returns_series("crypto_equal_weight")
    eth = closes["ETH"]
    first = eth["2017-08-21"] / eth["2017-08-20"] - 1 - 1.0 * COST  # buying 100% ETH costs 5 bps once
    assert returns["2017-08-21"] == pytest.approx(first, abs=1e-15)
    # BTC's first close is Monday 2018-01-01: it joins at the next Sunday, 2018-01-07
    assert returns["2018-01-02"] == pytest.approx(eth["2018-01-02"] / eth["2018-01-01"] - 1, abs=1e-15)


def test_equal_weight_when_a_week_of_2021_then_equal_on_sunday_and_drifting_after(registry, closes):
    returns = registry.returns_series("crypto_equal_weight")
    p = {day: np.array([_close(closes, day, s) for s in CRYPTO_SYMBOLS])
         for day in ("2020-12-27", "2021-01-03", "2021-01-04", "2021-01-05")}
    # weights at Sunday 2021-01-03's close before the trade: a fifth each on 2020-12-27, drifted
    drifted = p["2021-01-03"] / p["2020-12-27"] / np.sum(p["2021-01-03"] / p["2020-12-27"])
    trade = np.abs(0.2 - drifted).sum()
    monday = np.mean(p["2021-01-04"] / p["2021-01-03"]) - 1
    assert returns["2021-01-04"] == pytest.approx(monday - trade * COST, abs=1e-15)
    # Tuesday: no trade, the weights drifted with Monday's moves (value = sum of a fifth of each price ratio)
    tuesday = np.sum(p["2021-01-05"] / p["2021-01-03"]) / np.sum(p["2021-01-04"] / p["2021-01-03"]) - 1
    assert returns["2021-01-05"] == pytest.approx(tuesday, abs=1e-15)


def test_equal_weight_listed_when_coins_list_later_then_they_join_at_the_next_sunday(closes):
    weights = rules.equal_weight_listed(closes)
    decided = weights.dropna(how="all")
    assert set(decided.index.day_of_week) == {6}  # Sundays only
    assert decided.loc["2020-09-13"].to_dict() == pytest.approx({"BTC": 1 / 3, "ETH": 1 / 3, "BNB": 0.0,
                                                                 "SOL": 1 / 3, "XRP": 0.0})
    assert decided.loc["2020-09-20"].tolist() == pytest.approx([0.2] * 5)  # BNB and XRP start that day


def test_weights_to_returns_when_rows_undecided_then_holdings_drift_and_next_trade_pays_cost():
    idx = pd.date_range("2021-01-01", periods=4)
    returns = pd.DataFrame({"A": [0.0, 0.10, 0.0, 0.0], "B": [0.0, -0.10, 0.0, 0.0]}, index=idx)
    weights = pd.DataFrame({"A": [0.5, np.nan, 0.5, np.nan], "B": [0.5, np.nan, 0.5, np.nan]}, index=idx)
    out = rules.weights_to_returns(weights, returns, cost_bps=10.0)
    # day 1: +10% and -10% cancel (minus 10 bps on the first investment); drifted to 0.55 / 0.45;
    # day 2 trades back to 0.5 / 0.5: turnover 0.1, charged 10 bps x 0.1 on day 3
    assert out.tolist() == pytest.approx([0.0 - 0.001, 0.0, -0.0001], abs=1e-15)


def test_weights_to_returns_when_held_symbol_has_no_return_then_data_error():
    idx = pd.date_range("2021-01-01", periods=3)
    returns = pd.DataFrame({"A": [0.0, np.nan, 0.01]}, index=idx)
    with pytest.raises(DataError, match=r"returns on 2021-01-02 are missing for held \['A'\]"):
        rules.weights_to_returns(pd.DataFrame({"A": [1.0, 1.0, 1.0]}, index=idx), returns)
    with pytest.raises(DataError, match=r"returns on 2021-01-02 are missing for held \['A'\]"):
        rules.weights_to_returns(pd.DataFrame({"A": [1.0, np.nan, np.nan]}, index=idx), returns)


def test_sma_trend_when_future_prices_changed_then_past_weights_unchanged(closes):
    prices = closes[["BTC"]].loc["2018":"2020"]
    cut = prices.index[500]
    altered = prices.copy()
    altered.loc[altered.index > cut] *= 1.5
    for rule in (rules.sma_trend, rules.equal_weight_listed):
        a = rule(prices).loc[:cut].fillna(-1.0)
        b = rule(altered).loc[:cut].fillna(-1.0)
        pd.testing.assert_frame_equal(a, b)

