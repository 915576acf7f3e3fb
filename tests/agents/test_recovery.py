"""Recovery does exactly what the interrupted cycle would have done (issue 8)."""

from __future__ import annotations

from datetime import datetime

import pytest

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.engines.base import RebalancingEngine
from src.errors import ConfigError, DataError, EngineError
from src.events.store import EventStore
from src.market.clock import FixedClock
from src.models.decision_models import EngineResult, PlanStatus
from tests.conftest import guide_config

DAYS = [datetime(2021, 12, d) for d in (1, 2, 3, 6, 7)]


class FailsOnDay(RebalancingEngine):
    """Configured targets, except that it cannot decide on 2021-12-02."""

    name = "fails_on_day"

    def calculate_target_weights(self, ctx):
        if ctx.timestamp == datetime(2021, 12, 2):
            raise EngineError("no decision today (test)")
        return EngineResult(engine=self.name, weights=dict(self.config.target_allocations))


class Crash(Exception):
    """Stands in for a kill between the event write and the state write."""


def run(tmp_path, crash_after_status=None, monkeypatch=None):
    config = guide_config(rebalancing_method="calendar", rebalancing_params={"frequency": "daily"})
    clock = FixedClock(DAYS[0])
    agent = PortfolioRebalancingAgent(config, clock=clock, data_dir=tmp_path, engine=FailsOnDay(config))
    if crash_after_status is not None:
        original = agent.state_store.save

        def save(state):
            last = agent.rebalancing_history[-1] if agent.rebalancing_history else None
            if last is not None and last.status == crash_after_status and state.last_check_at == last.timestamp:
                raise Crash
            original(state)
        monkeypatch.setattr(agent.state_store, "save", save)
    for day in DAYS:
        clock.set(day)
        try:
            agent.check_and_rebalance()
        except Crash:
            agent = PortfolioRebalancingAgent(config, clock=FixedClock(day), data_dir=tmp_path,
                                              engine=FailsOnDay(config))  # restart: recovery runs
            clock = agent.clock
    return agent


@pytest.mark.parametrize("status", [PlanStatus.ENGINE_FAILED, PlanStatus.ORDERS])
def test_recover_when_killed_after_event_before_state_then_same_state_as_uninterrupted(tmp_path, monkeypatch, status):
    plain = run(tmp_path / "plain")
    crashed = run(tmp_path / "crashed", crash_after_status=status, monkeypatch=monkeypatch)
    assert crashed.state.last_trigger_at == plain.state.last_trigger_at
    assert crashed.state.memory == plain.state.memory
    assert crashed.state.last_rebalance_at == plain.state.last_rebalance_at
    assert crashed.broker.get_account() == plain.broker.get_account()
    assert [e.event_id for e in crashed.rebalancing_history] == [e.event_id for e in plain.rebalancing_history]


def test_recover_when_pending_event_of_another_day_then_refused_without_filling(tmp_path):
    config = guide_config()
    agent = PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2021, 12, 31)), data_dir=tmp_path)
    plan = agent.preview()
    from src.events.record import event_from_plan

    EventStore(tmp_path).save(event_from_plan(plan, config, cause="check", sequence=1, execution="pending"))
    with pytest.raises(ConfigError, match="can only be completed at its own date"):
        PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2022, 12, 28)), data_dir=tmp_path)
    assert agent.broker.get_account().positions == {}


def test_recover_when_killed_between_rebalance_and_harvest_then_that_days_harvest_still_made(tmp_path, monkeypatch):
    # Issue 8: the harvest of an interrupted cycle landed a day later on restart.
    from datetime import date

    import src.agents.portfolio_rebalancing_agent as agent_module
    from src.models.execution_models import RuntimeSettings
    from src.models.portfolio_models import PortfolioConfig
    from src.runtime.replay import run_replay
    from src.tax.models import TaxSettings
    from tests.agents.test_agent_tax import LOOSE

    config = PortfolioConfig(name="Taxable Daily", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                             rebalancing_method="calendar",
                             rebalancing_params={"frequency": "daily", "force_rebalance": True}, risk_limits=LOOSE)
    settings = RuntimeSettings(replay_start=date(2020, 2, 20), replay_end=date(2020, 3, 6), tax_loss_harvest=True,
                               tax=TaxSettings(substitutes={"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}))
    plain, _ = run_replay(config, settings, data_dir=tmp_path / "plain")
    harvest_days = [e.timestamp for e in plain.rebalancing_history if e.status == PlanStatus.HARVEST]
    same_day = [d for d in harvest_days if any(e.timestamp == d and e.status == PlanStatus.ORDERS
                                               for e in plain.rebalancing_history)]
    assert same_day, "the test needs a day with both a rebalance and a harvest"
    original = agent_module.PortfolioRebalancingAgent._harvest
    crashed = {"done": False}

    def harvest_or_crash(self, cause, cycle):
        if not crashed["done"] and self.clock.now() == same_day[0]:
            crashed["done"] = True
            raise Crash
        return original(self, cause, cycle)

    monkeypatch.setattr(agent_module.PortfolioRebalancingAgent, "_harvest", harvest_or_crash)
    with pytest.raises(Crash):
        run_replay(config, settings, data_dir=tmp_path / "crashed")
    resumed, _ = run_replay(config, settings, data_dir=tmp_path / "crashed")
    assert crashed["done"]
    key = [(e.timestamp, e.status, [(o.unit, o.side, o.filled_quantity) for o in e.orders])
           for e in plain.rebalancing_history]
    assert [(e.timestamp, e.status, [(o.unit, o.side, o.filled_quantity) for o in e.orders])
            for e in resumed.rebalancing_history] == key
    assert resumed.broker.get_account() == plain.broker.get_account()


def test_start_when_paper_account_deleted_but_journal_has_fills_then_refused_naming_the_file(tmp_path):
    # Issue 8: a missing paper account was recreated with fresh cash and the journal went on from it.
    config = guide_config()
    agent = PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2021, 12, 31)), data_dir=tmp_path)
    assert agent.check_and_rebalance().status == PlanStatus.ORDERS
    account = agent.broker.state_path
    agent.close()
    account.unlink()
    with pytest.raises(DataError, match=f"paper account file {account} is missing but .* filled order"):
        PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2022, 1, 3)), data_dir=tmp_path)
    assert not account.exists()


def test_start_when_paper_account_older_than_journal_then_refused_naming_the_order(tmp_path):
    import shutil

    from src.models.portfolio_models import DEFAULT_RISK_LIMITS

    config = guide_config(risk_limits={**DEFAULT_RISK_LIMITS, "min_strategy_sharpe": -100.0,
                                       "max_strategy_drawdown": 1.0, "max_correlation_pair": 1.0},
                          risk_policy={"portfolio_limit_action": "warn"}, rebalancing_params={"min_drift": 0.01})
    agent = PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2020, 12, 31)), data_dir=tmp_path)
    assert agent.check_and_rebalance().status == PlanStatus.ORDERS
    backup = tmp_path / "backup"
    backup.mkdir()
    paper = [agent.broker.state_path, agent.broker.archive_path]
    for path in paper:
        shutil.copy(path, backup / path.name)
    agent.clock.set(datetime(2022, 12, 28))
    later = agent.check_and_rebalance()
    assert later.status == PlanStatus.ORDERS
    agent.close()
    for path in paper:  # the account restored from before the later fills
        shutil.copy(backup / path.name, path)
    with pytest.raises(DataError, match=f"does not know order {later.orders[0].client_order_id}"):
        PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2022, 12, 28)), data_dir=tmp_path)
