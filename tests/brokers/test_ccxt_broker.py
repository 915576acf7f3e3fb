"""CcxtBroker against the loopback Binance with an unmodified ccxt client: precision and venue
minimums, idempotent client order ids across retries and restarts, every injected fault ending
with zero duplicate orders and the outcome recorded, and no secret anywhere."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest

from src.brokers.ccxt_broker import CcxtBroker
from src.errors import BrokerAuthError, ConfigError
from src.market.clock import FixedClock
from src.models.trading_models import Order, OrderSide, OrderStatus
from tests.brokers.live_fixtures import ENV, KEY, NOW, SECRET, exchange_settings, fake_exchange, real_closes
from tests.brokers.test_fake_binance import loopback_only  # noqa: F401 - autouse: nothing leaves 127.0.0.1


@pytest.fixture
def fake():
    with fake_exchange({"USDT": 20_000.0, "BTC": 0.05}) as venue:
        yield venue
        assert venue.errors == [] and venue.unhandled == []


def broker(fake, tmp_path, **overrides) -> CcxtBroker:
    return CcxtBroker(settings=exchange_settings(fake, **overrides), units=["BTC", "ETH", "XRP"],
                      state_path=tmp_path / "live_p.json", clock=FixedClock(NOW), env=ENV, sleep=lambda s: None)


def order(cid: str, side: OrderSide, qty: float, unit: str = "BTC", price: float = 117_073.53) -> Order:
    return Order(client_order_id=cid, unit=unit, side=side, quantity=qty, price=price, notional=qty * price,
                 fee=0.0, reason="test")


def placed(fake) -> Counter:
    """How many times each client order id reached the exchange's order book."""
    return Counter(o["clientOrderId"] for o in fake.orders)


def test_submit_when_buy_then_amount_truncated_to_step_and_report_matches_exchange(fake, tmp_path):
    b = broker(fake, tmp_path)
    report = b.submit_order(order("rb-buy-1", OrderSide.BUY, 0.0123456789))
    [booked] = fake.orders
    assert float(booked["origQty"]) == 0.01234 and booked["clientOrderId"] == "rb-buy-1"
    assert report.status == OrderStatus.FILLED and report.filled_quantity == pytest.approx(0.01234)
    assert report.average_price == pytest.approx(float(booked["cummulativeQuoteQty"]) / 0.01234)
    assert report.fee == pytest.approx(sum(float(f["commission"]) for f in booked["fills"]))


def test_submit_when_below_minimum_cost_then_not_sent_and_reason_recorded(fake, tmp_path):
    report = broker(fake, tmp_path).submit_order(order("rb-tiny", OrderSide.BUY, 0.00002))  # about 2.3 USDT
    assert report.status == OrderStatus.REJECTED and "below the market's minimum 5.00" in report.reason
    assert fake.orders == []


def test_submit_when_sell_more_than_free_then_capped_at_free_balance(fake, tmp_path):
    report = broker(fake, tmp_path).submit_order(order("rb-sell", OrderSide.SELL, 0.2))
    assert report.status == OrderStatus.FILLED and report.filled_quantity == pytest.approx(0.05)
    assert fake.balances.get("BTC", 0.0) == pytest.approx(0.0)


def test_submit_when_same_id_again_or_after_restart_then_never_sent_twice(fake, tmp_path):
    first = broker(fake, tmp_path).submit_order(order("rb-once", OrderSide.BUY, 0.01))
    again = broker(fake, tmp_path).submit_order(order("rb-once", OrderSide.BUY, 0.01))  # a restart
    (tmp_path / "live_p.json").unlink()  # the local record lost too: the exchange is asked by client id
    lost = broker(fake, tmp_path).submit_order(order("rb-once", OrderSide.BUY, 0.01))
    assert placed(fake) == {"rb-once": 1}
    assert first.filled_quantity == again.filled_quantity == lost.filled_quantity == pytest.approx(0.01)


@pytest.mark.parametrize("fault, options", [
    ("timeout_after_accept", {"delay": 2.0}),      # booked, the answer never came in time
    ("server_error_after", {}),                   # booked and filled, then a 503 "unknown"
    ("server_error_after", {"code": -1007}),      # ... as Binance's "execution status unknown" timeout
    ("server_error_before", {}),                  # not booked: looked up, then sent once
    ("rate_limit", {}),                           # 429: refused, sent again after a backoff
    ("rate_limit", {"status": 418}),
])
def test_submit_when_fault_then_exactly_one_order_and_fill_recorded(fake, tmp_path, fault, options):
    b = broker(fake, tmp_path)
    fake.inject(fault, **options)
    report = b.submit_order(order("rb-fault", OrderSide.BUY, 0.01))
    assert placed(fake) == {"rb-fault": 1}
    assert report.status == OrderStatus.FILLED and report.filled_quantity == pytest.approx(0.01)


def test_submit_when_partial_fill_then_followed_until_filled(fake, tmp_path):
    fake.inject("partial_fill", fraction=0.5, polls=3)
    report = broker(fake, tmp_path).submit_order(order("rb-part", OrderSide.BUY, 0.01))
    assert report.status == OrderStatus.FILLED and report.filled_quantity == pytest.approx(0.01)
    assert placed(fake) == {"rb-part": 1}


def test_submit_when_partial_fill_outlasts_timeout_then_rest_cancelled_and_partial_recorded(fake, tmp_path):
    fake.inject("partial_fill", fraction=0.5, polls=100)
    report = broker(fake, tmp_path, fill_timeout_seconds=0.03).submit_order(order("rb-slow", OrderSide.BUY, 0.01))
    assert report.status == OrderStatus.PARTIALLY_FILLED and 0 < report.filled_quantity < 0.01
    assert "remainder cancelled" in report.reason
    [booked] = fake.orders
    assert booked["status"] == "CANCELED" and float(booked["executedQty"]) == pytest.approx(report.filled_quantity)


@pytest.mark.parametrize("fault, words", [("insufficient_balance", "insufficient balance"),
                                          ("duplicate_client_id", "Duplicate order")])
def test_submit_when_refused_then_recorded_and_not_retried(fake, tmp_path, fault, words):
    fake.inject(fault)
    report = broker(fake, tmp_path).submit_order(order("rb-no", OrderSide.BUY, 0.01))
    assert report.status == OrderStatus.REJECTED and words in report.reason
    assert sum(1 for m, p, _ in fake.requests if m == "POST" and p.endswith("/order")) == 1
    assert fake.orders == []


def test_submit_when_same_id_is_open_on_exchange_then_followed_not_duplicated(fake, tmp_path):
    fake.inject("partial_fill", fraction=0.5, polls=100)
    first = broker(fake, tmp_path, fill_timeout_seconds=1e-3)
    fake_record = tmp_path / "live_p.json"
    with pytest.MonkeyPatch.context() as mp:  # the first run dies while following the open order
        mp.setattr(first, "_follow", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            first.submit_order(order("rb-open", OrderSide.BUY, 0.01))
    assert json.loads(fake_record.read_text())["orders"]["rb-open"]["stage"] == "sending"
    report = broker(fake, tmp_path, fill_timeout_seconds=0.03).submit_order(order("rb-open", OrderSide.BUY, 0.01))
    assert placed(fake) == {"rb-open": 1} and report.status == OrderStatus.PARTIALLY_FILLED


def test_resolve_when_order_never_reached_exchange_then_cancelled_without_sending(fake, tmp_path):
    report = broker(fake, tmp_path).resolve_order(order("rb-never", OrderSide.BUY, 0.01))
    assert report.status == OrderStatus.CANCELLED and "not sent before the run stopped" in report.reason
    assert fake.orders == []


def test_account_and_prices_when_read_then_exchange_balances_and_last_prices(fake, tmp_path):
    b = broker(fake, tmp_path)
    account = b.get_account()
    assert account.cash == pytest.approx(20_000.0) and account.positions == {"BTC": pytest.approx(0.05)}
    closes = real_closes().iloc[-1]
    assert b.prices(["BTC", "XRP"]) == {"BTC": 117_073.53, "XRP": pytest.approx(float(closes["XRP"]))}


def test_start_when_key_variable_missing_then_one_line_naming_it_and_nothing_sent(fake, tmp_path):
    with pytest.raises(ConfigError, match="runtime.exchange.secret_env: environment variable TEST_BINANCE_SECRET "
                                          "is not set"):
        CcxtBroker(settings=exchange_settings(fake), units=["BTC"], state_path=tmp_path / "l.json",
                   clock=FixedClock(NOW), env={"TEST_BINANCE_KEY": KEY})
    assert fake.requests == []


def test_errors_and_files_when_wrong_secret_then_no_key_or_secret_anywhere(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    b = broker(fake, tmp_path)
    b.submit_order(order("rb-ok", OrderSide.BUY, 0.01))
    wrong = {"TEST_BINANCE_KEY": KEY, "TEST_BINANCE_SECRET": SECRET + "x"}
    with pytest.raises(BrokerAuthError) as info:
        CcxtBroker(settings=exchange_settings(fake), units=["BTC"], state_path=tmp_path / "l2.json",
                   clock=FixedClock(NOW), env=wrong, sleep=lambda s: None).get_account()
    texts = [str(info.value), caplog.text] + [p.read_text() for p in tmp_path.iterdir()]
    leaks = [t[max(0, t.find(KEY) - 200):t.find(KEY) + 50] for t in texts if KEY in t] + [t[:300] for t in texts if SECRET in t]
    assert not leaks
