"""Hybrid method: calendar AND bands, calendar OR bands, band-edge trades, bands measured
against the configured targets."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from src.engines import (
    AgainstConfiguredTargets,
    CalendarTrigger,
    CheckFrequencyGate,
    HybridEngine,
    MarketContext,
    ThresholdEngine,
    create_engine,
)
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import ReasonCode, RiskExclusion
from src.utils.market_data import asset_prices, simple_returns
from tests.conftest import state_at_weights

UNITS = ["KO", "XOM", "JNJ", "AAPL"]
TARGETS = {u: 0.25 for u in UNITS}
PRICES = {u: 1.0 for u in UNITS}
OUTSIDE = {"KO": 0.31, "XOM": 0.19, "JNJ": 0.25, "AAPL": 0.25}   # drift 0.06 > band 0.05
INSIDE = {"KO": 0.27, "XOM": 0.23, "JNJ": 0.25, "AAPL": 0.25}    # drift 0.02: inside, > min_trade_size
MARCH_DONE = {"calendar.monthly.1": float(datetime(2021, 3, 1).toordinal())}


@pytest.fixture(scope="module")
def returns() -> pd.DataFrame:
    return simple_returns(asset_prices(UNITS))


def config(**params) -> PortfolioConfig:
    return PortfolioConfig(name="hy", target_allocations=dict(TARGETS), rebalancing_method="hybrid",
                           rebalancing_params=params)


def ctx(returns, weights, ts, memory=None, **update) -> MarketContext:
    state = state_at_weights(weights, PRICES, timestamp=ts).model_copy(update={"memory": memory or {}, **update})
    return MarketContext(timestamp=ts, state=state, returns=returns)


@pytest.mark.parametrize("weights, ts, memory, fired", [
    (OUTSIDE, datetime(2021, 3, 1), None, True),          # calendar date, outside a band
    (INSIDE, datetime(2021, 3, 1), None, False),          # calendar date, inside: no trade
    (OUTSIDE, datetime(2021, 3, 15), MARCH_DONE, False),  # outside, but March was looked at already
    (OUTSIDE, datetime(2021, 4, 1), MARCH_DONE, True),    # next calendar date
])
def test_calendar_and_bands_when_checked_then_trades_only_on_calendar_and_outside_bands(returns, weights, ts,
                                                                                       memory, fired):
    decision = HybridEngine(config()).trigger.evaluate(ctx(returns, weights, ts, memory), TARGETS)
    assert decision.fired is fired, decision.reason


def test_calendar_and_bands_when_look_finds_nothing_then_period_used_up(returns):
    decision = HybridEngine(config()).trigger.evaluate(ctx(returns, INSIDE, datetime(2021, 3, 1)), TARGETS)
    assert not decision.fired and decision.memory == MARCH_DONE


@pytest.mark.parametrize("weights, ts, memory, trigger", [
    (OUTSIDE, datetime(2021, 3, 15), MARCH_DONE, "check_frequency+drift_band"),  # band, off calendar
    (INSIDE, datetime(2021, 3, 15), MARCH_DONE, None),                           # inside, off calendar
    (INSIDE, datetime(2021, 4, 1), MARCH_DONE, "calendar+any_drift"),            # calendar, drift > min_trade_size
    (TARGETS, datetime(2021, 4, 1), MARCH_DONE, None),                           # calendar, nothing to do
])
def test_calendar_or_bands_when_checked_then_bands_or_calendar_fire(returns, weights, ts, memory, trigger):
    decision = HybridEngine(config(mode="calendar_or_bands")).trigger.evaluate(ctx(returns, weights, ts, memory),
                                                                               TARGETS)
    assert decision.fired is (trigger is not None), decision.reason
    if trigger:
        assert decision.trigger == trigger


def test_calendar_or_bands_when_band_checked_this_week_then_waits_for_next_check(returns):
    engine = HybridEngine(config(mode="calendar_or_bands", check_frequency="weekly"))
    checked = ctx(returns, OUTSIDE, datetime(2021, 3, 17), MARCH_DONE, last_check_at=datetime(2021, 3, 15))
    assert not engine.trigger.evaluate(checked, TARGETS).fired
    assert engine.trigger.evaluate(ctx(returns, OUTSIDE, datetime(2021, 3, 22), MARCH_DONE,
                                       last_check_at=datetime(2021, 3, 15)), TARGETS).fired


def test_band_edge_when_outside_then_threshold_projection(returns):
    c = ctx(returns, OUTSIDE, datetime(2021, 3, 1))
    hybrid = HybridEngine(config(trade_to="band_edge")).calculate_target_weights(c)
    threshold = ThresholdEngine(PortfolioConfig(name="th", target_allocations=dict(TARGETS),
                                                rebalancing_params={"trade_to": "band_edge"}))
    assert hybrid.weights == threshold.calculate_target_weights(c).weights
    assert hybrid.weights["KO"] == pytest.approx(0.30) and hybrid.weights["XOM"] == pytest.approx(0.20)
    assert hybrid.engine == "hybrid"


def test_band_edge_when_inside_on_calendar_then_to_targets(returns):
    engine = HybridEngine(config(mode="calendar_or_bands", trade_to="band_edge"))
    result = engine.calculate_target_weights(ctx(returns, INSIDE, datetime(2021, 4, 1)))
    assert result.weights == TARGETS and "no unit outside its band" in result.notes[0]


def test_band_edge_when_engine_targets_are_band_edges_then_band_still_measured_from_targets(returns):
    # Drift from the band edge (0.01) is not drift from the target (0.06): the band must fire.
    engine = HybridEngine(config(trade_to="band_edge"))
    c = ctx(returns, OUTSIDE, datetime(2021, 3, 1))
    edges = engine.calculate_target_weights(c).weights
    assert engine.trigger.evaluate(c, edges).fired


def test_bands_when_unit_held_out_by_risk_stage_then_not_armed_by_it(returns):
    # AAPL is held out; the others hold a third each, its weight redistributed: no drift.
    out = {"AAPL": RiskExclusion(unit="AAPL", limit="min_strategy_sharpe", since=datetime(2021, 2, 1),
                                 reason_code=ReasonCode.STRATEGY_SHARPE_BELOW_MIN)}
    weights = {"KO": 1 / 3, "XOM": 1 / 3, "JNJ": 1 / 3}
    c = ctx(returns, weights, datetime(2021, 3, 1), risk_exclusions=out)
    assert not HybridEngine(config()).trigger.evaluate(c, TARGETS).fired
    assert HybridEngine(config()).trigger.evaluate(ctx(returns, weights, datetime(2021, 3, 1)), TARGETS).fired


def test_candidate_days_history_days_and_drift_condition():
    days = pd.bdate_range("2021-01-01", "2021-06-30")
    calendar = CalendarTrigger("monthly", 1).candidate_days(days)
    assert np.array_equal(HybridEngine(config()).trigger.candidate_days(days), calendar)
    either = HybridEngine(config(mode="calendar_or_bands", check_frequency="weekly")).trigger.candidate_days(days)
    assert np.array_equal(either, calendar | CheckFrequencyGate("weekly").candidate_days(days))
    engine = create_engine(config())
    assert isinstance(engine, HybridEngine) and engine.history_days == 0
    assert isinstance(engine.drift_condition(), AgainstConfiguredTargets)


@pytest.mark.parametrize("params, fragment", [
    ({"frequency": "weekly", "rebalance_day": 9}, "rebalance_day=9 must be an ISO weekday"),
    ({"mode": "calendar_xor_bands"}, "mode"), ({"trade_to": "midpoint"}, "trade_to"),
    ({"min_drift": 0}, "min_drift"), ({"bands": 0.05}, "bands"),
])
def test_params_when_invalid_then_error_names_field(params, fragment):
    with pytest.raises(ValidationError, match=fragment):
        config(**params)
