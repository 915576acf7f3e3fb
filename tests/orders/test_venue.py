"""The venue stage (src/orders/venue.py): amounts truncated to each market's step with ccxt's own
rounding, below-minimum orders skipped with the reason, sells capped at holdings; and a paper
replay of exchange symbols trading only amounts the exchange accepts."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.brokers.markets import snapshot_rules
from src.models.trading_models import FeeModel, Order, OrderPlan, OrderSide
from src.orders.venue import apply_venue_rules, round_amount

RULES = snapshot_rules("binance", ["BTC", "ETH", "XRP/USDT", "SOL"], "USDT")
FEES = FeeModel(bps=10.0)


def plan(*orders: Order, cash: float = 1_000.0, value: float = 10_000.0) -> OrderPlan:
    return OrderPlan(orders=list(orders), value_before=value, cash_before=cash, expected_value_after=value,
                     expected_cash_after=cash, estimated_fees=0.0, expected_weights={})


def order(unit: str, side: OrderSide, qty: float, price: float) -> Order:
    return Order(client_order_id=f"id-{unit}-{side.value}", unit=unit, side=side, quantity=qty, price=price,
                 notional=qty * price, fee=FEES.fee(qty * price), reason="t")


def test_rules_when_snapshot_then_real_binance_filters_and_missing_units_listed():
    assert RULES.markets["BTC"].amount_precision == 0.00001 and RULES.markets["BTC"].min_cost == 5.0
    assert RULES.markets["XRP/USDT"].min_amount == 1.0 and RULES.missing == ["SOL"]


def test_apply_when_amount_off_step_then_truncated_and_fee_reestimated():
    out = apply_venue_rules(plan(order("BTC", OrderSide.BUY, 0.0123456789, 100_000.0)), RULES, {}, FEES)
    [o] = out.orders
    assert o.quantity == 0.01234 and o.notional == pytest.approx(1_234.0) and o.fee == pytest.approx(1.234)


@pytest.mark.parametrize("unit, qty, price, words", [
    ("BTC", 0.00004, 100_000.0, "cost 4.00 is below the market's minimum 5.00"),
    ("XRP/USDT", 0.9, 3.0, "amount 0 is below the market's minimum 1"),
])
def test_apply_when_below_minimum_then_skipped_with_reason(unit, qty, price, words):
    out = apply_venue_rules(plan(order(unit, OrderSide.BUY, qty, price)), RULES, {}, FEES)
    assert out.orders == [] and words in out.skipped[0].reason and out.skipped[0].unit == unit


def test_apply_when_sell_exceeds_holdings_then_capped_then_rounded():
    out = apply_venue_rules(plan(order("ETH", OrderSide.SELL, 2.0, 4_000.0)), RULES, {"ETH": 1.23456}, FEES)
    assert out.orders[0].quantity == 1.2345


def test_apply_when_unit_without_rules_then_unchanged():
    original = plan(order("SOL", OrderSide.BUY, 0.123456789, 200.0))
    assert apply_venue_rules(original, RULES, {}, FEES) is original


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-6, max_value=50.0), st.floats(min_value=100.0, max_value=200_000.0))
def test_round_amount_when_any_amount_then_on_step_never_above(amount, price):
    market = RULES.markets["BTC"]
    rounded = round_amount(amount, market)
    assert rounded <= amount + 1e-15 and amount - rounded < 0.00001 + 1e-12
    assert abs(rounded / 0.00001 - round(rounded / 0.00001)) < 1e-6


def test_replay_when_exchange_symbols_in_paper_then_every_fill_on_step_and_same_as_base_names(tmp_path):
    from src.models.execution_models import RuntimeSettings
    from src.models.portfolio_models import PortfolioConfig
    from src.runtime.replay import run_replay
    from tests.agents.test_agent_tax import LOOSE

    limits = {**LOOSE, "max_single_strategy": 1.0, "min_single_strategy": 0.0}
    runtime = RuntimeSettings(replay_start=date(2024, 1, 1), replay_end=date(2024, 3, 31), initial_cash=1_000.0,
                              exchange={"id": "binance"})
    fills = {}
    for names in (("BTC/USDT", "ETH/USDT", "XRP/USDT"), ("BTC", "ETH", "XRP")):
        config = PortfolioConfig(name=f"venue {names[0]}", target_allocations=dict(zip(names, (0.5, 0.3, 0.2))),
                                 rebalancing_method="threshold", risk_limits=limits, min_history_days=20)
        agent, _ = run_replay(config, runtime, data_dir=tmp_path / names[0].replace("/", "_"))
        filled = [(e.timestamp, o.unit.split("/")[0], o.filled_quantity) for e in agent.rebalancing_history
                  for o in e.orders if o.filled_quantity > 0]
        assert filled and all(abs(q / STEPS[u] - round(q / STEPS[u])) < 1e-6 for _, u, q in filled)
        assert agent.state.history[5].timestamp == datetime(2024, 1, 6)  # a Saturday: crypto trades every day
        fills[names[0]] = filled
    assert fills["BTC/USDT"] == fills["BTC"]


STEPS = {"BTC": 0.00001, "ETH": 0.0001, "XRP": 1.0}


def test_apply_when_sale_rounded_down_then_largest_buy_gives_up_the_missing_cash():
    # The builder spends all of the sale's proceeds; rounding the sale down leaves a few cents less.
    sale = order("ETH", OrderSide.SELL, 8.78874, 1_365.36)
    proceeds = sale.notional - sale.fee
    btc = order("BTC", OrderSide.BUY, 0.2, 35_891.49)
    left = (proceeds - btc.notional - btc.fee) / (1 + FEES.bps / 10_000)
    buys = [btc, order("sleeve", OrderSide.BUY, left / 536.7, 536.7)]
    original = plan(sale, *buys, cash=0.0)  # the sale pays for both buys exactly, before rounding
    out = apply_venue_rules(original, RULES, {"ETH": 10.0}, FEES)
    cash_after = original.cash_before + sum((o.notional - o.fee) if o.side == OrderSide.SELL
                                            else -(o.notional + o.fee) for o in out.orders)
    assert out.orders[0].quantity == 8.7887 and cash_after >= 0.0
    assert [o.unit for o in out.orders] == ["ETH", "BTC", "sleeve"] and out.orders[2] == buys[1]  # largest cut
    assert out.orders[1].notional < buys[0].notional
