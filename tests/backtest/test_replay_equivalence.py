"""A backtest and the agent's paper replay run the same code: same decisions, same money."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from src.backtest.runner import run_backtest
from src.events.record import FILLED
from src.runtime.replay import run_replay
from src.utils.config_files import load_portfolio_file

ROOT = Path(__file__).resolve().parents[2]


def test_backtest_when_sample_replayed_by_agent_then_same_trades_and_value(tmp_path):
    # 2019-06 .. 2021-06 holds the 2020 drops, hold-outs and readmissions of the sample's sleeves.
    loaded = load_portfolio_file(ROOT / "src/data/portfolios/sample_portfolio.json")
    runtime = loaded.runtime.model_copy(update={"replay_start": date(2019, 6, 3), "replay_end": date(2021, 6, 30)})
    agent, summary = run_replay(loaded.portfolio, runtime, data_dir=tmp_path)
    result = run_backtest(loaded.portfolio, runtime.replay_start, runtime.replay_end,
                          initial_cash=runtime.initial_cash, slippage_bps=runtime.slippage_bps)
    replayed = {e.timestamp.date(): sorted((o.unit, o.side.value, round(o.filled_quantity, 9)) for o in e.orders
                                           if o.status in FILLED)
                for e in agent.rebalancing_history if any(o.status in FILLED for o in e.orders)}
    backtested = {d.day: sorted((o.unit, o.side.value, round(o.filled_quantity, 9)) for o in d.orders
                                if o.status in FILLED)
                  for d in result.decisions if any(o.status in FILLED for o in d.orders)}
    assert any("risk_readmission" in d.trigger for d in result.decisions)  # the probe path is exercised
    assert replayed == backtested
    assert summary.end_value == pytest.approx(result.metrics.final_value, rel=1e-12)
    values = {p.timestamp.date(): p.value for p in agent.state.history}
    assert all(values[ts.date()] == pytest.approx(v, rel=1e-12) for ts, v in result.nav.items())
