"""Trigger edges (band edge, unheld units, idle cash, once-per-period memory, candidate days on
the shipped trading calendar) and partial rebalancing targets."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.engines.context import MarketContext
from src.engines.triggers import AnyDriftTrigger, CalendarTrigger, CheckFrequencyGate, DriftBandTrigger
from src.models.base import Frequency
from src.models.trading_models import PortfolioState
from src.orders.partial import partial_targets
from src.utils.market_data import load_prices
from tests.conftest import state_at_weights

PRICES = {"A": 10.0, "B": 20.0, "C": 5.0}
EMPTY = pd.DataFrame(index=pd.DatetimeIndex([]))
TS = datetime(2021, 3, 15)


def ctx_for(weights, *, nav=100_000.0, cash=0.0, ts=TS, memory=None, last_check=None) -> MarketContext:
    state = state_at_weights(weights, PRICES, nav=nav, cash=cash, timestamp=ts)
    state = state.model_copy(update={"memory": memory or {}, "last_check_at": last_check})
    return MarketContext(timestamp=ts, state=state, returns=EMPTY)


# --- DriftBandTrigger -----------------------------------------------------------------------

def test_drift_band_when_drift_exactly_at_band_then_fires():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.45, "B": 0.55}), {"A": 0.4, "B": 0.6})
    assert d.fired and d.details["drift.A"] == pytest.approx(0.05) and "A +0.0500 (band 0.0500)" in d.reason


def test_drift_band_when_drift_just_below_band_then_quiet():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.4499, "B": 0.5501}), {"A": 0.4, "B": 0.6})
    assert not d.fired and "inside their bands" in d.reason


def test_drift_band_when_drift_exactly_at_relative_band_then_fires_and_not_below():
    trigger = DriftBandTrigger(0.05, relative_drift=0.25)  # band of a 0.10 target: 0.025
    assert trigger.evaluate(ctx_for({"A": 0.125, "B": 0.875}), {"A": 0.1, "B": 0.9}).fired
    assert not trigger.evaluate(ctx_for({"A": 0.1249, "B": 0.8751}), {"A": 0.1, "B": 0.9}).fired


def test_drift_band_when_targeted_unit_not_held_then_fires_however_small_its_target():
    d = DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.5, "B": 0.5}), {"A": 0.495, "B": 0.495, "C": 0.01})
    assert d.fired and "C -0.0100 (band 0.0500)" in d.reason


def test_drift_band_when_small_target_held_slightly_off_then_quiet():
    targets = {"A": 0.495, "B": 0.495, "C": 0.01}
    assert not DriftBandTrigger(0.05).evaluate(ctx_for(targets), targets).fired
    assert not DriftBandTrigger(0.05).evaluate(ctx_for({"A": 0.4995, "B": 0.4995, "C": 0.001}), targets).fired


@pytest.mark.parametrize("cash, fired", [(16_000.0, True), (15_000.0, True), (14_900.0, False)])
def test_drift_band_when_idle_cash_beyond_targets_cash_then_fires_at_min_drift(cash, fired):
    # targets keep 10% in cash; holdings are split evenly over A and B, every unit inside its band
    targets = {"A": 0.45, "B": 0.45}
    ctx = ctx_for({"A": 0.5, "B": 0.5}, nav=100_000.0 - cash, cash=cash)
    d = DriftBandTrigger(0.05).evaluate(ctx, targets)
    assert d.details["drift.cash"] == pytest.approx(cash / 100_000.0 - 0.1)
    assert all(abs(d.details[f"drift.{u}"]) < 0.05 for u in targets)
    assert d.fired is fired, d.reason
    assert ("cash +" in d.reason) is fired


def test_drift_band_when_cash_only_what_targets_keep_then_quiet():
    ctx = ctx_for({"A": 0.5, "B": 0.5}, nav=90_000.0, cash=10_000.0)
    d = DriftBandTrigger(0.05).evaluate(ctx, {"A": 0.45, "B": 0.45})
    assert not d.fired and d.details["drift.cash"] == pytest.approx(0.0)


# --- AnyDriftTrigger ----------------------------------------------------------------------

def test_any_drift_when_targeted_unit_not_held_then_fires_below_min_trade_size():
    targets = {"A": 0.5, "B": 0.495, "C": 0.005}
    assert AnyDriftTrigger(0.01).evaluate(ctx_for({"A": 0.5, "B": 0.5}), targets).fired
    assert not AnyDriftTrigger(0.01).evaluate(ctx_for(targets), targets).fired


def test_any_drift_when_idle_cash_above_min_trade_size_then_fires():
    targets = {"A": 0.5, "B": 0.5}
    assert AnyDriftTrigger(0.01).evaluate(ctx_for(targets, nav=98_000.0, cash=2_000.0), targets).fired
    assert not AnyDriftTrigger(0.01).evaluate(ctx_for(targets, nav=99_500.0, cash=500.0), targets).fired


# --- CalendarTrigger memory -----------------------------------------------------------------

@pytest.mark.parametrize("freq, day, first, same_period, next_period", [
    (Frequency.MONTHLY, 1, datetime(2021, 3, 1), datetime(2021, 3, 31), datetime(2021, 4, 1)),
    (Frequency.MONTHLY, 15, datetime(2021, 3, 15), datetime(2021, 3, 16), datetime(2021, 4, 15)),
    (Frequency.WEEKLY, 5, datetime(2021, 3, 19), datetime(2021, 3, 19, 15), datetime(2021, 3, 26)),
    (Frequency.QUARTERLY, 1, datetime(2021, 4, 1), datetime(2021, 6, 30), datetime(2021, 7, 1)),
    (Frequency.ANNUALLY, 15, datetime(2021, 1, 15), datetime(2021, 12, 31), datetime(2022, 1, 18)),
])
def test_calendar_when_fired_then_remembers_decision_and_not_again_in_period(freq, day, first, same_period,
                                                                             next_period):
    trigger = CalendarTrigger(freq, day)
    key = f"calendar.{freq.value}.{day}"
    d = trigger.evaluate(ctx_for({"A": 0.5, "B": 0.5}, ts=first), {"A": 0.5, "B": 0.5})
    assert d.fired and d.memory == {key: float(first.date().toordinal())}
    again = trigger.evaluate(ctx_for({"A": 0.5, "B": 0.5}, ts=same_period, memory=d.memory), {"A": 0.5, "B": 0.5})
    assert not again.fired and f"already decided this {freq.value} period on {first.date()}" in again.reason
    assert again.memory == {}
    later = trigger.evaluate(ctx_for({"A": 0.5, "B": 0.5}, ts=next_period, memory=d.memory), {"A": 0.5, "B": 0.5})
    assert later.fired and later.memory == {key: float(next_period.date().toordinal())}


def test_calendar_when_another_schedule_in_memory_then_own_key_decides():
    memory = {"calendar.monthly.15": float(date(2021, 3, 15).toordinal())}
    assert CalendarTrigger(Frequency.MONTHLY, 1).evaluate(ctx_for({"A": 1.0}, ts=datetime(2021, 3, 16),
                                                                  memory=memory), {"A": 1.0}).fired


# --- candidate days on the shipped trading calendar ----------------------------------------

@pytest.fixture(scope="module")
def trading_days() -> pd.DatetimeIndex:
    days = load_prices("stocks").loc["2019-01-01":"2021-12-31"].index
    assert len(days) > 700 and days[0].year == 2019 and days[-1].year == 2021
    return days


def fire_days_calendar(trigger: CalendarTrigger, days: pd.DatetimeIndex) -> np.ndarray:
    """Evaluate on every day, keeping the memory each decision returns (as the runtime does)."""
    memory: dict[str, float] = {}
    out = []
    for ts in days:
        now = ts.to_pydatetime()
        state = PortfolioState(timestamp=now, cash=1.0, prices={"A": 1.0}, memory=memory)
        d = trigger.evaluate(MarketContext(timestamp=now, state=state, returns=EMPTY), {"A": 1.0})
        memory = {**memory, **d.memory}
        out.append(d.fired)
    return np.array(out)


def fire_days_gate(gate: CheckFrequencyGate, days: pd.DatetimeIndex) -> np.ndarray:
    last, out = None, []
    for ts in days:
        now = ts.to_pydatetime()
        state = PortfolioState(timestamp=now, cash=1.0, prices={"A": 1.0}, last_check_at=last)
        d = gate.evaluate(MarketContext(timestamp=now, state=state, returns=EMPTY), {"A": 1.0})
        if d.fired:
            last = now
        out.append(d.fired)
    return np.array(out)


@pytest.mark.parametrize("freq, day, count", [
    (Frequency.MONTHLY, 1, 36), (Frequency.QUARTERLY, 1, 12), (Frequency.ANNUALLY, 1, 3),
    (Frequency.WEEKLY, 1, None), (Frequency.WEEKLY, 5, None), (Frequency.MONTHLY, 15, 37),
    (Frequency.QUARTERLY, 15, 13), (Frequency.ANNUALLY, 15, 4), (Frequency.DAILY, 1, None),
])
def test_candidate_days_when_calendar_evaluated_daily_then_equal_to_fire_days(trading_days, freq, day, count):
    trigger = CalendarTrigger(freq, day)
    fired = fire_days_calendar(trigger, trading_days)
    candidates = trigger.candidate_days(trading_days)
    assert candidates.dtype == bool and len(candidates) == len(trading_days)
    np.testing.assert_array_equal(candidates, fired)
    if count is not None:  # one per period, plus the first check (a schedule that never decided decides)
        assert fired.sum() == count
    if freq == Frequency.MONTHLY and day == 15:
        assert trading_days[fired][0] == trading_days[0]
        assert all(15 <= d.day <= 19 for d in trading_days[fired][1:])  # first trading day on/after the 15th


@pytest.mark.parametrize("freq", list(Frequency))
def test_candidate_days_when_gate_evaluated_daily_then_equal_to_days_it_opens(trading_days, freq):
    gate = CheckFrequencyGate(freq)
    opened = fire_days_gate(gate, trading_days)
    np.testing.assert_array_equal(gate.candidate_days(trading_days), opened)
    periods = {Frequency.DAILY: len(trading_days), Frequency.WEEKLY: 157, Frequency.MONTHLY: 36,
               Frequency.QUARTERLY: 12, Frequency.ANNUALLY: 3}[freq]
    assert opened.sum() == periods  # the gate opens on the first trading day of every period


# A period whose anchor falls after its last trading day is decided on the next period's first
# trading day (a catch-up), so every period gets its decision; the first check decides too
# (2019-01-02 is before the 30th/31st: 36 months + 1; for weekly Saturday it is that week's decision).
@pytest.mark.parametrize("freq, day, periods", [(Frequency.MONTHLY, 31, 37), (Frequency.MONTHLY, 30, 37),
                                                (Frequency.WEEKLY, 6, 157)])
def test_calendar_when_anchor_after_last_trading_day_of_period_then_still_fires_once_per_period(
        trading_days, freq, day, periods):
    weeks = {tuple(d.isocalendar())[:2] for d in trading_days}
    assert len(weeks) == 157
    assert fire_days_calendar(CalendarTrigger(freq, day), trading_days).sum() == periods


def test_calendar_when_anchor_on_weekend_in_first_month_of_quarter_then_fires_later_in_quarter(trading_days):
    # Jan 31 2021 is a Sunday: the quarter's decision comes on Monday Feb 1 (plus the first check).
    fired = trading_days[fire_days_calendar(CalendarTrigger(Frequency.QUARTERLY, 31), trading_days)]
    assert len(fired) == 13 and pd.Timestamp("2021-02-01") in fired


# --- partial_targets ------------------------------------------------------------------------

def test_partial_when_scoped_unit_sells_then_freed_weight_fills_under_target_units_pro_rata_to_gaps():
    before = {"A": 0.4, "B": 0.2, "C": 0.2, "D": 0.1, "E": 0.1}
    targets = {"A": 0.3, "B": 0.3, "C": 0.25, "D": 0.1, "E": 0.05}
    out = partial_targets(before, targets, ["A"])
    # freed 0.1 over gaps B 0.10 and C 0.05: two thirds of each gap; D (on target) and E (over) unchanged
    assert out == pytest.approx({"A": 0.3, "B": 0.2 + 0.1 * 2 / 3, "C": 0.2 + 0.05 * 2 / 3, "D": 0.1, "E": 0.1})
    assert sum(out.values()) == pytest.approx(1.0)


def test_partial_when_freed_weight_exceeds_gaps_then_gaps_closed_and_rest_in_cash():
    out = partial_targets({"A": 0.6, "B": 0.2, "C": 0.2}, {"A": 0.2, "B": 0.25, "C": 0.25}, ["A"])
    assert out == pytest.approx({"A": 0.2, "B": 0.25, "C": 0.25})


def test_partial_when_scoped_unit_buys_then_idle_cash_used_first_then_over_target_units():
    # A needs 0.2: 0.1 of idle cash, then 0.1 from B (the only unit over its target); C untouched
    out = partial_targets({"A": 0.1, "B": 0.5, "C": 0.3}, {"A": 0.3, "B": 0.4, "C": 0.3}, ["A"])
    assert out == pytest.approx({"A": 0.3, "B": 0.4, "C": 0.3})


def test_partial_when_several_units_over_target_then_funded_pro_rata_to_excess():
    before = {"A": 0.1, "B": 0.5, "C": 0.3, "D": 0.1}
    out = partial_targets(before, {"A": 0.16, "B": 0.4, "C": 0.25, "D": 0.19}, ["A"])
    # need 0.06 from excesses B 0.10 and C 0.05 (0.4 of each); D is under target and not touched
    assert out == pytest.approx({"A": 0.16, "B": 0.46, "C": 0.28, "D": 0.1})


def test_partial_when_cash_is_what_targets_keep_then_it_is_not_spent():
    out = partial_targets({"A": 0.1, "B": 0.8}, {"A": 0.2, "B": 0.7}, ["A"])  # both keep 10% cash
    assert out == pytest.approx({"A": 0.2, "B": 0.7})
    assert 1.0 - sum(out.values()) == pytest.approx(0.1)


UNITS = ["A", "B", "C", "D", "E"]


def _weights(draw, total_max: float) -> dict[str, float]:
    raw = [draw(st.floats(min_value=0.0, max_value=1.0)) for _ in UNITS]
    total = draw(st.floats(min_value=0.0, max_value=total_max))
    if sum(raw) == 0:
        return {u: 0.0 for u in UNITS}
    return {u: r / sum(raw) * total for u, r in zip(UNITS, raw)}


@st.composite
def partial_cases(draw):
    before = _weights(draw, 1.0)
    targets = _weights(draw, 1.0)
    scope = sorted(draw(st.sets(st.sampled_from(UNITS), min_size=1, max_size=len(UNITS))))
    return before, targets, scope


@settings(max_examples=400, deadline=None)
@given(partial_cases())
def test_property_when_any_partial_rebalance_then_non_negative_and_sum_at_most_one(case):
    before, targets, scope = case
    out = partial_targets(before, targets, scope)
    assert set(out) == set(UNITS)
    assert all(w >= 0.0 for w in out.values())
    assert sum(out.values()) <= 1.0 + 1e-9
    freed = sum(before[u] - targets[u] for u in scope)
    if freed >= 0:  # scoped trades fund themselves: every scoped unit reaches its target exactly
        assert all(out[u] == pytest.approx(targets[u], abs=1e-12) for u in scope)
        # and units outside the scope only move towards their targets, never past them
        for u in set(UNITS) - set(scope):
            assert min(before[u], targets[u]) - 1e-12 <= out[u] <= max(before[u], targets[u]) + 1e-12
