"""The paper broker: real prices, fees, slippage, refusals, idempotency, persistence."""

from __future__ import annotations

from datetime import datetime

import pytest

from src.brokers.paper import PaperBroker
from src.errors import ConfigError, DataError
from src.market.clock import FixedClock
from src.market.data import HistoricalMarketData
from src.models.trading_models import FeeModel, Order, OrderSide, OrderStatus

DAY = datetime(2021, 12, 31)


@pytest.fixture(scope="module")
def market(registry):
    return HistoricalMarketData(registry)


def broker(tmp_path, market, cash=10_000.0, slippage=10.0):
    return PaperBroker(state_path=tmp_path / "paper.json", market_data=market, clock=FixedClock(DAY),
                       fee_model=FeeModel(bps=10.0, fixed=1.0), slippage_bps=slippage, initial_cash=cash)


def order(cid, side, qty, unit="KO"):
    return Order(client_order_id=cid, unit=unit, side=side, quantity=qty, price=50.0, notional=qty * 50.0,
                 fee=0.0, reason="test")


def test_buy_when_cash_enough_then_filled_at_market_plus_slippage_with_fee(tmp_path, market):
    b = broker(tmp_path, market)
    ko = market.prices_at(DAY, ["KO"])["KO"]
    report = b.submit_order(order("c1", OrderSide.BUY, 10))
    assert report.status == OrderStatus.FILLED and report.filled_quantity == 10
    assert report.average_price == pytest.approx(ko * 1.001)
    assert report.fee == pytest.approx(10 * ko * 1.001 * 0.001 + 1.0)
    account = b.get_account()
    assert account.positions == {"KO": 10} and account.cash == pytest.approx(10_000 - 10 * ko * 1.001 - report.fee)


def test_buy_when_cash_short_then_rejected_and_nothing_changes(tmp_path, market):
    b = broker(tmp_path, market, cash=100.0)
    report = b.submit_order(order("c1", OrderSide.BUY, 10))
    assert report.status == OrderStatus.REJECTED and "insufficient cash" in report.reason
    assert b.get_account().cash == 100.0 and b.get_account().positions == {}


def test_sell_when_more_than_held_then_rejected(tmp_path, market):
    b = broker(tmp_path, market)
    b.submit_order(order("c1", OrderSide.BUY, 5))
    report = b.submit_order(order("c2", OrderSide.SELL, 6))
    assert report.status == OrderStatus.REJECTED and "insufficient units" in report.reason
    assert b.get_account().positions == {"KO": 5}


def test_submit_when_same_client_id_again_then_not_traded_twice(tmp_path, market):
    b = broker(tmp_path, market)
    first = b.submit_order(order("c1", OrderSide.BUY, 10))
    again = b.submit_order(order("c1", OrderSide.BUY, 10))
    assert again == first and b.get_account().positions == {"KO": 10}


def test_restart_when_reopened_then_state_and_idempotency_survive(tmp_path, market):
    b = broker(tmp_path, market)
    b.submit_order(order("c1", OrderSide.BUY, 10))
    reopened = broker(tmp_path, market, cash=999.0)  # initial cash ignored for an existing account
    assert reopened.get_account() == b.get_account()
    reopened.submit_order(order("c1", OrderSide.BUY, 10))
    assert reopened.get_account().positions == {"KO": 10}
    assert reopened.get_order("c1").status == OrderStatus.FILLED


def test_new_account_when_only_opened_then_nothing_written(tmp_path, market):
    broker(tmp_path, market)
    assert not (tmp_path / "paper.json").exists()


def test_sell_when_everything_then_no_dust_position(tmp_path, market):
    b = broker(tmp_path, market)
    b.submit_order(order("c1", OrderSide.BUY, 0.1 + 0.2))
    b.submit_order(order("c2", OrderSide.SELL, 0.3))
    assert b.get_account().positions == {}


def test_deposit_and_withdraw_when_valid_then_cash_and_flows(tmp_path, market):
    b = broker(tmp_path, market)
    b.deposit(500.0)
    b.withdraw(200.0)
    assert b.get_account().cash == pytest.approx(10_300.0)
    assert [f.amount for f in b.state.flows] == [500.0, -200.0]


@pytest.mark.parametrize("call, amount, fragment", [("deposit", -1.0, "deposit amount=-1.0"),
                                                    ("withdraw", 1e9, "exceeds free cash")])
def test_cash_flow_when_bad_then_error_and_unchanged(tmp_path, market, call, amount, fragment):
    b = broker(tmp_path, market)
    with pytest.raises(ConfigError, match=fragment):
        getattr(b, call)(amount)
    assert b.get_account().cash == 10_000.0


def test_open_when_file_corrupt_then_error(tmp_path, market):
    (tmp_path / "paper.json").write_text("{not json")
    with pytest.raises(DataError, match="paper account file"):
        broker(tmp_path, market)


def test_submit_when_no_price_then_data_error_and_nothing_recorded(tmp_path, market):
    b = broker(tmp_path, market)
    with pytest.raises(DataError, match="SPY"):
        b.submit_order(order("c1", OrderSide.BUY, 1, unit="SPY"))
    assert b.get_order("c1") is None


def test_deposit_when_same_flow_id_twice_then_applied_once_and_survives_restart(tmp_path, market):
    b = broker(tmp_path, market)
    assert b.deposit(500.0, flow_id="transfer-1") is True
    assert broker(tmp_path, market).deposit(500.0, flow_id="transfer-1") is False  # a restart retrying it
    again = broker(tmp_path, market)
    assert again.get_account().cash == pytest.approx(10_500.0)
    assert [(f.amount, f.flow_id) for f in again.cash_flows()] == [(500.0, "transfer-1")]


def test_deposit_when_no_flow_id_then_every_call_moves_money(tmp_path, market):
    b = broker(tmp_path, market)
    b.deposit(100.0)
    b.deposit(100.0)
    assert b.get_account().cash == pytest.approx(10_200.0)


def test_withdraw_when_more_than_free_cash_then_refused_and_nothing_changed(tmp_path, market):
    b = broker(tmp_path, market)
    with pytest.raises(ConfigError, match="withdrawal amount=20000.0 on 2021-12-31 exceeds free cash 10000.00"):
        b.withdraw(20_000.0, flow_id="w1")
    assert b.get_account().cash == 10_000.0 and b.cash_flows() == []
    assert not (tmp_path / "paper.json").exists()


def test_load_when_archive_longer_than_account_counts_then_error_naming_both(tmp_path, market):
    b = broker(tmp_path, market)
    b.submit_order(order("c1", OrderSide.BUY, 10))
    older = (tmp_path / "paper.json").read_text()
    b.submit_order(order("c2", OrderSide.BUY, 10))
    (tmp_path / "paper.json").write_text(older)  # the account restored from before c2, the archive not
    archive = (tmp_path / "paper.reports.jsonl").read_text()
    with pytest.raises(DataError, match="order archive .*paper.reports.jsonl has more reports than paper account "
                                        "file .*paper.json counts \\(1\\).*--repair"):
        broker(tmp_path, market)
    assert (tmp_path / "paper.reports.jsonl").read_text() == archive  # nothing dropped
