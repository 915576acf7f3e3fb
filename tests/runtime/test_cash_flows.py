"""Scheduled deposits and withdrawals in a replay (runtime.cash_flows): applied once, invested at
once, counted as flows (not returns), and safe at every write point (issue 8's fault suite)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from src.errors import ConfigError
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from src.utils.portfolio_metrics import daily_twr_returns
from tests.agents.test_agent_tax import LOOSE
from tests.runtime.test_crash_points import Crash, Writes, files

CONFIG = PortfolioConfig(name="Flows", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                         rebalancing_method="threshold", risk_limits=LOOSE)
# 2020-02-01 is a Saturday (applies on Monday 3 Feb); two flows on 15 April are netted.
SETTINGS = RuntimeSettings(replay_start=date(2020, 1, 2), replay_end=date(2020, 4, 30),
                           cash_flows=[{"date": "2020-02-01", "amount": 10_000.0},
                                       {"date": "2020-04-15", "amount": 3_000.0},
                                       {"date": "2020-04-15", "amount": 2_000.0}])


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flows")
    with pytest.MonkeyPatch.context() as mp:
        writes = Writes(mp)
        agent, summary = run_replay(CONFIG, SETTINGS, data_dir=folder)
    return agent, summary, files(folder), writes.count


def test_replay_when_flows_scheduled_then_applied_on_next_trading_day_netted_and_invested(clean):
    agent, _, _, _ = clean
    flows = [(p.timestamp, p.flow) for p in agent.state.history if p.flow]
    assert flows == [(datetime(2020, 2, 3), 10_000.0), (datetime(2020, 4, 15), 5_000.0)]
    by_day = {e.timestamp: e for e in agent.rebalancing_history}
    for day, amount in flows:  # each deposit drives its own cycle, which buys with it
        event = by_day[day]
        assert event.cause == "cash_flow" and event.cash_flow.amount == amount
        assert event.cash_flow.flow_id == f"scheduled-{day:%Y-%m-%d}"
        assert event.cash_after < 0.01 * event.value_after
    assert [(f.amount, f.flow_id) for f in agent.broker.cash_flows()] == [
        (10_000.0, "scheduled-2020-02-03"), (5_000.0, "scheduled-2020-04-15")]


def test_replay_when_deposit_then_not_counted_as_return(clean):
    agent, _, _, _ = clean
    twr = daily_twr_returns(agent.state.history)
    assert abs(twr.loc[datetime(2020, 2, 3)]) < 0.05  # a 10% deposit is not a 10% gain


@pytest.mark.parametrize("flow", [{"date": "2019-12-31", "amount": 1.0}, {"date": "2020-05-01", "amount": 1.0}])
def test_replay_when_flow_outside_replay_then_one_line_error_and_nothing_written(tmp_path, flow):
    settings = RuntimeSettings.model_validate({**SETTINGS.model_dump(), "cash_flows": [flow]})
    with pytest.raises(ConfigError, match=f"runtime.cash_flows\\[0\\].date={flow['date']} is outside the replay"):
        run_replay(CONFIG, settings, data_dir=tmp_path / "d")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("amount", [0.0, float("nan"), 1e13])
def test_settings_when_flow_amount_degenerate_then_refused_naming_it(amount):
    with pytest.raises(ValueError, match="cash_flows.0.amount"):
        RuntimeSettings.model_validate({"cash_flows": [{"date": "2020-02-03", "amount": amount}]})


def flow_day_writes(total: int) -> list[int]:
    """Write points spread over the run, densest around the deposit days."""
    return sorted({1 + int(i * total / 6) for i in range(6)})


@pytest.mark.parametrize("position", range(6))
def test_replay_when_crashed_at_a_write_then_restart_gives_uninterrupted_files(tmp_path, monkeypatch, clean,
                                                                               position):
    _, _, expected, total = clean
    crash_at = flow_day_writes(total)[position]
    assert crash_then_restart(tmp_path, monkeypatch, crash_at) == expected, f"crash at write {crash_at} of {total}"


def crash_then_restart(folder, monkeypatch, crash_at: int) -> dict:
    """The files after a crash at write ``crash_at`` of the replay and a restart to the end."""
    with monkeypatch.context() as mp:
        Writes(mp, crash_at=crash_at)
        with pytest.raises(Crash):
            run_replay(CONFIG, SETTINGS, data_dir=folder)
    run_replay(CONFIG, SETTINGS, data_dir=folder)
    return files(folder)


@pytest.mark.slow
def test_replay_when_crashed_at_every_write_of_a_deposit_day_then_restart_gives_uninterrupted_files(
        tmp_path_factory, monkeypatch, clean):
    # The deposit of 3 Feb: the account write of the deposit, the pending and complete event, the
    # fills, the history and the state; a crash at each, then a restart.
    _, _, expected, total = clean
    with monkeypatch.context() as mp:
        writes = Writes(mp)
        run_replay(CONFIG, SETTINGS.model_copy(update={"replay_end": date(2020, 1, 31), "cash_flows": []}),
                   data_dir=tmp_path_factory.mktemp("before"))
        before = writes.count
    with monkeypatch.context() as mp:
        writes = Writes(mp)
        run_replay(CONFIG, SETTINGS.model_copy(update={"replay_end": date(2020, 2, 3),
                                                       "cash_flows": SETTINGS.cash_flows[:1]}),
                   data_dir=tmp_path_factory.mktemp("through"))
        through = writes.count
    assert through - before >= 5
    for crash_at in range(before + 1, through + 1):
        folder = tmp_path_factory.mktemp(f"crash{crash_at}")
        assert crash_then_restart(folder, monkeypatch, crash_at) == expected, \
            f"crash at write {crash_at} (deposit day {before + 1}..{through})"


# --- cash flows as rebalancing (issue 10) ------------------------------------------------------

DRIFTED = PortfolioConfig(name="Flow Rebalancing", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                          rebalancing_method="calendar", rebalancing_params={"frequency": "annually"},
                          risk_limits=LOOSE)


def test_deposit_when_portfolio_drifted_then_only_buys_most_underweight_first_and_sales_avoided(tmp_path):
    from src.market.clock import FixedClock
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.models.execution_models import CashFlowEvent

    settings = RuntimeSettings(initial_cash=100_000.0)
    with PortfolioRebalancingAgent(DRIFTED, settings=settings, clock=FixedClock(datetime(2019, 1, 2)),
                                   data_dir=tmp_path) as agent:
        agent.check_and_rebalance()
        agent.clock.set(datetime(2021, 12, 31))  # three years of drift, no rebalance
        before = {p.unit: p.drift for p in agent.positions()}
        event = agent.handle(CashFlowEvent(amount=5_000.0, flow_id="dep-1"))
    assert {o.side.value for o in event.orders} == {"buy"}
    most_under = min(before, key=before.get)
    assert most_under in {o.unit for o in event.orders}
    assert any(s.reason.startswith("avoided: the cash flow trades only the flow (sell") for s in event.skipped_trades)
    assert event.cash_after < 0.01 * event.value_after


def test_withdrawal_when_more_than_cash_then_sells_most_overweight_first_then_money_leaves(tmp_path):
    from src.market.clock import FixedClock
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.models.execution_models import CashFlowEvent

    with PortfolioRebalancingAgent(DRIFTED, settings=RuntimeSettings(), clock=FixedClock(datetime(2019, 1, 2)),
                                   data_dir=tmp_path) as agent:
        agent.check_and_rebalance()
        agent.clock.set(datetime(2021, 12, 31))
        before = {p.unit: p.drift for p in agent.positions()}
        value = sum(p.value for p in agent.positions()) + agent.broker.get_account().cash
        event = agent.handle(CashFlowEvent(amount=-10_000.0, flow_id="wd-1"))
        cash = agent.broker.get_account().cash
        flows = agent.broker.cash_flows()
    assert {o.side.value for o in event.orders} == {"sell"}
    assert max(before, key=before.get) in {o.unit for o in event.orders}  # the most overweight is sold
    assert flows[-1].amount == -10_000.0 and 0.0 <= cash < 0.01 * value
    assert event.cash_flow.amount == -10_000.0


def test_replay_when_monthly_deposits_then_flow_only_trades_less_than_full_rebalance(tmp_path, capsys):
    monthly = [{"date": f"{y}-{m:02d}-01", "amount": 2_000.0} for y in range(2016, 2020) for m in range(1, 13)]
    base = RuntimeSettings(replay_start=date(2015, 6, 1), replay_end=date(2019, 12, 31), cash_flows=monthly)
    config = PortfolioConfig.model_validate({**DRIFTED.model_dump(), "name": "Monthly Deposits",
                                             "rebalancing_method": "threshold", "rebalancing_params": {}})
    results = {}
    for mode in ("flow_only", "full_rebalance"):
        settings = base.model_copy(update={"cash_flow_trades": mode})
        _, summary = run_replay(config, settings, data_dir=tmp_path / mode)
        results[mode] = summary
    flow, full = results["flow_only"], results["full_rebalance"]
    with capsys.disabled():
        print(f"\nmonthly deposits 2016-2019, KO/PEP/JNJ threshold: turnover flow_only {flow.turnover:.2%} vs "
              f"full_rebalance {full.turnover:.2%}; fees {flow.fees:,.2f} vs {full.fees:,.2f}; "
              f"average cash {flow.average_cash:.3%} vs {full.average_cash:.3%}")
    assert flow.turnover < full.turnover and flow.fees < full.fees
    assert flow.average_cash < 0.01
