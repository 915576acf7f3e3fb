"""The plan id names the decision: the same account, market, memory and configuration give the
same id; a change in any of them gives a new one, so a previewed plan id cannot execute another
plan (kit rebalance execute --plan-id and POST /api/rebalance/execute refuse it as stale)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from src.engines import create_engine
from src.pipeline import plan_rebalance
from tests.conftest import guide_config, state_at_weights

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(sys.executable).parent / "kit"
PRICES = {"rsi_strategy": 10.0, "macd_strategy": 10.0, "ml_strategy": 10.0}
DRIFTED = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}


def _id(config, registry_returns, prices=PRICES, memory=None):
    state = state_at_weights(DRIFTED, prices, timestamp=datetime(2021, 12, 31))
    if memory:
        state = state.model_copy(update={"memory": memory})
    return plan_rebalance(config, create_engine(config), state, registry_returns).plan_id


def test_plan_id_when_same_inputs_then_same_and_when_config_prices_or_memory_change_then_new(registry_returns):
    base = _id(guide_config(), registry_returns)
    assert _id(guide_config(), registry_returns) == base
    other_targets = guide_config(target_allocations={"rsi_strategy": 0.35, "macd_strategy": 0.35, "ml_strategy": 0.30})
    assert _id(other_targets, registry_returns) != base
    assert _id(guide_config(rebalancing_params={"min_drift": 0.04}), registry_returns) != base
    assert _id(guide_config(), registry_returns, prices={**PRICES, "ml_strategy": 10.01}) != base
    assert _id(guide_config(), registry_returns, memory={"calendar.last": 1.0}) != base


def test_execute_when_plan_id_previewed_under_another_config_then_stale_and_nothing_sent(tmp_path):
    first = {"portfolio": {"name": "Trio", "target_allocations": {"JNJ": 0.4, "XOM": 0.3, "KO": 0.3},
                           "risk_limits": {"max_single_strategy": 0.5}}}
    second = json.loads(json.dumps(first))
    second["portfolio"]["target_allocations"] = {"JNJ": 0.4, "XOM": 0.3, "PG": 0.3}
    (tmp_path / "a.json").write_text(json.dumps(first))
    (tmp_path / "b.json").write_text(json.dumps(second))
    data = tmp_path / "d"

    def kit(*args):
        return subprocess.run([str(KIT), "rebalance", *args, "--data-dir", str(data)], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)

    plan = json.loads(kit("preview", "--config", str(tmp_path / "a.json"), "--json").stdout)
    done = kit("execute", "--config", str(tmp_path / "b.json"), "--plan-id", plan["plan_id"], "--yes")
    assert done.returncode == 1 and f"plan {plan['plan_id']} is stale" in done.stderr
    assert not list(data.glob("rebalance_*.json"))
