"""``exclude_assets``: never bought or sold, held positions stay, drift is computed around them."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from src.engines import create_engine
from src.errors import one_line_error
from src.models.decision_models import PlanStatus
from src.pipeline import plan_rebalance, tradable_state
from tests.conftest import guide_config, state_at_weights

TS = datetime(2021, 12, 31)
PRICES = {"rsi_strategy": 10.0, "macd_strategy": 10.0, "ml_strategy": 10.0, "KO": 55.0}


def _state(weights, ko_units, cash=0.0):
    state = state_at_weights(weights, PRICES, timestamp=TS, cash=cash)
    return state.model_copy(update={"holdings": {**state.holdings, "KO": ko_units}})


def test_plan_when_excluded_unit_held_then_no_order_on_it_and_weights_exclude_it(registry_returns):
    config = guide_config(exclude_assets=["KO"])
    drifted = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}
    plan = plan_rebalance(config, create_engine(config), _state(drifted, 2_000.0), registry_returns)
    assert plan.status == PlanStatus.ORDERS and "KO" not in {o.unit for o in plan.orders}
    assert plan.weights_before == pytest.approx(drifted)  # measured on the value less KO's 110,000
    assert plan.excluded_holdings == {"KO": pytest.approx(110_000.0)}


def test_plan_when_excluded_unit_held_on_target_then_no_trigger(registry_returns):
    config = guide_config(exclude_assets=["KO"])
    on_target = {"rsi_strategy": 0.40, "macd_strategy": 0.30, "ml_strategy": 0.30}
    # Without the exclusion KO would be half the account and every target 'underweight'.
    plan = plan_rebalance(config, create_engine(config), _state(on_target, 2_000.0), registry_returns)
    assert plan.status == PlanStatus.NO_TRIGGER and plan.orders == []


def test_plan_when_only_excluded_units_and_no_cash_then_recorded_no_trigger(registry_returns):
    config = guide_config(exclude_assets=["KO"])
    state = _state({}, 100.0)
    plan = plan_rebalance(config, create_engine(config), state, registry_returns)
    assert plan.status == PlanStatus.NO_TRIGGER and "holds only exclude_assets ['KO']" in plan.message


@settings(max_examples=60, deadline=None)
@given(w=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3), ko=st.floats(0.0, 1e6), cash=st.floats(0.0, 5e4))
def test_plan_when_any_excluded_holding_then_same_trades_as_without_it(registry_returns, w, ko, cash):
    config = guide_config(exclude_assets=["KO"])
    weights = dict(zip(["rsi_strategy", "macd_strategy", "ml_strategy"], [x / sum(w) for x in w]))
    with_ko = plan_rebalance(config, create_engine(config), _state(weights, ko, cash), registry_returns)
    without = plan_rebalance(config, create_engine(config), _state(weights, 0.0, cash), registry_returns)
    assert "KO" not in {o.unit for o in with_ko.orders}
    assert [(o.unit, o.side, round(o.quantity, 9)) for o in with_ko.orders] == \
        [(o.unit, o.side, round(o.quantity, 9)) for o in without.orders]
    assert with_ko.status == without.status


def test_tradable_state_when_nothing_excluded_held_then_same_state():
    state = _state({"rsi_strategy": 1.0}, 0.0)
    assert tradable_state(state, ["KO"]) == (state, {})


def test_config_when_excluded_unit_has_target_then_error_names_both():
    with pytest.raises(ValueError) as info:
        guide_config(exclude_assets=["rsi_strategy"])
    assert "exclude_assets: 'rsi_strategy' also has a target weight" in one_line_error(info.value)
    with pytest.raises(ValueError, match="lists a unit twice"):
        guide_config(exclude_assets=["KO", "KO"])
