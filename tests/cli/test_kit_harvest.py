"""``kit rebalance harvest --execute``: the installed command harvests now through the agent, on
real data (AAPL, MSFT and HD bought on 2022-01-03, harvested at the data's end, 2022-12-28)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.test_kit import KIT, ROOT, SAMPLE, kit

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")

TECH_DROP = {"portfolio": {"name": "Tech Drop", "target_allocations": {"AAPL": 0.35, "MSFT": 0.35, "HD": 0.3},
                           "rebalancing_method": "calendar",
                           "risk_limits": {"max_single_strategy": 1.0, "min_single_strategy": 0.0}},
             "runtime": {"replay_start": "2022-01-03", "replay_end": "2022-01-04",
                         "tax": {"substitutes": {"AAPL": "QUAL", "MSFT": "MTUM", "HD": "VLUE"}}}}


@pytest.fixture
def bought(tmp_path):
    config = tmp_path / "tech.json"
    config.write_text(json.dumps(TECH_DROP))
    replay = subprocess.run([sys.executable, "main.py", "--replay", "--quiet", "--config", str(config), "--data-dir",
                             str(tmp_path / "d")], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert replay.returncode == 0, replay.stderr
    return config, tmp_path / "d"


def test_harvest_execute_when_losses_then_one_event_with_the_previews_orders_and_second_sends_nothing(bought):
    config, data = bought
    preview = json.loads(kit("harvest", "--config", str(config), "--json", data=data).stdout)
    assert preview["orders"] and {c["symbol"] for c in preview["harvest_candidates"]} == {"AAPL", "MSFT", "HD"}
    done = kit("harvest", "--config", str(config), "--execute", "--yes", "--json", data=data)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    event = result["event"]
    assert result["executed"] and event["status"] == "harvest" and event["event_id"] == preview["plan_id"]
    assert [(o["client_order_id"], o["unit"], o["side"]) for o in event["orders"]] == \
        [(o["client_order_id"], o["unit"], o["side"]) for o in preview["orders"]]
    assert [o["quantity"] for o in event["orders"]] == pytest.approx([o["quantity"] for o in preview["orders"]])
    history = json.loads(kit("history", "--config", str(config), "--json", data=data).stdout)["events"]
    assert [e["status"] for e in history] == ["orders", "harvest"] and history[-1]["sequence"] == 2
    events = sorted(data.glob("rebalance_*.json"))
    again = kit("harvest", "--config", str(config), "--execute", "--yes", data=data)
    assert again.returncode == 1 and "nothing to harvest" in again.stdout
    assert sorted(data.glob("rebalance_*.json")) == events


def test_harvest_execute_when_no_yes_and_no_terminal_then_refused_and_nothing_sent(bought):
    config, data = bought
    events = sorted(data.glob("rebalance_*.json"))
    out = kit("harvest", "--config", str(config), "--execute", data=data)
    assert out.returncode == 1 and "no confirmation" in out.stderr and out.stderr.count("\n") == 1
    assert sorted(data.glob("rebalance_*.json")) == events
    human = kit("harvest", "--config", str(config), "--execute", "--yes", data=data)
    assert human.returncode == 0 and "journaled as event 2" in human.stdout and "filled" in human.stdout


def test_harvest_execute_when_tax_off_then_refused_exit_1(tmp_path):
    out = kit("harvest", "--config", str(SAMPLE), "--execute", "--yes", data=tmp_path)
    assert out.returncode == 1 and "tax tracking is off" in out.stderr and out.stderr.count("\n") == 1
    assert not list(tmp_path.glob("rebalance_*.json"))
