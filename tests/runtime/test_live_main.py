"""``main.py --once --live`` end to end against the loopback Binance, as a user runs it (a real
process, an unmodified ccxt client, keys in environment variables): sells before buys, amounts on
the market's step, below-minimum trades skipped with the reason, the event equal to the
exchange's own record; the dry run sends nothing and writes nothing; SIGKILL at random moments
then a restart leaves zero duplicate orders and a complete event; no key or secret in any file
or log line."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from src.utils.config_files import PortfolioFile, save_portfolio_file
from tests.brokers.live_fixtures import ENV, KEY, SECRET, exchange_settings, fake_exchange
from tests.brokers.test_fake_binance import loopback_only  # noqa: F401 - autouse: nothing leaves 127.0.0.1

ROOT = Path(__file__).resolve().parents[2]
# About 284 USDT: BTC overweight (a sale), ETH to buy, XRP's 1.5% (about 4.3 USDT) below the 5 USDT minimum.
BALANCES = {"USDT": 50.0, "BTC": 0.002}
PORTFOLIO = {"name": "Live Crypto", "target_allocations": {"BTC": 0.6, "ETH": 0.385, "XRP": 0.015},
             "rebalancing_method": "threshold", "rebalancing_params": {"min_trade_size": 0.005},
             "risk_limits": {"max_single_strategy": 1.0, "min_single_strategy": 0.0, "min_strategy_sharpe": -100.0,
                             "max_strategy_drawdown": 1.0, "max_correlation_pair": 1.0},
             "min_history_days": 20}


def write_config(tmp_path: Path, fake, *, mode: str = "live", **exchange) -> Path:
    settings = exchange_settings(fake, fill_timeout_seconds=5.0, **exchange)
    payload = {"portfolio": PORTFOLIO, "runtime": {"mode": mode, "exchange": settings.model_dump(mode="json")}}
    return save_portfolio_file(tmp_path / "live.json", PortfolioFile.model_validate(payload))


def run_main(config: Path, data: Path, *extra: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "--once", "--config", str(config), "--data-dir", str(data),
                           "--log-level", "DEBUG", *extra], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(ENV if env is None else env)})


def events(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(data.glob("rebalance_*.json"))]


@pytest.fixture
def fake():
    with fake_exchange(BALANCES) as venue:
        yield venue
        assert venue.errors == [] and venue.unhandled == []


def test_main_live_when_run_then_event_matches_exchange_record(fake, tmp_path):
    done = run_main(write_config(tmp_path, fake), tmp_path / "d", "--live")
    assert done.returncode == 0, done.stderr[-2000:]
    [event] = events(tmp_path / "d")
    assert event["execution"] == "complete" and event["status"] == "orders"
    sides = [o["side"] for o in event["orders"]]
    assert sides == sorted(sides, key=lambda s: s != "sell") and sides[0] == "sell"  # sells first
    booked = {o["clientOrderId"]: o for o in fake.orders}
    assert [o["client_order_id"] for o in event["orders"]] == [o["clientOrderId"] for o in fake.orders]
    for order in event["orders"]:
        mine = booked[order["client_order_id"]]
        assert order["status"] == "filled" and float(mine["executedQty"]) == pytest.approx(order["filled_quantity"])
        assert order["average_fill_price"] == pytest.approx(float(mine["cummulativeQuoteQty"]) / float(mine["executedQty"]))
        step = {"BTC": 1e-5, "ETH": 1e-4}[order["unit"]]
        assert abs(order["quantity"] / step - round(order["quantity"] / step)) < 1e-6  # on the market's step
    [xrp] = [s for s in event["skipped_trades"] if s["unit"] == "XRP"]
    assert "below the market's minimum" in xrp["reason"]
    assert "XRP" not in {o["unit"] for o in event["orders"]}


def test_main_live_when_no_live_flag_then_dry_run_prints_orders_sends_and_writes_nothing(fake, tmp_path):
    done = run_main(write_config(tmp_path, fake), tmp_path / "d")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "would sell" in done.stdout and "would buy" in done.stdout and "nothing was sent" in done.stdout
    assert "skipped XRP" in done.stdout
    assert not [r for r in fake.requests if r[0] in ("POST", "DELETE")]
    assert not list((tmp_path / "d").glob("*.json")) if (tmp_path / "d").exists() else True


def test_main_live_when_file_in_paper_mode_then_one_line_exit_2(fake, tmp_path):
    done = run_main(write_config(tmp_path, fake, mode="paper"), tmp_path / "d", "--live")
    assert done.returncode == 2 and "--live: runtime.mode is 'paper'" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr and fake.requests == []


def test_main_live_when_secret_variable_missing_then_one_line_exit_2_and_nothing_sent(fake, tmp_path):
    done = run_main(write_config(tmp_path, fake), tmp_path / "d", "--live", env={"TEST_BINANCE_KEY": KEY})
    assert done.returncode == 2 and "environment variable TEST_BINANCE_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr and fake.requests == []


def test_main_live_when_done_then_no_key_or_secret_in_any_file_or_log_line(fake, tmp_path):
    config = write_config(tmp_path, fake)
    done = run_main(config, tmp_path / "d", "--live")  # DEBUG: ccxt's request log included
    assert done.returncode == 0 and "Request:" in done.stderr
    written = [p.read_bytes().decode("utf-8", "replace") for p in (tmp_path / "d").iterdir() if p.is_file()]
    for text in [done.stdout, done.stderr, config.read_text(), *written]:
        assert KEY not in text and SECRET not in text


def kill_and_restart(fake, tmp_path: Path, delay: float) -> str:
    """Kill ``main.py --once --live`` ``delay`` seconds after its pending event appears (execution
    is slowed by partial fills, about 1.2 s an order), run it again to the end, and check. Returns
    what the kill left: the events' execution states."""
    config, data = write_config(tmp_path, fake, poll_seconds=0.2), tmp_path / "d"
    fake.inject("partial_fill", fraction=0.3, polls=6, times=3)
    proc = subprocess.Popen([sys.executable, "main.py", "--once", "--live", "--config", str(config), "--data-dir",
                             str(data)], cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(data.glob("rebalance_*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = ",".join(e["execution"] for e in events(data))
    again = run_main(config, data, "--live")
    assert again.returncode == 0, again.stderr[-2000:]
    assert max(Counter(o["clientOrderId"] for o in fake.orders).values(), default=1) == 1  # zero duplicates
    assert fake.orders, "the restart trades what the killed run did not"
    journal = events(data)
    assert journal and all(e["execution"] == "complete" for e in journal)
    booked = {o["clientOrderId"]: o for o in fake.orders}
    for event in journal:  # every recorded fill is the exchange's own
        for order in event["orders"]:
            if order["filled_quantity"] > 0:
                assert float(booked[order["client_order_id"]]["executedQty"]) == pytest.approx(order["filled_quantity"])
    return left


@pytest.mark.parametrize("delay", [0.0, 0.6, 1.5])
def test_main_live_when_killed_while_executing_then_restart_has_no_duplicate_and_complete_event(fake, tmp_path, delay):
    assert kill_and_restart(fake, tmp_path, delay) == "pending"


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_main_live_when_killed_at_random_moments_then_restart_has_no_duplicate(tmp_path, seed):
    with fake_exchange(BALANCES) as fake:
        kill_and_restart(fake, tmp_path, random.Random(seed).uniform(0.0, 3.0))
        assert fake.errors == []


def test_start_when_balances_changed_outside_agent_then_reconciliation_event_before_trading(fake, tmp_path):
    from decimal import Decimal

    config, data = write_config(tmp_path, fake), tmp_path / "d"
    assert run_main(config, data, "--live").returncode == 0
    with fake._lock:  # a deposit made on the exchange's website between two runs
        fake._venue.free["USDT"] += Decimal("100")
    done = run_main(config, data, "--live")
    assert done.returncode == 0, done.stderr[-2000:]
    journal = events(data)
    [reconciliation] = [e for e in journal if e["status"] == "reconciliation"]
    assert journal.index(reconciliation) == 1 and "USDT:" in reconciliation["message"] and "(+100)" in reconciliation["message"]
    assert [e["sequence"] for e in journal] == list(range(1, len(journal) + 1))
    again = run_main(config, data, "--live")  # nothing changed since: no second report
    assert again.returncode == 0 and sum(e["status"] == "reconciliation" for e in events(data)) == 1


FAULT_NOTES = {  # fault injected on the first order (the BTC sale) -> what its event entry must say
    "timeout_after_accept": ("filled", "RequestTimeout; found booked by client order id"),
    "server_error_after": ("filled", "; found booked by client order id"),
    "server_error_before": ("filled", "; not booked, sent again"),
    "rate_limit": ("filled", "DDoSProtection; not booked, sent again"),
    "partial_fill": ("filled", "partially filled at first; followed for"),
    "insufficient_balance": ("rejected", "insufficient balance"),
}


@pytest.mark.parametrize("fault", [pytest.param(f, marks=() if f in ("timeout_after_accept", "server_error_after")
                                                else pytest.mark.slow) for f in FAULT_NOTES])
def test_main_live_when_fault_on_an_order_then_no_duplicate_and_fault_in_event(fake, tmp_path, fault):
    options = {"delay": 2.5} if fault == "timeout_after_accept" else {}
    fake.inject(fault, **options)
    done = run_main(write_config(tmp_path, fake), tmp_path / "d", "--live")
    assert done.returncode == 0, done.stderr[-2000:]
    assert max(Counter(o["clientOrderId"] for o in fake.orders).values(), default=1) == 1
    # A fault that leaves the account off target (insufficient balance) also journals a drift alert.
    [event] = [e for e in events(tmp_path / "d") if e["status"] != "alert"]
    first = event["orders"][0]
    status, words = FAULT_NOTES[fault]
    assert first["status"] == status and words in (first["status_reason"] or ""), first


def test_live_example_when_keys_not_set_then_dry_run_refused_in_one_line_without_network(tmp_path):
    example = ROOT / "src/data/portfolios/crypto_live_example.json"
    env = {k: v for k, v in os.environ.items() if k not in ("BINANCE_API_KEY", "BINANCE_SECRET")}
    done = subprocess.run([sys.executable, "main.py", "--once", "--config", str(example), "--data-dir",
                           str(tmp_path / "d")], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "environment variable BINANCE_API_KEY is not set" in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "d").exists()  # nothing written, not even the lock
