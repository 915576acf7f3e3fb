"""The paper account: a small snapshot plus an append-only report archive (issue 8)."""

from __future__ import annotations

import json

import pytest

from src.brokers.paper import PaperBroker
from src.errors import DataError
from src.models.trading_models import OrderSide, OrderStatus
from tests.brokers.test_paper import broker, market, order  # noqa: F401 (fixtures and helpers)


def trade_many(b: PaperBroker, start: int, stop: int) -> None:
    for i in range(start, stop):
        side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
        assert b.submit_order(order(f"c{i}", side, 1.0)).status == OrderStatus.FILLED


def test_submit_when_many_orders_then_snapshot_stays_small_and_reports_are_appended(tmp_path, market):
    b = broker(tmp_path, market, cash=1_000_000.0)
    trade_many(b, 0, 10)
    small = b.state_path.stat().st_size
    trade_many(b, 10, 400)
    assert b.state_path.stat().st_size - small <= 4  # only the count's digits grow
    assert len(b.archive_path.read_text().splitlines()) == 400
    again = broker(tmp_path, market, cash=1_000_000.0)
    assert again.get_order("c399").status == OrderStatus.FILLED and len(again.state.reports) == 400
    assert again.get_account() == b.get_account()


def test_load_when_crash_before_the_report_reached_the_archive_then_repaired_from_snapshot(tmp_path, market):
    b = broker(tmp_path, market, cash=1_000_000.0)
    trade_many(b, 0, 5)
    lines = b.archive_path.read_text().splitlines()
    b.archive_path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:20])  # last append cut by a crash
    again = broker(tmp_path, market, cash=1_000_000.0)
    assert again.get_order("c4") == b.get_order("c4")  # not filled twice on a retry
    assert again.submit_order(order("c4", OrderSide.BUY, 1.0)) == b.get_order("c4")
    trade_many(again, 5, 6)
    assert [json.loads(x)["client_order_id"] for x in again.archive_path.read_text().splitlines()] == \
        [f"c{i}" for i in range(6)]


def test_load_when_archive_lost_then_error_naming_it(tmp_path, market):
    b = broker(tmp_path, market, cash=1_000_000.0)
    trade_many(b, 0, 3)
    b.archive_path.unlink()
    with pytest.raises(DataError, match="order archive .*reports.jsonl has 0 report"):
        broker(tmp_path, market, cash=1_000_000.0)


def test_load_when_older_account_file_keeps_reports_inside_then_migrated(tmp_path, market):
    b = broker(tmp_path, market, cash=1_000_000.0)
    trade_many(b, 0, 3)
    legacy = json.loads(b.state_path.read_text())
    legacy["reports"] = {json.loads(x)["client_order_id"]: json.loads(x) for x in b.archive_path.read_text().splitlines()}
    del legacy["reports_count"], legacy["last_report"]
    b.state_path.write_text(json.dumps(legacy))
    b.archive_path.unlink()
    again = broker(tmp_path, market, cash=1_000_000.0)
    assert set(again.state.reports) == {"c0", "c1", "c2"}
    trade_many(again, 3, 4)
    assert json.loads(again.state_path.read_text())["reports"] == {}
    assert len(again.archive_path.read_text().splitlines()) == 4
