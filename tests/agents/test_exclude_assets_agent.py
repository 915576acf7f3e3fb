"""``exclude_assets`` in the agent: a unit moved from the targets to the exclusions is kept as it is,
never sold or harvested, and the other units' weights and drift are measured without it."""

from __future__ import annotations

import pytest

from datetime import datetime

from src.agents.alerts import current_drift
from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.market.clock import FixedClock
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig

LIMITS = {"max_single_strategy": 1.0, "min_single_strategy": 0.0}


def _config(targets, exclude=(), **kw):
    return PortfolioConfig(name="Exclude", target_allocations=targets, risk_limits=LIMITS, exclude_assets=list(exclude),
                           rebalancing_method="calendar", rebalancing_params={"force_rebalance": True}, **kw)


def test_agent_when_held_unit_becomes_excluded_then_kept_and_drift_measured_around_it(tmp_path):
    with PortfolioRebalancingAgent(_config({"JNJ": 0.4, "XOM": 0.3, "KO": 0.3}), data_dir=tmp_path) as agent:
        agent.check_and_rebalance()
        ko_units = agent.broker.get_account().positions["KO"]
    with PortfolioRebalancingAgent(_config({"JNJ": 0.5, "XOM": 0.5}, exclude=["KO"]), data_dir=tmp_path) as agent:
        positions = {p.unit: p for p in agent.positions()}
        plan = agent.preview()
        alert = current_drift(agent)
    assert positions["KO"].drift == 0.0 and positions["KO"].weight == pytest.approx(0.3, abs=0.01)
    # JNJ and XOM were bought 40:30, so of the value less KO they weigh 4/7 and 3/7.
    assert positions["JNJ"].weight == pytest.approx(4 / 7, abs=0.01) and positions["XOM"].weight == pytest.approx(3 / 7, abs=0.01)
    assert "KO" not in {o.unit for o in plan.orders} and plan.excluded_holdings["KO"] > 0
    assert set(plan.weights_before) == {"JNJ", "XOM"}
    # The drift alert measures against the file's new targets, not the last rebalance's (decided
    # under the old ones, KO included): 4/7 - 1/2, not 4/7 - 0.4.
    assert alert.max_drift == pytest.approx(4 / 7 - 0.5, abs=0.01) and alert.level == "warning"
    assert agent.broker.get_account().positions["KO"] == ko_units


def test_agent_when_excluded_unit_at_a_loss_then_not_harvested(tmp_path):
    crash = dict(replay_start="2020-02-03", replay_end="2020-03-16", tax={"substitutes": {"KO": "PG", "PEP": "WMT"}})
    buy = _config({"KO": 0.5, "PEP": 0.5})
    settings = RuntimeSettings(**crash)
    with PortfolioRebalancingAgent(buy, settings=settings, data_dir=tmp_path, clock=FixedClock(datetime(2020, 2, 3))) as agent:
        agent.check_and_rebalance()
    later = FixedClock(datetime(2020, 3, 16))
    with PortfolioRebalancingAgent(buy, settings=settings, data_dir=tmp_path, clock=later) as agent:
        assert {c["symbol"] for c in agent.preview_harvest()["harvest_candidates"]} >= {"KO"}
    frozen = _config({"PEP": 1.0}, exclude=["KO"])
    with PortfolioRebalancingAgent(frozen, settings=settings, data_dir=tmp_path, clock=later) as agent:
        found = agent.preview_harvest()
    assert "KO" not in {c["symbol"] for c in found["harvest_candidates"]}
    assert "KO" not in {o["unit"] for o in found["orders"]}


def test_agent_when_excluded_unit_unknown_then_refused_naming_it_and_nothing_written(tmp_path):
    from src.errors import UnknownUnitError

    with pytest.raises(UnknownUnitError, match="exclude_assets: unit 'FOO' is neither a registered strategy"):
        PortfolioRebalancingAgent(_config({"JNJ": 0.5, "XOM": 0.5}, exclude=["FOO"]), data_dir=tmp_path / "d")
    assert not (tmp_path / "d").exists()
