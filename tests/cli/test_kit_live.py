"""``kit`` on a live portfolio (``runtime.mode: "live"``) against the loopback Binance: status and
preview are main.py's read-only dry run; execute without ``--live`` is refused and sends nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.brokers.live_fixtures import ENV, fake_exchange
from tests.brokers.test_fake_binance import loopback_only  # noqa: F401 - autouse: nothing leaves 127.0.0.1
from tests.runtime.test_live_main import BALANCES, write_config

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"


@pytest.fixture
def fake():
    with fake_exchange(BALANCES) as venue:
        yield venue


def kit(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(KIT), "rebalance", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(ENV if env is None else env)})


def test_kit_preview_when_live_portfolio_then_dry_run_plan_nothing_sent_or_written(fake, tmp_path):
    data = tmp_path / "d"
    done = kit("preview", "--config", str(write_config(tmp_path, fake)), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "sell" in done.stdout and "buy" in done.stdout and "skipped XRP" in done.stdout
    assert not [r for r in fake.requests if r[0] in ("POST", "DELETE")]
    assert not (data.exists() and list(data.glob("*.json")))


def test_kit_execute_when_live_portfolio_without_live_flag_then_refused_and_nothing_sent(fake, tmp_path):
    done = kit("execute", "--yes", "--config", str(write_config(tmp_path, fake)), "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 1 and "without --live this is a dry run, nothing was sent" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not [r for r in fake.requests if r[0] in ("POST", "DELETE")]


def test_kit_status_when_live_keys_missing_then_one_line_exit_2(fake, tmp_path):
    done = kit("status", "--config", str(write_config(tmp_path, fake)), "--data-dir", str(tmp_path / "d"), env={})
    assert done.returncode == 2 and "is not set" in done.stderr and fake.requests == []


def test_kit_execute_when_live_flag_then_orders_on_the_exchange_and_a_second_run_sends_nothing(fake, tmp_path):
    import json

    config, data = write_config(tmp_path, fake), tmp_path / "d"
    # A live plan id covers the wall-clock second, so a --plan-id from an earlier preview is stale
    # by design (the market moved); the confirmation prompt (or --yes) executes the plan shown.
    done = kit("execute", "--live", "--yes", "--json", "--config", str(config), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    sent = [r for r in fake.requests if r[0] == "POST" and "order" in r[1]]
    event = json.loads(done.stdout)["event"]
    assert len(sent) == len(event["orders"]) >= 2 and {o["status"] for o in event["orders"]} == {"filled"}
    again = kit("execute", "--live", "--yes", "--config", str(config), "--data-dir", str(data))
    assert again.returncode == 1 and "nothing to execute" in again.stdout
    assert len([r for r in fake.requests if r[0] == "POST" and "order" in r[1]]) == len(sent)


def test_kit_execute_when_live_flag_on_paper_portfolio_then_one_line_exit_2(fake, tmp_path):
    done = kit("execute", "--live", "--yes", "--config", str(write_config(tmp_path, fake, mode="paper")),
               "--data-dir", str(tmp_path / "d"))
    assert done.returncode == 2 and "--live: runtime.mode is 'paper'" in done.stderr and fake.requests == []
