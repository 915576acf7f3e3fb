"""Event triggers OR-ed with any method: each fires exactly at its threshold and not below;
single-unit drift scopes a partial rebalance; a crisis checks the drift condition at once."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from src.engines import (
    AgainstConfiguredTargets,
    AnyDriftTrigger,
    AnyOf,
    DriftBandTrigger,
    MarketContext,
    NoTradeRegionTrigger,
    RebalancingEngine,
    TrendDelayTrigger,
    create_engine,
    drift_condition,
)
from src.errors import ConfigError
from src.models.decision_models import EngineResult
from src.models.params import EventTriggerParams
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig
from src.pipeline import plan_rebalance
from src.utils.market_data import asset_prices, simple_returns
from tests.conftest import state_at_weights

UNITS = ["KO", "XOM", "JNJ", "AAPL"]
TARGETS = {u: 0.25 for u in UNITS}
UNIT_PRICES = {u: 1.0 for u in UNITS}
TS = datetime(2021, 3, 15)
KO_HEAVY = {"KO": 0.33, "XOM": 0.21, "JNJ": 0.21, "AAPL": 0.25}   # KO +0.08, the others -0.04 or 0


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return asset_prices(UNITS)


@pytest.fixture(scope="module")
def returns(prices) -> pd.DataFrame:
    return simple_returns(prices)


class Untouchable(Mapping):
    """Targets that fail if read: triggers deciding from weights or returns alone must not."""

    def __getitem__(self, key):
        raise AssertionError("targets were read")

    def __iter__(self):
        raise AssertionError("targets were read")

    def __len__(self):
        raise AssertionError("targets were read")


def config(method="threshold", params=None, **events) -> PortfolioConfig:
    return PortfolioConfig(name="ev", target_allocations=dict(TARGETS), rebalancing_method=method,
                           rebalancing_params=params or {}, event_triggers=events or None)


def ctx(returns, weights, ts=TS, **update) -> MarketContext:
    state = state_at_weights(weights, UNIT_PRICES, timestamp=ts).model_copy(update=update)
    return MarketContext(timestamp=ts, state=state, returns=returns)


# -- single-unit drift ------------------------------------------------------------------------

@pytest.mark.parametrize("threshold, fired", [(0.08, True), (0.08 + 1e-9, False)])
def test_single_unit_drift_when_at_threshold_then_partial_of_that_unit_only(returns, threshold, fired):
    engine = create_engine(config(params={"min_drift": 0.10}, single_unit_drift=threshold))
    decision = engine.trigger.evaluate(ctx(returns, KO_HEAVY), TARGETS)
    assert decision.fired is fired, decision.reason
    if fired:
        assert decision.scope == ["KO"] and decision.trigger == "single_unit_drift"


def test_single_unit_drift_when_plan_made_then_only_that_unit_and_its_funding_trade(returns):
    # Limits that cannot bind, so the plan shows the partial rebalance alone.
    limits = {**DEFAULT_RISK_LIMITS, "min_strategy_sharpe": -100.0, "max_strategy_drawdown": 1.0,
              "max_correlation_pair": 1.0, "max_avg_correlation": 1.0, "min_portfolio_sharpe": -100.0,
              "max_portfolio_drawdown": 1.0}
    cfg = PortfolioConfig(name="ev", target_allocations=dict(TARGETS), rebalancing_params={"min_drift": 0.10},
                          event_triggers={"single_unit_drift": 0.08}, risk_limits=limits)
    state = state_at_weights(KO_HEAVY, UNIT_PRICES, timestamp=TS)
    plan = plan_rebalance(cfg, create_engine(cfg), state, returns)
    assert plan.trigger.scope == ["KO"]
    sides = {o.unit: o.side.value for o in plan.orders}
    assert sides == {"KO": "sell", "XOM": "buy", "JNJ": "buy"}  # AAPL, on target, is left alone


def test_single_unit_drift_when_method_fires_too_then_full_rebalance_wins(returns):
    engine = create_engine(config(params={"min_drift": 0.05}, single_unit_drift=0.08))
    decision = engine.trigger.evaluate(ctx(returns, KO_HEAVY), TARGETS)
    assert decision.fired and decision.scope is None and "drift_band" in decision.trigger


def test_single_unit_drift_when_engine_has_reference_targets_then_engine_not_run(returns):
    engine = create_engine(config("cost_aware", {"check_frequency": "monthly"}, single_unit_drift=0.08))
    c = ctx(returns, KO_HEAVY, last_check_at=datetime(2021, 3, 1))  # gate closed: the method says no
    decision = engine.trigger.evaluate(c, Untouchable())
    assert decision.fired and decision.scope == ["KO"]


# -- concentration ----------------------------------------------------------------------------

@pytest.mark.parametrize("limit, fired", [(0.33, True), (0.33 + 1e-9, False)])
def test_concentration_when_at_limit_then_full_rebalance_without_reading_targets(returns, limit, fired):
    engine = create_engine(config(params={"min_drift": 0.10}, concentration_limit=limit))
    decision = engine.trigger.triggers[1].evaluate(ctx(returns, KO_HEAVY), Untouchable())
    assert decision.fired is fired and "KO 0.3300" in decision.reason
    full = engine.trigger.evaluate(ctx(returns, KO_HEAVY), TARGETS)
    assert full.fired is fired and full.scope is None


def test_concentration_when_fires_then_method_memory_kept(returns):
    # Hybrid on a calendar date inside its bands: the calendar's look is remembered even though
    # the concentration trigger is the one that fired.
    engine = create_engine(config("hybrid", {"min_drift": 0.05}, concentration_limit=0.29))
    weights = {"KO": 0.29, "XOM": 0.21, "JNJ": 0.25, "AAPL": 0.25}
    decision = engine.trigger.evaluate(ctx(returns, weights, ts=datetime(2021, 3, 1)), TARGETS)
    assert decision.fired and decision.trigger == "concentration"
    assert decision.memory == {"calendar.monthly.1": float(datetime(2021, 3, 1).toordinal())}


# -- crisis -----------------------------------------------------------------------------------

CRASH = datetime(2020, 3, 16)      # the S&P 500 fell 12% that day
BEFORE = {"KO": 0.33, "XOM": 0.17, "JNJ": 0.25, "AAPL": 0.25}


def crash_context(prices, returns, weights=BEFORE) -> tuple[MarketContext, float]:
    """Holdings bought at the previous close, valued at the crash close; their exact return."""
    prev = prices.loc[:CRASH].iloc[-2]
    r = returns.loc[CRASH]
    state = state_at_weights(weights, prev.to_dict(), timestamp=CRASH)
    state = state.model_copy(update={"prices": (prev * (1 + r)).to_dict(), "last_check_at": datetime(2020, 3, 2)})
    expected = sum(weights[u] * r[u] for u in UNITS)
    return MarketContext(timestamp=CRASH, state=state, returns=returns), expected


@pytest.mark.parametrize("nudge, fired", [(0.0, True), (1e-9, False)])
def test_crisis_daily_drop_when_at_threshold_then_drift_checked_despite_gate(prices, returns, nudge, fired):
    c, expected = crash_context(prices, returns)
    assert expected < -0.08
    engine = create_engine(config(params={"check_frequency": "monthly"}, crisis_daily_drop=-expected + nudge))
    assert not engine.method_trigger.evaluate(c, TARGETS).fired  # checked this month already
    decision = engine.trigger.evaluate(c, TARGETS)
    assert decision.fired is fired, decision.reason
    if fired:
        assert decision.trigger == "crisis+drift_band" and "immediate check" in decision.reason
        assert decision.details["crisis.return"] == pytest.approx(expected, abs=1e-15)


def test_crisis_when_portfolio_on_target_then_no_trade(prices, returns):
    c, expected = crash_context(prices, returns, TARGETS)
    engine = create_engine(config(params={"check_frequency": "monthly"}, crisis_daily_drop=0.05))
    decision = engine.trigger.evaluate(c, TARGETS)
    assert not decision.fired and "inside their bands" in decision.reason


@pytest.mark.parametrize("nudge, fired", [(0.0, True), (1e-9, False)])
def test_crisis_vol_ratio_when_at_threshold_then_drift_checked(prices, returns, nudge, fired):
    day = datetime(2020, 3, 20)
    c = ctx(returns, BEFORE, ts=day, last_check_at=datetime(2020, 3, 2))
    rp = returns.loc[:day].iloc[-252:] @ pd.Series(BEFORE)
    ratio = rp.iloc[-20:].std() / rp.std()
    assert ratio > 2.5
    engine = create_engine(config(params={"check_frequency": "monthly"}, crisis_vol_ratio=ratio + nudge))
    decision = engine.trigger.evaluate(c, TARGETS)
    assert decision.fired is fired, decision.reason
    if fired:
        assert decision.details["crisis.vol_ratio"] == pytest.approx(ratio, rel=1e-12)


def test_crisis_when_calm_then_targets_never_read(returns):
    engine = create_engine(config(params={"min_drift": 0.10}, crisis_daily_drop=0.05, crisis_vol_ratio=2.0))
    decision = engine.trigger.triggers[1].evaluate(ctx(returns, TARGETS), Untouchable())
    assert not decision.fired and decision.reason.startswith("no crisis (return")


# -- wiring -----------------------------------------------------------------------------------

def test_create_engine_when_event_triggers_then_or_ed_after_method_and_candidate_days_any():
    engine = create_engine(config("calendar", single_unit_drift=0.1, concentration_limit=0.5, crisis_daily_drop=0.1))
    assert isinstance(engine.trigger, AnyOf) and engine.trigger.triggers[0] is engine.method_trigger
    assert [type(t).__name__ for t in engine.trigger.triggers[1:]] == [
        "ConcentrationTrigger", "CrisisTrigger", "SingleUnitDriftTrigger"]
    days = pd.bdate_range("2021-01-01", "2021-03-31")
    assert engine.trigger.candidate_days(days) is None
    assert engine.method_trigger.candidate_days(days).sum() == 3
    assert create_engine(config("calendar")).trigger.candidate_days(days).sum() == 3


class Custom(RebalancingEngine):
    def calculate_target_weights(self, ctx):
        return EngineResult(engine="custom", weights=dict(self.config.target_allocations))


@pytest.mark.parametrize("method, params, expected", [
    ("threshold", {}, DriftBandTrigger), ("adaptive", {}, DriftBandTrigger), ("calendar", {}, AnyDriftTrigger),
    ("calendar", {"force_rebalance": True}, AnyDriftTrigger), ("risk_parity", {}, AnyDriftTrigger),
    ("cost_aware", {}, NoTradeRegionTrigger), ("tactical", {}, TrendDelayTrigger),
    ("hybrid", {"mode": "calendar_or_bands"}, AgainstConfiguredTargets), (None, {}, DriftBandTrigger),
])
def test_drift_condition_when_gates_removed_then_method_condition(method, params, expected):
    cfg = config(method or "threshold", params, crisis_daily_drop=0.05)
    engine = create_engine(cfg) if method else Custom(cfg)
    assert isinstance(drift_condition(engine), expected)


@pytest.mark.parametrize("events, fragment", [
    ({}, "sets none of single_unit_drift"), ({"single_unit_drift": 0.0}, "single_unit_drift"),
    ({"concentration_limit": 1.5}, "concentration_limit"), ({"crisis_daily_drop": 1.0}, "crisis_daily_drop"),
    ({"crisis_vol_ratio": 1.0}, "crisis_vol_ratio"), ({"crisis_vol_days": 1, "crisis_vol_ratio": 2}, "crisis_vol_days"),
    ({"crisis_drop": 0.1}, "crisis_drop"),
])
def test_params_when_invalid_then_error_names_field(events, fragment):
    with pytest.raises(ValidationError, match=fragment):
        PortfolioConfig(name="ev", target_allocations=dict(TARGETS), event_triggers=events)


@pytest.mark.parametrize("events, fragment", [
    ({"concentration_limit": 0.25}, "event_triggers.concentration_limit=0.25 is not above the target of 'KO'"),
    ({"crisis_vol_ratio": 2.0, "crisis_vol_days": 252}, "crisis_vol_days=252 must be below risk_lookback_days=252"),
])
def test_create_engine_when_events_contradict_config_then_config_error(events, fragment):
    with pytest.raises(ConfigError, match=fragment):
        create_engine(config(**events))


def test_event_trigger_params_defaults():
    p = EventTriggerParams(single_unit_drift=0.1)
    assert (p.concentration_limit, p.crisis_daily_drop, p.crisis_vol_ratio, p.crisis_vol_days) == (None, None, None, 20)
    assert np.isclose(p.single_unit_drift, 0.1)
