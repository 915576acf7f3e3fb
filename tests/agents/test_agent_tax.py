"""Tax-aware agent: harvesting in the cycle, substitutes standing in, swap-back, no wash sale."""

from __future__ import annotations

import json
from datetime import date

import pytest

from src.models.decision_models import PlanStatus
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig
from src.runtime.replay import run_replay
from src.tax.models import TaxSettings

LOOSE = {**DEFAULT_RISK_LIMITS, "min_strategy_sharpe": -100.0, "max_strategy_drawdown": 1.0,
         "min_portfolio_sharpe": -100.0, "max_portfolio_drawdown": 1.0, "max_correlation_pair": 1.0,
         "max_avg_correlation": 1.0}


@pytest.fixture(scope="module")
def covid_replay(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tax")
    config = PortfolioConfig(name="Taxable Core", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                             rebalancing_method="threshold", rebalancing_params={"check_frequency": "weekly"},
                             risk_limits=LOOSE)
    settings = RuntimeSettings(replay_start=date(2020, 2, 3), replay_end=date(2020, 7, 31), tax_loss_harvest=True,
                               tax=TaxSettings(substitutes={"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}))
    agent, summary = run_replay(config, settings, data_dir=folder)
    return agent, folder


def test_replay_when_prices_crash_then_losses_harvested_into_substitutes(covid_replay):
    agent, folder = covid_replay
    harvests = [e for e in agent.rebalancing_history if e.status == PlanStatus.HARVEST]
    assert harvests, "the March 2020 crash should have produced a harvest"
    first = harvests[0]
    sells = [o for o in first.orders if o.side.value == "sell" and o.reason.startswith("harvest")]
    buys = [o for o in first.orders if o.reason.startswith("substitute for harvested")]
    assert sells and buys and all(o.status.value == "filled" for o in first.orders)
    assert {b.unit for b in buys} <= {"PG", "WMT", "MRK"}
    realized = first.tax["realized_today"]
    assert realized and all(r["proceeds"] < r["basis"] for r in realized)
    candidates = first.tax["harvest_candidates"]
    assert all({"loss", "short_term_loss", "estimated_benefit", "substitute", "action", "reason"} <= set(c)
               for c in candidates)
    saved = json.loads(next(p for p in folder.glob("rebalance_*.json") if json.loads(p.read_text())["event_id"]
                            == first.event_id).read_text())
    assert saved["status"] == "harvest" and saved["tax"]["open_swaps"]


def test_replay_when_harvesting_then_no_loss_is_ever_washed_and_swaps_undone(covid_replay):
    agent, _ = covid_replay
    realizations = agent.tax.ledger.state.realizations
    assert realizations and all(r.disallowed_loss == 0 for r in realizations)
    swap_backs = [o for e in agent.rebalancing_history for o in e.orders if o.reason.startswith("swap back")]
    assert swap_backs, "swaps should be undone after the 30-day window"


def test_replay_when_harvesting_then_ledger_matches_broker_positions(covid_replay):
    agent, _ = covid_replay
    account = agent.broker.get_account()
    for unit, qty in account.positions.items():
        assert agent.tax.ledger.units("paper", unit) == pytest.approx(qty, rel=1e-9)
    assert not [u for u in {lot.symbol for lot in agent.tax.ledger.lots()} if u not in account.positions]


def test_restart_when_tax_file_exists_then_ledger_and_swaps_reloaded(covid_replay):
    agent, folder = covid_replay
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

    again = PortfolioRebalancingAgent(agent.config, settings=agent.settings, clock=agent.clock,
                                      market_data=agent.market, data_dir=folder)
    assert again.tax.ledger.state == agent.tax.ledger.state and again.tax.book.swaps == agent.tax.book.swaps


def test_preview_tax_when_plan_sells_at_gain_then_impact_without_changing_anything(tmp_path):
    from datetime import datetime

    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.market.clock import FixedClock

    config = PortfolioConfig(name="Taxed", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                             rebalancing_params={"min_drift": 0.02}, risk_limits=LOOSE)
    agent = PortfolioRebalancingAgent(config, settings=RuntimeSettings(tax=TaxSettings()),
                                      clock=FixedClock(datetime(2019, 1, 2)), data_dir=tmp_path)
    agent.check_and_rebalance()
    agent.clock.set(datetime(2021, 12, 31))
    before = agent.tax.book.model_copy(deep=True)
    files = sorted(p.name for p in tmp_path.iterdir())
    preview = agent.preview_tax()
    (sell,) = [o for o in preview["orders"] if o["side"] == "sell"]
    (lot,) = agent.tax.ledger.lots("paper", sell["unit"])
    expected_gain = sell["quantity"] * sell["price"] - sell["fee"] - lot.basis_per_unit * sell["quantity"]
    plan = preview["impact"]["plan"]
    assert plan["long_term_gains"] == pytest.approx(expected_gain) and plan["short_term_gains"] == 0
    assert plan["estimated_tax"] == pytest.approx(expected_gain * 0.15)
    assert agent.tax.book == before and sorted(p.name for p in tmp_path.iterdir()) == files

