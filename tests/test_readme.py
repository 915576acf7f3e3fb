"""Code copied from the README must run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_when_executed_then_run_and_plan_orders(capsys, tmp_path, monkeypatch):
    import src.agents.portfolio_rebalancing_agent as agent_module

    monkeypatch.setattr(agent_module, "PORTFOLIO_DIR", tmp_path)  # the agent example writes its files here
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "PlanStatus.ORDERS" in out and (" sell " in out or " buy " in out)
    assert namespace["orders"] and namespace["result"].status.value == "orders"  # the agent example traded
    assert list(tmp_path.glob("rebalance_*.json"))
