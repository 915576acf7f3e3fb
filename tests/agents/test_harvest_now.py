"""Harvest on demand (``agent.harvest_now``, ``src/agents/harvesting.py``): one journaled harvest
event with the next sequence, the preview's orders, the tax book and the state kept consistent,
and an interrupted harvest finished by recovery exactly as an uninterrupted one.

Real data: AAPL, MSFT and HD bought on 2022-01-03 (near their highs) and harvested at the end
of the shipped data (2022-12-28), when each is down 20-30%.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.errors import ConfigError
from src.models.decision_models import PlanStatus
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from src.tax.models import TaxSettings

CONFIG = PortfolioConfig(name="Tech Drop", target_allocations={"AAPL": 0.35, "MSFT": 0.35, "HD": 0.30},
                         rebalancing_method="calendar",
                         risk_limits={"max_single_strategy": 1.0, "min_single_strategy": 0.0})
SETTINGS = RuntimeSettings(replay_start=date(2022, 1, 3), replay_end=date(2022, 1, 4),
                           tax=TaxSettings(substitutes={"AAPL": "QUAL", "MSFT": "MTUM", "HD": "VLUE"}))
END = datetime(2022, 12, 28)


class Crash(Exception):
    """Stands in for a kill after the harvest event is journaled, before its orders are sent."""


def bought(folder, settings=SETTINGS):
    agent, _ = run_replay(CONFIG, settings, data_dir=folder)
    agent.close()
    return PortfolioRebalancingAgent(CONFIG, settings=settings, data_dir=folder)  # clock: the end of the data


def test_harvest_now_when_lots_at_a_loss_then_one_journaled_event_with_the_previews_orders(tmp_path):
    with bought(tmp_path) as agent:
        assert agent.clock.now() == END
        preview = agent.preview_harvest()
        before = len(agent.rebalancing_history)
        event = agent.harvest_now()
        assert event.status == PlanStatus.HARVEST and event.sequence == before + 1 and event.cause == "harvest_now"
        assert event.event_id == preview["plan_id"] and event.execution == "complete"
        assert [(o.client_order_id, o.unit, o.side.value) for o in event.orders] == \
            [(o["client_order_id"], o["unit"], o["side"]) for o in preview["orders"]]
        assert {o.unit for o in event.orders} == {"AAPL", "MSFT", "HD", "QUAL", "MTUM", "VLUE"}
        assert all(o.status.value == "filled" for o in event.orders)
        assert agent.state.journal_sequence == len(agent.rebalancing_history) == before + 1
        assert agent.state.history[-1].timestamp == END and agent.state.last_check_at == END
        realized = agent.tax.ledger.state.realizations
        assert realized and all(r.proceeds < r.basis for r in realized)
        assert {s.original for s in agent.tax.book.swaps} == {"AAPL", "MSFT", "HD"}
        for unit, qty in agent.broker.get_account().positions.items():
            assert agent.tax.ledger.units("paper", unit) == pytest.approx(qty, rel=1e-9)
        files = sorted(tmp_path.glob("rebalance_*.json"))
        assert agent.harvest_now() is None  # the losses are harvested: nothing new
        assert sorted(tmp_path.glob("rebalance_*.json")) == files
    with PortfolioRebalancingAgent(CONFIG, settings=SETTINGS, data_dir=tmp_path) as again:  # start-up checks pass
        assert [e.event_id for e in again.rebalancing_history][-1] == event.event_id
        assert again.tax.book.swaps == agent.tax.book.swaps


def test_harvest_now_when_killed_before_sending_then_recovery_finishes_it_as_uninterrupted(tmp_path, monkeypatch):
    with bought(tmp_path / "plain") as plain:
        done = plain.harvest_now()
        plain_account, plain_history = plain.broker.get_account(), plain.state.history
    crashed = bought(tmp_path / "crashed")

    def crash(*args, **kwargs):
        raise Crash

    monkeypatch.setattr(crashed.integration, "execute_portfolio_orders", crash)
    with pytest.raises(Crash):
        crashed.harvest_now()
    crashed.close()
    assert [e.execution for e in crashed.events.load(CONFIG.name)][-1] == "pending"
    with PortfolioRebalancingAgent(CONFIG, settings=SETTINGS, data_dir=tmp_path / "crashed") as resumed:
        last = resumed.rebalancing_history[-1]
        assert last.event_id == done.event_id and last.execution == "complete"
        assert [(o.unit, o.side, o.filled_quantity) for o in last.orders] == \
            [(o.unit, o.side, o.filled_quantity) for o in done.orders]
        assert resumed.broker.get_account() == plain_account
        assert resumed.state.journal_sequence == len(resumed.rebalancing_history)
        assert [p.timestamp for p in resumed.state.history] == [p.timestamp for p in plain_history]
        assert resumed.harvest_now() is None


def test_harvest_now_when_tax_tracking_off_then_refused_and_nothing_written(tmp_path):
    with bought(tmp_path, RuntimeSettings(replay_start=date(2022, 1, 3), replay_end=date(2022, 1, 4))) as agent:
        files = sorted(p.name for p in tmp_path.iterdir())
        with pytest.raises(ConfigError, match="tax tracking is off"):
            agent.harvest_now()
        assert agent.preview_harvest() is None
        assert sorted(p.name for p in tmp_path.iterdir()) == files
