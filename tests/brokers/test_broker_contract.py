"""The Broker contract, run on both brokers: the paper broker (shipped real closes and the shipped
Binance market snapshot) and CcxtBroker (the loopback Binance at the same closes and rules).

Whatever the venue: a buy fills and shows in the account; an id already handled is answered from
the record and never trades again; an unknown id has no report; a sell never takes more than is
held; an order below the market's minimum or beyond the cash is refused with a reason, nothing
traded."""

from __future__ import annotations

from datetime import datetime

import pytest

from src.brokers.ccxt_broker import CcxtBroker
from src.brokers.markets import snapshot_rules
from src.brokers.paper import PaperBroker
from src.market.clock import FixedClock
from src.market.data import HistoricalMarketData
from src.models.trading_models import FeeModel, Order, OrderSide, OrderStatus
from tests.brokers.live_fixtures import DAY, ENV, exchange_settings, fake_exchange, real_closes
from tests.brokers.test_fake_binance import loopback_only  # noqa: F401 - autouse: nothing leaves 127.0.0.1

UNITS = ["BTC", "ETH", "XRP"]
CASH = 2_000.0


@pytest.fixture(params=["paper", "ccxt"])
def venue(request, tmp_path):
    """(broker, btc price) with CASH in quote currency and nothing held."""
    clock = FixedClock(datetime(DAY.year, DAY.month, DAY.day))
    price = float(real_closes()["BTC"].iloc[-1])
    if request.param == "paper":
        yield PaperBroker(state_path=tmp_path / "paper.json", market_data=HistoricalMarketData(), clock=clock,
                          fee_model=FeeModel(bps=10.0), slippage_bps=0.0, initial_cash=CASH,
                          venue=snapshot_rules("binance", UNITS, "USDT")), price
        return
    with fake_exchange({"USDT": CASH}) as fake:
        yield CcxtBroker(settings=exchange_settings(fake), units=UNITS, state_path=tmp_path / "live.json",
                         clock=clock, env=ENV, sleep=lambda s: None), price
        assert fake.errors == []


def order(cid: str, side: OrderSide, qty: float, price: float, unit: str = "BTC") -> Order:
    return Order(client_order_id=cid, unit=unit, side=side, quantity=qty, price=price, notional=qty * price, fee=0.0,
                 reason="contract")


def test_contract_buy_when_cash_enough_then_filled_and_held(venue):
    broker, price = venue
    report = broker.submit_order(order("c-buy", OrderSide.BUY, 0.01, price))
    assert report.status == OrderStatus.FILLED and report.filled_quantity == pytest.approx(0.01)
    assert report.average_price == pytest.approx(price, rel=1e-3) and report.fee > 0
    account = broker.get_account()
    assert account.positions["BTC"] == pytest.approx(0.01)
    assert account.cash == pytest.approx(CASH - 0.01 * report.average_price - report.fee, rel=1e-9, abs=1e-6)


def test_contract_submit_when_id_already_handled_then_same_report_and_no_second_trade(venue):
    broker, price = venue
    first = broker.submit_order(order("c-once", OrderSide.BUY, 0.01, price))
    before = broker.get_account()
    again = broker.submit_order(order("c-once", OrderSide.BUY, 0.01, price))
    assert again == first and broker.get_account() == before
    assert broker.get_order("c-once") == first and broker.get_order("c-unknown") is None


def test_contract_sell_when_more_than_held_then_never_sells_more_than_held(venue):
    broker, price = venue
    broker.submit_order(order("c-in", OrderSide.BUY, 0.01, price))
    report = broker.submit_order(order("c-out", OrderSide.SELL, 0.05, price))
    assert report.filled_quantity <= 0.01 + 1e-12
    assert broker.get_account().positions.get("BTC", 0.0) >= 0.0


@pytest.mark.parametrize("qty, words", [(0.00002, "below the market's minimum"), (1.0, "")])
def test_contract_buy_when_below_minimum_or_beyond_cash_then_refused_with_reason_nothing_traded(venue, qty, words):
    broker, price = venue
    report = broker.submit_order(order("c-no", OrderSide.BUY, qty, price))
    assert report.status == OrderStatus.REJECTED and report.filled_quantity == 0 and report.reason
    assert words in report.reason
    assert broker.get_account().positions == {} and broker.get_account().cash == pytest.approx(CASH)
