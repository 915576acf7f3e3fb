"""The order builder: rules as examples, invariants as hypothesis properties."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from src.errors import DataError
from src.models.trading_models import FeeModel, OrderSide, PortfolioState
from src.orders.builder import build_orders, client_order_id

TS = datetime(2021, 6, 1)
FEES = FeeModel(bps=10.0, fixed=1.0)


def state(cash=1000.0, holdings=None, prices=None) -> PortfolioState:
    return PortfolioState(timestamp=TS, cash=cash, holdings=holdings or {"A": 50.0, "B": 10.0},
                          prices=prices or {"A": 100.0, "B": 200.0, "C": 50.0})


def build(s, targets, fees=FEES, min_trade=0.01, plan="p1"):
    return build_orders(s, targets, fee_model=fees, min_trade_size=min_trade, plan_id=plan)


def test_build_when_overweight_and_cash_then_sells_first_then_buys():
    plan = build(state(), {"A": 0.4, "B": 0.3, "C": 0.3})
    sides = [o.side for o in plan.orders]
    assert sides == [OrderSide.SELL, OrderSide.BUY, OrderSide.BUY]
    sell = plan.orders[0]
    assert sell.unit == "A" and sell.quantity == pytest.approx(18.0)  # 5000 -> 3200 of 8000
    assert sell.fee == pytest.approx(1800 * 0.001 + 1.0)
    assert all("-> target" in o.reason for o in plan.orders)


def test_build_when_cash_short_for_fees_then_buys_scaled_and_cash_not_negative():
    plan = build(state(), {"A": 0.4, "B": 0.3, "C": 0.3})
    assert plan.expected_cash_after >= 0
    assert any("scaled to available cash" in o.reason for o in plan.orders if o.side == OrderSide.BUY)
    spent = sum(o.notional + o.fee for o in plan.orders if o.side == OrderSide.BUY)
    received = sum(o.notional - o.fee for o in plan.orders if o.side == OrderSide.SELL)
    assert spent <= 1000.0 + received + 1e-9


def test_build_when_trade_below_min_size_then_skipped_with_reason():
    s = state(cash=0.0, holdings={"A": 50.0, "B": 25.0}, prices={"A": 100.0, "B": 200.0})
    plan = build(s, {"A": 0.505, "B": 0.495}, min_trade=0.01)  # drift 0.005 < 0.01
    assert plan.orders == [] and {k.unit for k in plan.skipped} == {"A", "B"}
    assert "below min_trade_size" in plan.skipped[0].reason


def test_build_when_unit_not_targeted_then_sold_entirely():
    plan = build(state(cash=0.0), {"A": 0.6, "C": 0.4}, fees=FeeModel(bps=0, fixed=0))
    exit_b = next(o for o in plan.orders if o.unit == "B")
    assert exit_b.side == OrderSide.SELL and exit_b.quantity == 10.0 and "exit" in exit_b.reason


def test_build_when_retried_then_same_client_ids_and_unique_within_plan():
    a = build(state(), {"A": 0.4, "B": 0.3, "C": 0.3})
    b = build(state(), {"A": 0.4, "B": 0.3, "C": 0.3})
    ids = [o.client_order_id for o in a.orders]
    assert ids == [o.client_order_id for o in b.orders] and len(set(ids)) == len(ids)
    assert ids[0] == client_order_id("p1", "A", OrderSide.SELL) and len(ids[0]) == 32
    other = build(state(), {"A": 0.4, "B": 0.3, "C": 0.3}, plan="p2")
    assert not set(ids) & {o.client_order_id for o in other.orders}


def test_build_when_targets_below_one_then_rest_kept_as_cash():
    plan = build(state(cash=0.0), {"A": 0.4, "B": 0.4}, fees=FeeModel(bps=0, fixed=0))
    assert plan.expected_cash_after == pytest.approx(0.2 * 7000.0)


@pytest.mark.parametrize("targets, fragment", [
    ({"A": 0.5, "Z": 0.5}, "prices['Z'] is missing"),
    ({"A": 0.7, "B": 0.7}, "targets sum to 1.4 > 1"),
    ({"A": -0.1, "B": 1.0}, "targets['A']=-0.1 is negative"),
])
def test_build_when_input_bad_then_error_names_it(targets, fragment):
    with pytest.raises(DataError) as info:
        build(state(), targets)
    assert fragment in str(info.value)


def test_build_when_portfolio_empty_then_error():
    with pytest.raises(DataError, match="portfolio value=0.0 must be > 0"):
        build(PortfolioState(timestamp=TS, cash=0.0, prices={"A": 1.0}), {"A": 1.0})


def test_build_when_fee_exceeds_proceeds_then_skipped():
    s = state(cash=10_000.0, holdings={"A": 1.0}, prices={"A": 5.0, "B": 10.0})
    plan = build(s, {"B": 1.0}, fees=FeeModel(bps=0, fixed=20.0), min_trade=0.0)
    assert all(o.unit != "A" for o in plan.orders)
    assert any(k.unit == "A" and "fee" in k.reason for k in plan.skipped)


# --- properties --------------------------------------------------------------------------

UNITS = ["A", "B", "C", "D"]


@st.composite
def scenarios(draw):
    prices = {u: draw(st.floats(min_value=0.5, max_value=5_000)) for u in UNITS}
    holdings = {u: draw(st.floats(min_value=0, max_value=1_000)) for u in UNITS}
    cash = draw(st.floats(min_value=0, max_value=200_000))
    raw = [draw(st.floats(min_value=0, max_value=1)) for _ in UNITS]
    if sum(raw) == 0:
        raw[0] = 1.0
    invest = draw(st.sampled_from([1.0, 1.0, 0.9]))
    targets = {u: invest * r / sum(raw) for u, r in zip(UNITS, raw)}
    fees = FeeModel(bps=draw(st.floats(min_value=0, max_value=100)), fixed=draw(st.floats(min_value=0, max_value=25)))
    min_trade = draw(st.sampled_from([0.0, 0.001, 0.01, 0.05]))
    s = PortfolioState(timestamp=TS, cash=cash, holdings=holdings, prices=prices)
    return s, targets, fees, min_trade


def _apply(s: PortfolioState, plan):
    holdings, cash = dict(s.holdings), s.cash
    for o in plan.orders:
        sign = 1 if o.side == OrderSide.BUY else -1
        holdings[o.unit] = holdings.get(o.unit, 0.0) + sign * o.quantity
        cash += -sign * o.notional - o.fee
    return holdings, cash


def _drift(holdings, cash, prices, targets):
    nav = cash + sum(q * prices[u] for u, q in holdings.items())
    return sum(abs(holdings.get(u, 0.0) * prices[u] / nav - targets.get(u, 0.0)) for u in set(holdings) | set(targets))


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_when_any_plan_then_no_overselling_and_cash_never_negative(case):
    s, targets, fees, min_trade = case
    assume(s.total_value() > 0)
    plan = build(s, targets, fees=fees, min_trade=min_trade)
    holdings, cash = _apply(s, plan)
    assert all(q >= -1e-9 * max(1.0, s.holdings.get(u, 0.0)) for u, q in holdings.items())
    assert cash >= -1e-9 * s.total_value()
    for o in plan.orders:
        if o.side == OrderSide.SELL:
            assert o.quantity <= s.holdings[o.unit] * (1 + 1e-12)
    # running cash after each order (sells first) never goes negative either
    running = s.cash
    for o in plan.orders:
        running += (o.notional - o.fee) if o.side == OrderSide.SELL else -(o.notional + o.fee)
        assert running >= -1e-9 * s.total_value()


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_when_any_plan_then_drift_not_larger_and_value_conserved_up_to_fees(case):
    s, targets, fees, min_trade = case
    assume(s.total_value() > 0)
    plan = build(s, targets, fees=fees, min_trade=min_trade)
    holdings, cash = _apply(s, plan)
    before = _drift(s.holdings, s.cash, s.prices, targets)
    after = _drift(holdings, cash, s.prices, targets)
    assert after <= before + 1e-9
    value_after = cash + sum(q * s.prices[u] for u, q in holdings.items())
    assert value_after + plan.estimated_fees == pytest.approx(s.total_value(), rel=1e-9)
    assert plan.expected_value_after == pytest.approx(value_after, rel=1e-9)


def test_build_when_cash_reserve_then_fills_at_worse_price_still_affordable():
    s = PortfolioState(timestamp=TS, cash=90_000.0, prices={"A": 100.0, "B": 50.0, "C": 20.0})
    slip = 5.0
    plan = build_orders(s, {"A": 0.4, "B": 0.3, "C": 0.3}, fee_model=FEES, min_trade_size=0.01, plan_id="p",
                        cash_reserve_bps=slip)
    spent = sum(FEES.fee(o.notional * (1 + slip / 1e4)) + o.notional * (1 + slip / 1e4) for o in plan.orders)
    assert spent <= 90_000.0
