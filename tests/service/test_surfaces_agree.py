"""The CLI, ``main.py``, the HTTP API and the Python API give the same plan for the same account:
they all call ``src/service/rebalance.py`` (the API's half is in tests/api/)."""

from __future__ import annotations

import json
from datetime import date
import subprocess
import sys
from pathlib import Path

import pytest

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.service import rebalance as svc
from src.utils.config_files import PortfolioFile, load_portfolio_file, save_portfolio_file

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"
SAMPLE = ROOT / "src/data/portfolios/sample_portfolio.json"


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> tuple[Path, Path]:
    """The sample replayed 2015-2019: an account with holdings that have drifted by the data's last day."""
    folder = tmp_path_factory.mktemp("drifted")
    loaded = load_portfolio_file(SAMPLE)
    config = save_portfolio_file(folder / "sample_2019.json", PortfolioFile(
        portfolio=loaded.portfolio, runtime=loaded.runtime.model_copy(update={"replay_end": date(2019, 12, 31)})))
    done = subprocess.run([sys.executable, "main.py", "--replay", "--quiet", "--config", str(config), "--data-dir",
                           str(folder / "data")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return config, folder / "data"


def _orders(plan) -> list[tuple]:
    return [(o["client_order_id"], o["unit"], o["side"], round(o["quantity"], 9)) for o in plan["orders"]]


def test_preview_when_same_account_then_python_api_kit_and_main_give_one_plan(drifted):
    config, data = drifted
    loaded = load_portfolio_file(config)
    with PortfolioRebalancingAgent(loaded.portfolio, settings=loaded.runtime, data_dir=data) as agent:
        python_plan = agent.preview()
    with svc.open_agent(config, data) as agent:
        service_plan = svc.preview(agent).model_dump(mode="json")
    kit_json = json.loads(subprocess.run([str(KIT), "rebalance", "preview", "--config", str(config), "--data-dir", str(data),
                                          "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120).stdout)
    kit_text = subprocess.run([str(KIT), "rebalance", "preview", "--config", str(config), "--data-dir", str(data)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    main_text = subprocess.run([sys.executable, "main.py", "--preview", "--config", str(config), "--data-dir", str(data)],
                               cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    assert python_plan.orders, "the drifted account should have something to trade"
    assert python_plan.plan_id == service_plan["plan_id"] == kit_json["plan_id"]
    expected = [(o.client_order_id, o.unit, o.side.value, round(o.quantity, 9)) for o in python_plan.orders]
    assert _orders(service_plan) == _orders(kit_json) == expected
    assert kit_text == main_text and python_plan.plan_id in main_text


def test_main_preview_when_run_then_nothing_written(drifted, tmp_path):
    config, data = drifted
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    done = subprocess.run([sys.executable, "main.py", "--preview", "--config", str(config), "--data-dir", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before
