"""Replays: resumable, and safe against a kill at any moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.runtime.replay import run_replay
from src.utils.config_files import PortfolioFile, load_portfolio_file, save_portfolio_file
from src.utils.paths import slug

ROOT = Path(__file__).resolve().parents[2]


def sample_with(tmp_path: Path, start: date, end: date | None = None) -> Path:
    loaded = load_portfolio_file(ROOT / "src/data/portfolios/sample_portfolio.json")
    runtime = loaded.runtime.model_copy(update={"replay_start": start, "replay_end": end})
    return save_portfolio_file(tmp_path / "config.json", PortfolioFile(portfolio=loaded.portfolio, runtime=runtime))


def test_replay_when_run_then_summary_matches_events(tmp_path):
    loaded = load_portfolio_file(sample_with(tmp_path, date(2021, 1, 4), date(2021, 12, 31)))
    agent, summary = run_replay(loaded.portfolio, loaded.runtime, data_dir=tmp_path / "d")
    assert summary.days == 252 and summary.start == date(2021, 1, 4) and summary.end == date(2021, 12, 31)
    assert summary.rebalances >= 1 and summary.fees == pytest.approx(sum(e.fees for e in agent.rebalancing_history))
    assert summary.end_value == pytest.approx(agent.state.history[-1].value)
    assert len(list((tmp_path / "d").glob("rebalance_*.json"))) == len(agent.rebalancing_history)


def test_replay_when_run_again_after_end_then_nothing_new(tmp_path):
    loaded = load_portfolio_file(sample_with(tmp_path, date(2022, 6, 1), date(2022, 8, 31)))
    first, _ = run_replay(loaded.portfolio, loaded.runtime, data_dir=tmp_path / "d")
    before = sorted(p.read_text() for p in (tmp_path / "d").glob("rebalance_*.json"))
    again, _ = run_replay(loaded.portfolio, loaded.runtime, data_dir=tmp_path / "d")
    assert sorted(p.read_text() for p in (tmp_path / "d").glob("rebalance_*.json")) == before
    assert len(again.state.history) == len(first.state.history)
    assert again.clock.now().date() == date(2022, 8, 31)  # the dashboard of a finished replay shows its end
    assert again.positions() == first.positions()


def test_replay_when_range_has_no_trading_day_then_error(tmp_path):
    loaded = load_portfolio_file(sample_with(tmp_path, date(2030, 1, 1)))
    with pytest.raises(ConfigError, match="replay_start=2030-01-01"):
        run_replay(loaded.portfolio, loaded.runtime, data_dir=tmp_path / "d")


def _run(config: Path, data_dir: Path, kill_after: float | None = None) -> None:
    cmd = [sys.executable, str(ROOT / "main.py"), "--replay", "--quiet", "--config", str(config),
           "--data-dir", str(data_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        return
    state = data_dir / f"state_{slug('Sample Multi-Strategy Portfolio')}.json"
    deadline = time.monotonic() + 120
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # wait until the replay is really under way
    time.sleep(kill_after)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def _snapshot(data_dir: Path) -> dict[str, object]:
    files = {p.name: json.loads(p.read_text()) for p in data_dir.glob("*.json")}
    files.update({p.name: p.read_text() for p in data_dir.glob("*.jsonl")})  # the append-only history
    return files


@pytest.mark.slow
def test_replay_when_killed_twice_and_restarted_then_same_result_as_uninterrupted(tmp_path):
    config = sample_with(tmp_path, date(2018, 1, 2), date(2022, 12, 28))
    _run(config, tmp_path / "clean")
    interrupted = tmp_path / "killed"
    state = interrupted / f"state_{slug('Sample Multi-Strategy Portfolio')}.json"
    reached = []
    for delay in (0.7, 1.1, 1.6, 2.4, 3.5):  # kill again, later each time, until a kill lands past the first
        _run(config, interrupted, kill_after=delay)
        reached.append(json.loads(state.read_text())["last_check_at"])
        if reached[-1] > reached[0]:
            break
    assert reached[0] < reached[-1] < "2022-12-28", f"the kills did not land mid-replay: {reached}"
    _run(config, interrupted)
    assert not list(interrupted.glob(".*.tmp")), "a partial file was left behind"
    clean, killed = _snapshot(tmp_path / "clean"), _snapshot(interrupted)
    assert sorted(killed) == sorted(clean)  # no event file lost, none extra
    assert killed == clean  # same orders, fills, values: nothing executed twice
    archive = killed[f"paper_{slug('Sample Multi-Strategy Portfolio')}.reports.jsonl"]
    reported = [json.loads(line)["client_order_id"] for line in archive.splitlines()]
    filled = [o["client_order_id"] for name, e in killed.items() if name.startswith("rebalance_")
              for o in e["orders"] if o["status"] == "filled"]
    assert len(filled) == len(set(filled)) and set(filled) <= set(reported)
    assert len(reported) == len(set(reported))  # no order reported (filled) twice
