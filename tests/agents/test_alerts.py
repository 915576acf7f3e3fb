"""Drift alerts journaled by the agent (src/agents/alerts.py) on a replay of the shipped prices."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.models.decision_models import PlanStatus
from src.models.execution_models import AlertSettings, RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from tests.agents.test_agent_tax import LOOSE

# A quarterly calendar portfolio of three real stocks: between the dates nothing trades, and in
# the 2020 crash the drift passes 5% (2020-02-19, AMD), then 10% (2020-03-17, XOM); the quarterly
# rebalance on 2020-04-01 clears it.
CONFIG = PortfolioConfig(name="Alerting Calendar", target_allocations={"AMD": 0.3, "XOM": 0.3, "JNJ": 0.4},
                         rebalancing_method="calendar", rebalancing_params={"frequency": "quarterly"},
                         risk_limits=LOOSE)
SETTINGS = RuntimeSettings(replay_start=date(2020, 1, 2), replay_end=date(2020, 4, 1))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alerts")
    agent, _ = run_replay(CONFIG, SETTINGS, data_dir=folder)
    agent.close()
    return folder, agent


def test_replay_when_drift_crosses_thresholds_then_alert_events_journaled_in_sequence(replayed):
    _, agent = replayed
    alerts = [e for e in agent.rebalancing_history if e.status == PlanStatus.ALERT]
    seen = [(e.timestamp.date(), e.alert.level) for e in alerts]
    assert seen[0] == (date(2020, 2, 19), "warning")
    assert (date(2020, 3, 17), "critical") in seen
    assert seen[-1] == (date(2020, 4, 1), "none")  # the quarterly rebalance clears it
    critical = next(e for e in alerts if e.timestamp.date() == date(2020, 3, 17))
    assert critical.alert.previous_level == "warning" and critical.alert.max_drift == pytest.approx(0.1002, abs=1e-4)
    assert list(critical.alert.units) == ["XOM"] and critical.alert.units["XOM"] < -0.10
    assert critical.alert.drift_warning == 0.05 and critical.alert.drift_critical == 0.10
    assert [e.sequence for e in agent.rebalancing_history] == list(range(1, len(agent.rebalancing_history) + 1))
    # A level change each, from the level the one before left (or eased to).
    assert all(e.alert.level != e.alert.previous_level for e in alerts)
    assert all(b.alert.previous_level in (a.alert.level, "warning") for a, b in zip(alerts, alerts[1:]))


def test_replay_when_drift_hovers_at_threshold_then_hysteresis_keeps_the_level_and_without_it_flaps(replayed, tmp_path):
    _, agent = replayed
    seen = [(e.timestamp.date(), e.alert.level) for e in agent.rebalancing_history if e.status == PlanStatus.ALERT]
    # Feb-Mar 2020 the drift wandered around 5% (4.6% .. 5.7%): held by clear_ratio 0.8 (clears under 4%).
    assert seen == [(date(2020, 2, 19), "warning"), (date(2020, 3, 17), "critical"), (date(2020, 4, 1), "none")]
    flapping = SETTINGS.model_copy(update={"alerts": AlertSettings(clear_ratio=1.0)})
    raw, _ = run_replay(CONFIG, flapping, data_dir=tmp_path)
    raw.close()
    levels = [e.alert.level for e in raw.rebalancing_history if e.status == PlanStatus.ALERT]
    assert levels.count("none") >= 3 and levels.count("critical") >= 2  # alert, clear, alert again ...


def test_restart_when_alerts_journaled_then_journal_checks_pass_and_level_remembered(replayed):
    folder, agent = replayed
    with PortfolioRebalancingAgent(CONFIG, settings=SETTINGS, data_dir=folder) as again:
        assert len(again.rebalancing_history) == len(agent.rebalancing_history)
        assert "alerts.level" not in again.state.memory  # cleared on 2020-04-01


def test_replay_when_alerts_disabled_then_no_alert_events(tmp_path):
    settings = SETTINGS.model_copy(update={"alerts": AlertSettings(enabled=False)})
    agent, _ = run_replay(CONFIG, settings, data_dir=tmp_path)
    agent.close()
    assert not [e for e in agent.rebalancing_history if e.status == PlanStatus.ALERT]


def test_check_when_blocked_account_stays_in_cash_then_one_critical_alert_and_repeats_still_fold(tmp_path):
    from src.market.clock import FixedClock
    from src.models.portfolio_models import DEFAULT_RISK_LIMITS
    from tests.conftest import guide_config

    config = guide_config(risk_limits={**DEFAULT_RISK_LIMITS, "min_portfolio_sharpe": 50.0},
                          risk_policy={"portfolio_limit_action": "block"})
    clock = FixedClock(datetime(2021, 12, 31))
    with PortfolioRebalancingAgent(config, clock=clock, data_dir=tmp_path) as agent:
        first = agent.check_and_rebalance()
        clock.set(datetime(2022, 1, 3))
        again = agent.check_and_rebalance()
        statuses = [e.status for e in agent.rebalancing_history]
    assert again.event_id == first.event_id and again.repeats == 1
    assert statuses == [PlanStatus.BLOCKED, PlanStatus.ALERT]
    assert agent.rebalancing_history[1].alert.level == "critical"


def test_dashboard_when_alert_journaled_then_level_and_last_alert_printed(replayed, capsys):
    from src.dashboard.text import print_dashboard
    from src.market.clock import FixedClock

    folder, _ = replayed
    with PortfolioRebalancingAgent(CONFIG, settings=SETTINGS, data_dir=folder,
                                   clock=FixedClock(datetime(2020, 4, 1))) as agent:
        print_dashboard(agent)
    out = capsys.readouterr().out
    assert "drift alert: none (max drift 0.02%)" in out
    assert "last alert 2020-04-01: drift alert cleared (was critical): max drift 0.02%" in out
