"""Harvesting decisions and plan checks, each rule with a hand-built case."""

from __future__ import annotations

from datetime import date

import pytest

from src.models.trading_models import FeeModel, OrderSide
from src.tax.harvest import execute_harvest, harvest_all, scan_harvest, swap_back
from src.tax.ledger import TaxLedger
from src.tax.models import Account, TaxSettings
from src.tax.prevention import PlannedTrade, apply_gain_budget, check_plan, route_sell

D = date
FEES = FeeModel(bps=10.0, fixed=0.0)


def ledger(**settings) -> TaxLedger:
    base = dict(substitutes={"XOM": "CVX", "CVX": "XOM"}, min_harvest_benefit=50.0, min_harvest_loss_fraction=0.05)
    base.update(settings)
    return TaxLedger([Account(account_id="tax", account_type="taxable", household="h"),
                      Account(account_id="ira", account_type="traditional_ira", household="h")], TaxSettings(**base))


def holding_xom(**settings) -> TaxLedger:
    lg = ledger(**settings)
    lg.buy(account_id="tax", symbol="XOM", units=100, price=100.0, trade_date=D(2022, 1, 3))
    return lg


def test_scan_when_big_short_term_loss_then_harvest_with_hand_computed_benefit():
    (c,) = scan_harvest(holding_xom(), {"XOM": 80.0, "CVX": 50.0}, D(2022, 3, 1), FEES)
    assert c.action == "harvest" and c.substitute == "CVX"
    assert c.loss == 2_000 and c.short_term_loss == 2_000 and c.long_term_loss == 0
    assert c.estimated_benefit == pytest.approx(2_000 * 0.35) and c.trading_cost == pytest.approx(2 * 8_000 * 0.001)


@pytest.mark.parametrize("settings, prices, fragment", [
    ({"substitutes": {}}, {"XOM": 80.0, "CVX": 50.0}, "no substitute declared"),
    ({}, {"XOM": 80.0}, "no price for substitute CVX"),
    ({}, {"XOM": 98.0, "CVX": 50.0}, "below 5% of the position"),
    ({"min_harvest_loss_fraction": 0.0, "min_harvest_benefit": 100.0}, {"XOM": 98.0, "CVX": 50.0}, "benefit 70.00 < cost"),
])
def test_scan_when_rule_fails_then_skip_with_reason(settings, prices, fragment):
    (c,) = scan_harvest(holding_xom(**settings), prices, D(2022, 3, 1), FEES)
    assert c.action == "skip" and fragment in c.reason


def test_scan_when_ira_bought_identical_in_window_then_skip_for_wash():
    lg = holding_xom()
    lg.buy(account_id="ira", symbol="XOM", units=5, price=82.0, trade_date=D(2022, 2, 20))
    (c,) = scan_harvest(lg, {"XOM": 80.0, "CVX": 50.0}, D(2022, 3, 1), FEES)
    assert c.action == "skip" and "in ira would wash the loss" in c.reason


def test_harvest_when_executed_then_loss_realized_substitute_bought_same_value_no_wash():
    lg = holding_xom()
    prices = {"XOM": 80.0, "CVX": 50.0}
    (c,) = scan_harvest(lg, prices, D(2022, 3, 1), FEES)
    result = execute_harvest(lg, c, prices, D(2022, 3, 1), FEES)
    (sold,) = result.realizations
    assert sold.recognized == pytest.approx(-2_000 - 8.0) and sold.disallowed_loss == 0
    (sub,) = result.substitute_lots
    assert sub.symbol == "CVX" and sub.units * 50.0 == pytest.approx((8_000 - 8.0) / 1.001)
    assert lg.units("tax", "XOM") == 0


def test_swap_back_when_window_passed_then_original_rebought_without_wash():
    lg = holding_xom()
    prices = {"XOM": 80.0, "CVX": 50.0}
    (c,) = scan_harvest(lg, prices, D(2022, 3, 1), FEES)
    swap = execute_harvest(lg, c, prices, D(2022, 3, 1), FEES).swap
    assert swap_back(lg, swap, {"XOM": 79.0, "CVX": 49.0}, D(2022, 3, 31), FEES) == "wash-sale window not over"
    assert swap_back(lg, swap, {"XOM": 79.0, "CVX": 49.0}, D(2022, 4, 1), FEES) is None
    assert lg.units("tax", "CVX") == 0 and lg.units("tax", "XOM") > 0
    assert lg.state.realizations[0].disallowed_loss == 0  # bought back on day 31: allowed


def test_check_plan_when_buy_would_wash_harvest_then_substitute_or_defer():
    lg = holding_xom()
    lg.sell(account_id="tax", symbol="XOM", units=100, price=80.0, trade_date=D(2022, 3, 1))
    buy = PlannedTrade(account_id="ira", symbol="XOM", side=OrderSide.BUY, units=10, price=81.0)
    (d,) = check_plan(lg, [buy], D(2022, 3, 15), {"XOM": 81.0, "CVX": 50.0})
    assert d.action == "substitute" and d.trade.symbol == "CVX" and d.trade.units == pytest.approx(10 * 81 / 50)
    lg2 = holding_xom(substitutes={})
    lg2.sell(account_id="tax", symbol="XOM", units=100, price=80.0, trade_date=D(2022, 3, 1))
    (d2,) = check_plan(lg2, [buy], D(2022, 3, 15), {"XOM": 81.0})
    assert d2.action == "defer" and d2.trade is None and "would wash a loss" in d2.reason


def test_check_plan_when_loss_sell_with_recent_purchase_then_other_lots_or_defer():
    lg = holding_xom()
    lg.buy(account_id="tax", symbol="XOM", units=20, price=70.0, trade_date=D(2022, 2, 20))  # recent, at a gain
    sell = PlannedTrade(account_id="tax", symbol="XOM", side=OrderSide.SELL, units=10, price=80.0)
    (d,) = check_plan(lg, [sell], D(2022, 3, 1), {})
    assert d.action == "change_lots" and d.trade.lot_ids and "wash sale" in d.reason
    big = sell.model_copy(update={"units": 50})
    (d2,) = check_plan(lg, [big], D(2022, 3, 1), {})
    assert d2.action == "defer"


def test_check_plan_when_sell_and_buy_of_identical_in_same_plan_then_sell_changed():
    lg = ledger()
    lg.buy(account_id="tax", symbol="XOM", units=20, price=70.0, trade_date=D(2021, 6, 1))
    lg.buy(account_id="tax", symbol="XOM", units=100, price=100.0, trade_date=D(2022, 1, 3))
    trades = [PlannedTrade(account_id="tax", symbol="XOM", side=OrderSide.SELL, units=10, price=80.0),
              PlannedTrade(account_id="ira", symbol="XOM", side=OrderSide.BUY, units=10, price=80.0)]
    decisions = check_plan(lg, trades, D(2022, 3, 1), {"XOM": 80.0})
    assert decisions[0].action == "change_lots" and "the plan buys ['XOM']" in decisions[0].reason


def test_route_sell_when_held_in_both_then_ira_first():
    lg = holding_xom()
    lg.buy(account_id="ira", symbol="XOM", units=30, price=90.0, trade_date=D(2022, 1, 4))
    trades = route_sell(lg, "XOM", 50, 95.0)
    assert [(t.account_id, t.units) for t in trades] == [("ira", 30), ("tax", 20)]


def test_gain_budget_when_plan_exceeds_then_gain_sells_scaled():
    lg = holding_xom(annual_gain_budget=500.0)
    sell = PlannedTrade(account_id="tax", symbol="XOM", side=OrderSide.SELL, units=50, price=120.0)  # gain 1000
    (d,) = apply_gain_budget(lg, [sell], D(2022, 6, 1))
    assert d.action == "reduce" and d.trade.units == pytest.approx(25.0) and "budget 500.00" in d.reason


def test_harvest_all_when_two_losers_substitute_each_other_then_second_not_washed():
    lg = ledger(substitutes={"XOM": "CVX", "CVX": "XOM"})
    lg.buy(account_id="tax", symbol="XOM", units=100, price=100.0, trade_date=D(2022, 1, 3))
    lg.buy(account_id="tax", symbol="CVX", units=100, price=100.0, trade_date=D(2022, 1, 3))
    results, final = harvest_all(lg, {"XOM": 80.0, "CVX": 70.0}, D(2022, 3, 1), FEES)
    assert [r.candidate.symbol for r in results] == ["CVX"]  # XOM would now have to be bought back into CVX's loss
    (xom,) = [c for c in final if c.symbol == "XOM"]
    assert xom.action == "skip" and "would wash" in xom.reason
    assert all(r.disallowed_loss == 0 for r in lg.state.realizations)
