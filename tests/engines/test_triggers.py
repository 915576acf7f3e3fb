"""Triggers: drift bands (incl. the 5/25 rule), calendar schedules, gates, combinators."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from src.engines.context import MarketContext
from src.engines.triggers import (
    AlwaysTrigger,
    AnyDriftTrigger,
    CalendarTrigger,
    CheckFrequencyGate,
    DriftBandTrigger,
)
from src.models.base import Frequency
from src.models.trading_models import PortfolioState
from tests.conftest import state_at_weights

PRICES = {"A": 10.0, "B": 20.0, "C": 5.0}
EMPTY = pd.DataFrame(index=pd.DatetimeIndex([]))


def ctx_for(weights, *, ts=datetime(2021, 3, 15), last=None, last_check=None, cash=0.0) -> MarketContext:
    state = state_at_weights(weights, PRICES, cash=cash, timestamp=ts, last_rebalance_at=last)
    state = state.model_copy(update={"last_check_at": last_check})
    return MarketContext(timestamp=ts, state=state, returns=EMPTY)


def test_drift_band_when_inside_absolute_band_then_quiet():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.44, "B": 0.56}), {"A": 0.4, "B": 0.6})
    assert not d.fired and d.details["drift.A"] == pytest.approx(0.04)


def test_drift_band_when_outside_absolute_band_then_fires_naming_unit():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.46, "B": 0.54}), {"A": 0.4, "B": 0.6})
    assert d.fired and "A +0.0600" in d.reason


def test_five_25_rule_when_small_target_breaches_relative_band_first_then_fires():
    # target 0.10: relative band 25% = 0.025 < 0.05, so 0.13 (drift 0.03) fires
    trig = DriftBandTrigger(0.05, relative_drift=0.25)
    assert trig.band(0.10) == pytest.approx(0.025) and trig.band(0.60) == 0.05
    assert trig.evaluate(ctx_for({"A": 0.13, "B": 0.87}), {"A": 0.10, "B": 0.90}).fired
    assert not DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.13, "B": 0.87}), {"A": 0.10, "B": 0.90}).fired


def test_drift_band_when_untargeted_unit_held_then_fires():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.49, "B": 0.49, "C": 0.02}), {"A": 0.5, "B": 0.5})
    assert d.fired and "C" in d.reason


def test_drift_band_when_cash_uninvested_then_counts_as_drift():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.5, "B": 0.5}, cash=50_000), {"A": 0.5, "B": 0.5})
    assert d.fired  # weights are 1/3 each of total value: 0.167 below target


@pytest.mark.parametrize("freq, day, ts, last, fired", [
    (Frequency.MONTHLY, 1, datetime(2021, 3, 1), None, True),
    (Frequency.MONTHLY, 1, datetime(2021, 3, 2), datetime(2021, 3, 1), False),   # once per period
    (Frequency.MONTHLY, 1, datetime(2021, 4, 1), datetime(2021, 3, 1), True),
    (Frequency.MONTHLY, 15, datetime(2021, 3, 12), datetime(2021, 2, 15), False),  # before the day
    (Frequency.MONTHLY, 15, datetime(2021, 3, 16), datetime(2021, 2, 15), True),   # first event after
    (Frequency.MONTHLY, 31, datetime(2021, 2, 28), datetime(2021, 1, 31), True),   # clipped to month end
    (Frequency.WEEKLY, 5, datetime(2021, 3, 18), datetime(2021, 3, 12), False),    # Thursday, day=Friday
    (Frequency.WEEKLY, 5, datetime(2021, 3, 19), datetime(2021, 3, 12), True),
    (Frequency.QUARTERLY, 1, datetime(2021, 5, 3), datetime(2021, 4, 1), False),
    (Frequency.QUARTERLY, 1, datetime(2021, 7, 1), datetime(2021, 4, 1), True),
    (Frequency.ANNUALLY, 1, datetime(2021, 12, 31), datetime(2021, 1, 4), False),
    (Frequency.ANNUALLY, 1, datetime(2022, 1, 3), datetime(2021, 1, 4), True),
    (Frequency.DAILY, 1, datetime(2021, 3, 2, 15), datetime(2021, 3, 2, 9), False),
    (Frequency.DAILY, 1, datetime(2021, 3, 3, 9), datetime(2021, 3, 2, 9), True),
])
def test_calendar_when_event_timestamp_given_then_fires_once_per_period(freq, day, ts, last, fired):
    d = CalendarTrigger(freq, day).evaluate(ctx_for({"A": 0.5, "B": 0.5}, ts=ts, last=last), {"A": 0.5, "B": 0.5})
    assert d.fired is fired, d.reason


def test_check_gate_when_checked_earlier_this_week_then_closed():
    gate = CheckFrequencyGate(Frequency.WEEKLY)
    assert not gate.evaluate(ctx_for({"A": 1.0}, ts=datetime(2021, 3, 19), last_check=datetime(2021, 3, 15)), {}).fired
    assert gate.evaluate(ctx_for({"A": 1.0}, ts=datetime(2021, 3, 22), last_check=datetime(2021, 3, 19)), {}).fired


def test_combinators_when_or_and_then_logic_holds():
    quiet = AnyDriftTrigger(0.5)
    always = AlwaysTrigger()
    ctx = ctx_for({"A": 0.5, "B": 0.5})
    targets = {"A": 0.5, "B": 0.5}
    assert (quiet | always).evaluate(ctx, targets).fired
    assert not (quiet & always).evaluate(ctx, targets).fired
    both = (always & always).evaluate(ctx, targets)
    assert both.fired and both.trigger == "always+always"


def test_context_when_returns_extend_past_event_then_cut_off():
    idx = pd.date_range("2021-03-10", periods=10)
    returns = pd.DataFrame({"A": range(10)}, index=idx, dtype=float)
    ctx = MarketContext(timestamp=datetime(2021, 3, 14),
                        state=PortfolioState(timestamp=datetime(2021, 3, 14), cash=1.0, prices={"A": 1.0}),
                        returns=returns)
    assert ctx.returns.index.max() == pd.Timestamp("2021-03-14")
