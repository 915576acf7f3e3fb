"""Atomic writes: the account's files are for its owner only."""

from __future__ import annotations

import stat
from datetime import datetime

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.market.clock import FixedClock
from src.utils.atomic_io import atomic_write_text
from tests.conftest import guide_config


def test_atomic_write_when_file_created_then_owner_only(tmp_path):
    path = tmp_path / "f.json"
    atomic_write_text(path, "{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_agent_when_it_writes_events_state_and_account_then_all_owner_only(tmp_path):
    agent = PortfolioRebalancingAgent(guide_config(), clock=FixedClock(datetime(2021, 12, 31)), data_dir=tmp_path)
    assert agent.check_and_rebalance() is not None
    files = [p for p in tmp_path.iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(files) >= 3  # an event, the agent state, the paper account
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files), {p.name: oct(p.stat().st_mode) for p in files}
