"""A crash at any write of a replay, then a restart, gives exactly the uninterrupted run's files (issue 8).

The crash is injected in process: the k-th write (an atomic file write or a history/report
append) raises before it happens, which is what a kill just before that write leaves on disk
(atomic writes are never half-done; a cut append is covered by the state and archive tests).
The scenario trades every day, harvests tax losses in the 2020 crash and swaps back, so the
writes include events pending and complete, harvests, the tax book, the paper account and the
agent state.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import src.agents.agent_state as agent_state
import src.brokers.paper as paper
import src.utils.atomic_io as atomic_io
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from src.tax.models import TaxSettings
from tests.agents.test_agent_tax import LOOSE

CONFIG = PortfolioConfig(name="Crash Points", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                         rebalancing_method="calendar", rebalancing_params={"frequency": "weekly"}, risk_limits=LOOSE)
SETTINGS = RuntimeSettings(replay_start=date(2020, 2, 24), replay_end=date(2020, 3, 13), tax_loss_harvest=True,
                           tax=TaxSettings(substitutes={"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}))


class Crash(Exception):
    """The process dies here."""


class Writes:
    """Counts writes and raises Crash at the k-th one."""

    def __init__(self, monkeypatch, crash_at: int | None = None) -> None:
        self.count, self.crash_at = 0, crash_at
        write, append = atomic_io.atomic_write_bytes, atomic_io.append_lines

        def counted(real):
            def wrapper(*args, **kwargs):
                self.count += 1
                if self.count == self.crash_at:
                    raise Crash
                return real(*args, **kwargs)
            return wrapper

        monkeypatch.setattr(atomic_io, "atomic_write_bytes", counted(write))
        counted_append = counted(append)
        monkeypatch.setattr(agent_state, "append_lines", counted_append)
        monkeypatch.setattr(paper, "append_lines", counted_append)


def files(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    out.update({p.name: p.read_text() for p in folder.glob("*.jsonl")})
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as mp:
        writes = Writes(mp)
        run_replay(CONFIG, SETTINGS, data_dir=folder)
    harvests = [f for name, f in files(folder).items() if name.startswith("rebalance_") and f["status"] == "harvest"]
    assert harvests, "the scenario must harvest"
    return files(folder), writes.count


def test_clean_run_when_counted_then_enough_write_points(clean):
    assert clean[1] > 40


@pytest.mark.parametrize("fraction", [pytest.param(i / 12, marks=() if i in (0, 6) else pytest.mark.slow)
                                      for i in range(12)])
def test_replay_when_crashed_at_a_write_and_restarted_then_files_equal_uninterrupted(tmp_path, monkeypatch, clean,
                                                                                      fraction):
    expected, total = clean
    crash_at = 1 + int(fraction * total)
    with monkeypatch.context() as mp:
        Writes(mp, crash_at=crash_at)
        with pytest.raises(Crash):
            run_replay(CONFIG, SETTINGS, data_dir=tmp_path)
    run_replay(CONFIG, SETTINGS, data_dir=tmp_path)  # restart: recovery, then the rest of the replay
    assert files(tmp_path) == expected, f"crash at write {crash_at} of {total}"


def _blocked_scenario():
    from src.utils.config_files import load_portfolio_file

    base = load_portfolio_file(Path(__file__).resolve().parents[2] / "src/data/portfolios/sample_portfolio.json").portfolio
    config = PortfolioConfig.model_validate({
        **base.model_dump(), "name": "Blocked Crash Points", "risk_policy": {"portfolio_limit_action": "block"},
        "rebalancing_params": {"min_drift": 0.05, "relative_drift": 0.25, "check_frequency": "daily"}})
    return config, RuntimeSettings(replay_start=date(2020, 2, 20), replay_end=date(2020, 4, 30))


@pytest.fixture(scope="module")
def clean_blocked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean_blocked")
    config, settings = _blocked_scenario()
    with pytest.MonkeyPatch.context() as mp:
        writes = Writes(mp)
        agent, _ = run_replay(config, settings, data_dir=folder)
    assert any(e.repeats > 1 for e in agent.rebalancing_history), "the scenario must fold repeated blocks"
    return files(folder), writes.count


@pytest.mark.parametrize("fraction", [pytest.param(i / 8, marks=() if i in (0, 4) else pytest.mark.slow)
                                      for i in range(8)])
def test_replay_when_crashed_while_folding_blocked_repeats_then_files_equal_uninterrupted(tmp_path, monkeypatch,
                                                                                          clean_blocked, fraction):
    # A repeat folded into the first blocked event, then a crash before the state is saved: the
    # re-run of that check must not count it twice.
    expected, total = clean_blocked
    crash_at = 2 + int(fraction * (total - 2)) | 1  # odd points: the event rewrites of the folds
    config, settings = _blocked_scenario()
    with monkeypatch.context() as mp:
        Writes(mp, crash_at=crash_at)
        with pytest.raises(Crash):
            run_replay(config, settings, data_dir=tmp_path)
    run_replay(config, settings, data_dir=tmp_path)
    assert files(tmp_path) == expected, f"crash at write {crash_at} of {total}"
