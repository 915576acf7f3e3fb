"""Tactical method: the trend rule on real prices, the delay and its memory, max_delay_days."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from src.engines import CheckFrequencyGate, MarketContext, TacticalEngine, create_engine
from src.engines.tactical import DELAY_KEY, indicator_rows, trend_reading
from src.models.params import TacticalParams
from src.models.portfolio_models import PortfolioConfig
from src.utils.market_data import asset_prices, simple_returns
from tests.conftest import state_at_weights

UNITS = ["KO", "XOM", "JNJ", "AAPL"]
TARGETS = {u: 0.25 for u in UNITS}
PRICES = {u: 1.0 for u in UNITS}
# AAPL on 2021-07-07: above its 200-day average with RSI(14) 81 (a strong up-trend); KO is not.
DAY0 = datetime(2021, 7, 7)
AAPL_HEAVY = {"KO": 0.18, "XOM": 0.25, "JNJ": 0.25, "AAPL": 0.32}


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return simple_returns(asset_prices(UNITS))


def config(**params) -> PortfolioConfig:
    return PortfolioConfig(name="tac", target_allocations=dict(TARGETS), rebalancing_method="tactical",
                           rebalancing_params=params)


def ctx(returns, weights, ts=DAY0, memory=None, data_until=DAY0) -> MarketContext:
    # The returns end at ``data_until``: later events see the same (still trending) history.
    state = state_at_weights(weights, PRICES, timestamp=ts).model_copy(update={"memory": memory or {}})
    return MarketContext(timestamp=ts, state=state, returns=returns.loc[:data_until])


def test_trend_reading_when_computed_then_matches_pandas_indicators(returns):
    p = TacticalParams()
    r = returns["AAPL"].loc[:DAY0].iloc[-indicator_rows(p):]
    price = pd.concat([pd.Series([1.0]), (1 + r.reset_index(drop=True)).cumprod()], ignore_index=True)
    change = price.diff().dropna().reset_index(drop=True)

    def seeded(x: pd.Series) -> float:
        # Wilder's smoothing is an EMA with alpha 1/n started from the simple mean of the first n
        return pd.concat([pd.Series([x.iloc[:14].mean()]), x.iloc[14:]]).ewm(alpha=1 / 14, adjust=False).mean().iloc[-1]

    gain, loss = seeded(change.clip(lower=0)), seeded((-change).clip(lower=0))
    reading = trend_reading(returns["AAPL"].loc[:DAY0].to_numpy(), p)
    assert reading.price == pytest.approx(price.iloc[-1], rel=1e-12)
    assert reading.sma == pytest.approx(price.rolling(200).mean().iloc[-1], rel=1e-12)
    assert reading.confirm_value == pytest.approx(100 - 100 / (1 + gain / loss), rel=1e-10)
    assert reading.trending and reading.confirm_value > 80
    m = TacticalParams(confirm="macd")
    macd = price.ewm(span=12, adjust=False).mean() - price.ewm(span=26, adjust=False).mean()
    reading = trend_reading(returns["AAPL"].loc[:DAY0].to_numpy(), m)
    assert reading.confirm_value == pytest.approx(macd.iloc[-1], rel=1e-10)
    assert reading.confirm_level == pytest.approx(macd.ewm(span=9, adjust=False).mean().iloc[-1], rel=1e-10)


def test_when_band_breached_and_sold_unit_trends_then_delayed_and_remembered(returns):
    decision = TacticalEngine(config()).trigger.evaluate(ctx(returns, AAPL_HEAVY), TARGETS)
    assert not decision.fired
    assert decision.memory[DELAY_KEY] == DAY0.toordinal()
    assert "delayed 0 of 30 days (since 2021-07-07)" in decision.reason
    assert "AAPL in an up-trend (price" in decision.reason and "RSI14 81.3 > 70" in decision.reason


def test_when_delay_running_then_still_delayed_with_days_counted(returns):
    later = DAY0 + timedelta(days=10)
    decision = TacticalEngine(config()).trigger.evaluate(
        ctx(returns, AAPL_HEAVY, ts=later, memory={DELAY_KEY: float(DAY0.toordinal())}), TARGETS)
    assert not decision.fired and "delayed 10 of 30 days" in decision.reason
    assert decision.memory[DELAY_KEY] == DAY0.toordinal() and decision.details["tactical.delay_days"] == 10


def test_when_max_delay_days_reached_then_trades_anyway_and_clears_memory(returns):
    engine = TacticalEngine(config(max_delay_days=30))
    memory = {DELAY_KEY: float(DAY0.toordinal())}
    assert not engine.trigger.evaluate(ctx(returns, AAPL_HEAVY, ts=DAY0 + timedelta(days=29), memory=memory),
                                       TARGETS).fired
    decision = engine.trigger.evaluate(ctx(returns, AAPL_HEAVY, ts=DAY0 + timedelta(days=30), memory=memory), TARGETS)
    assert decision.fired and decision.memory[DELAY_KEY] == 0.0
    assert "trading despite the trend after 30 days of delay (since 2021-07-07" in decision.reason
    assert "AAPL in an up-trend" in decision.reason


def test_when_trending_unit_is_bought_then_not_delayed(returns):
    # KO (not trending) is sold and AAPL (trending) is bought: buying into strength goes ahead.
    weights = {"KO": 0.32, "XOM": 0.25, "JNJ": 0.25, "AAPL": 0.18}
    decision = TacticalEngine(config()).trigger.evaluate(ctx(returns, weights), TARGETS)
    assert decision.fired and decision.memory[DELAY_KEY] == 0.0


def test_when_bands_quiet_then_delay_cleared(returns):
    near = {"KO": 0.23, "XOM": 0.25, "JNJ": 0.25, "AAPL": 0.27}
    decision = TacticalEngine(config()).trigger.evaluate(
        ctx(returns, near, memory={DELAY_KEY: float(DAY0.toordinal())}), TARGETS)
    assert not decision.fired and decision.memory[DELAY_KEY] == 0.0 and "inside their bands" in decision.reason


def test_when_confirm_macd_then_macd_decides(returns):
    # 2021-06-25: AAPL above its SMA with MACD above signal, but RSI only 62.
    day = datetime(2021, 6, 25)
    c = ctx(returns, AAPL_HEAVY, ts=day, data_until=day)
    assert TacticalEngine(config()).trigger.evaluate(c, TARGETS).fired
    decision = TacticalEngine(config(confirm="macd")).trigger.evaluate(c, TARGETS)
    assert not decision.fired and "MACD" in decision.reason and "> signal" in decision.reason


def test_when_only_history_days_rows_given_then_same_decision(returns):
    engine = TacticalEngine(config())
    full = engine.trigger.evaluate(ctx(returns, AAPL_HEAVY), TARGETS)
    short = returns.loc[:DAY0].iloc[-engine.history_days:]
    assert engine.trigger.evaluate(ctx(short, AAPL_HEAVY), TARGETS) == full


def test_when_unit_lacks_history_then_not_trending(returns):
    gappy = returns.loc[:DAY0].copy()
    gappy.iloc[-5, gappy.columns.get_loc("AAPL")] = np.nan
    assert TacticalEngine(config()).trigger.evaluate(ctx(gappy, AAPL_HEAVY), TARGETS).fired


def test_engine_targets_history_days_and_factory(returns):
    engine = create_engine(config(sma_days=50, rsi_days=14))
    assert isinstance(engine, TacticalEngine) and engine.history_days == 140
    assert TacticalEngine(config(confirm="macd", sma_days=50)).history_days == 105
    assert engine.calculate_target_weights(ctx(returns, AAPL_HEAVY)).weights == TARGETS
    days = pd.bdate_range("2021-01-01", "2021-03-31")
    weekly = TacticalEngine(config(check_frequency="weekly")).trigger.candidate_days(days)
    assert np.array_equal(weekly, CheckFrequencyGate("weekly").candidate_days(days)) and weekly.sum() == 14


@pytest.mark.parametrize("params, fragment", [
    ({"macd_fast": 26, "macd_slow": 26}, "macd_fast=26 must be below macd_slow=26"),
    ({"rsi_threshold": 100}, "rsi_threshold"), ({"confirm": "bollinger"}, "confirm"),
    ({"max_delay_days": 0}, "max_delay_days"), ({"sma_days": 1}, "sma_days"), ({"sma": 50}, "sma"),
])
def test_params_when_invalid_then_error_names_field(params, fragment):
    with pytest.raises(ValidationError, match=fragment):
        config(**params)
