"""The agent's tax overlay, stage by stage with a hand-built ledger."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from src.models.trading_models import FeeModel, Order, OrderSide, OrderStatus, PortfolioState
from src.tax.harvest import OpenSwap
from src.tax.models import AccountType, TaxSettings
from src.tax.overlay import ACCOUNT, TaxOverlay

DAY = date(2022, 3, 1)
PRICES = {"XOM": 80.0, "CVX": 50.0, "KO": 60.0}


def overlay(tmp_path, **settings) -> TaxOverlay:
    base = dict(substitutes={"XOM": "CVX"})
    base.update(settings)
    return TaxOverlay(path=tmp_path / "tax.json", settings=TaxSettings(**base), account_type=AccountType.TAXABLE,
                      household="h")


def filled(cid: str, unit: str, side: OrderSide, qty: float, price: float) -> Order:
    return Order(client_order_id=cid, unit=unit, side=side, quantity=qty, price=price, notional=qty * price, fee=0.0,
                 reason="t", status=OrderStatus.FILLED, filled_quantity=qty, average_fill_price=price)


def state(holdings: dict[str, float]) -> PortfolioState:
    return PortfolioState(timestamp=datetime(2022, 3, 1), cash=1000.0, holdings=holdings, prices=PRICES)


def test_record_when_same_fills_twice_then_ledger_records_once(tmp_path):
    ov = overlay(tmp_path)
    fills = [filled("a", "XOM", OrderSide.BUY, 10, 100.0)]
    ov.record(fills, date(2022, 1, 3))
    ov.record(fills, date(2022, 1, 3))
    assert ov.ledger.units(ACCOUNT, "XOM") == 10
    assert TaxOverlay(path=tmp_path / "tax.json", settings=ov.settings, account_type=AccountType.TAXABLE,
                      household="h").ledger.state == ov.ledger.state


def with_swap(tmp_path) -> TaxOverlay:
    ov = overlay(tmp_path)
    ov.record([filled("a", "XOM", OrderSide.BUY, 10, 100.0)], date(2022, 1, 3))
    ov.record([filled("b", "XOM", OrderSide.SELL, 10, 80.0)], DAY)
    lots = ov.ledger.buy(account_id=ACCOUNT, symbol="CVX", units=16, price=50.0, trade_date=DAY)
    ov.book.swaps.append(OpenSwap(account_id=ACCOUNT, original="XOM", substitute="CVX",
                                  substitute_lot_ids=[lot.lot_id for lot in lots], harvested_on=DAY))
    return ov


def test_view_when_swap_open_then_substitute_shown_as_original(tmp_path):
    v = with_swap(tmp_path).view(state({"CVX": 16.0, "KO": 5.0}))
    assert v.holdings == {"XOM": pytest.approx(16 * 50 / 80), "KO": 5.0}


def test_route_when_orders_on_swapped_original_then_go_to_substitute_and_sell_splits(tmp_path):
    ov = with_swap(tmp_path)
    sell = Order(client_order_id="s", unit="XOM", side=OrderSide.SELL, quantity=5, price=80.0, notional=400.0, fee=0,
                 reason="drift")
    buy = Order(client_order_id="b2", unit="XOM", side=OrderSide.BUY, quantity=5, price=80.0, notional=400.0, fee=0,
                reason="drift")
    (out,), _ = ov.route([sell], state({"CVX": 16.0}))
    assert out.unit == "CVX" and out.quantity == pytest.approx(8.0) and "held as CVX" in out.reason
    (moved,), _ = ov.route([buy], state({"CVX": 16.0}))
    assert moved.unit == "CVX" and ov.book.extend_plan[moved.client_order_id] == "XOM"
    ov.record([moved.model_copy(update={"status": OrderStatus.FILLED, "filled_quantity": moved.quantity,
                                        "average_fill_price": 50.0})], DAY)
    assert sum(lot.units for lot in ov.ledger.descendants(ov.book.swaps[0].substitute_lot_ids)) == pytest.approx(24.0)


def test_route_when_buy_would_wash_then_substituted_with_reason(tmp_path):
    ov = overlay(tmp_path, substitutes={"XOM": "CVX"})
    ov.record([filled("a", "XOM", OrderSide.BUY, 10, 100.0)], date(2022, 1, 3))
    ov.record([filled("b", "XOM", OrderSide.SELL, 10, 80.0)], DAY)
    buy = Order(client_order_id="b3", unit="XOM", side=OrderSide.BUY, quantity=5, price=80.0, notional=400.0, fee=0,
                reason="drift")
    (out,), decisions = ov.route([buy], state({}))
    assert out.unit == "CVX" and decisions[0].action == "substitute" and "would wash" in out.reason


def test_swap_back_when_window_passed_without_gain_then_orders(tmp_path):
    ov = with_swap(tmp_path)
    later = PortfolioState(timestamp=datetime(2022, 4, 5), cash=0.0, holdings={"CVX": 16.0},
                           prices={"XOM": 79.0, "CVX": 49.0})
    sell, buy = ov.swap_back_orders(later, FeeModel(bps=0), "p")
    assert (sell.unit, sell.side, buy.unit, buy.side) == ("CVX", OrderSide.SELL, "XOM", OrderSide.BUY)
    assert ov.swap_back_orders(later.model_copy(update={"timestamp": datetime(2022, 3, 20)}), FeeModel(bps=0), "p") == []


def test_swap_back_when_switched_off_then_substitute_kept(tmp_path):
    ov = overlay(tmp_path, swap_back=False)
    ov.book.swaps.append(OpenSwap(account_id=ACCOUNT, original="XOM", substitute="CVX", substitute_lot_ids=[],
                                  harvested_on=date(2022, 1, 3)))
    later = PortfolioState(timestamp=datetime(2022, 6, 1), cash=0.0, prices={"XOM": 1.0, "CVX": 1.0})
    assert ov.swap_back_orders(later, FeeModel(), "p") == []
