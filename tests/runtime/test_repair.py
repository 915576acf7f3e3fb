"""The journal check at start-up and the repair command (issue 8: missing or inconsistent state is
an error, not a reset; ``--repair`` rebuilds the derived files from the journal)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

import main as main_module
from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.errors import ConfigError, DataError
from src.market.clock import FixedClock
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.repair import repair
from src.runtime.replay import run_replay
from src.tax.models import TaxSettings
from src.utils.config_files import PortfolioFile, save_portfolio_file
from tests.agents.test_agent_tax import LOOSE
from tests.runtime.test_crash_points import Crash, Writes, files

CONFIG = PortfolioConfig(name="Repair Me", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                         rebalancing_method="calendar", rebalancing_params={"frequency": "weekly"}, risk_limits=LOOSE)
# Trades, a deposit and tax-loss harvests with swaps: every derived file exists.
SETTINGS = RuntimeSettings(replay_start=date(2020, 2, 3), replay_end=date(2020, 4, 30), tax_loss_harvest=True,
                           tax=TaxSettings(substitutes={"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}),
                           cash_flows=[{"date": "2020-03-01", "amount": 5000.0}])
DERIVED = ("state_repair_me.json", "state_repair_me.history.jsonl", "paper_repair_me.json",
           "paper_repair_me.reports.jsonl", "tax_repair_me.json")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    run_replay(CONFIG, SETTINGS, data_dir=folder)
    assert all((folder / name).exists() for name in DERIVED)
    return folder


def copy_of(clean: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(clean, folder)
    return folder


def events(folder: Path) -> list[Path]:
    return sorted(folder.glob("rebalance_*.json"))


@pytest.mark.parametrize("lost", [DERIVED, ("state_repair_me.json",), ("paper_repair_me.json",),
                                  ("state_repair_me.history.jsonl", "tax_repair_me.json")])
def test_repair_when_derived_files_lost_then_rebuilt_and_resume_equals_uninterrupted(clean, tmp_path, lost):
    folder = copy_of(clean, tmp_path)
    for name in lost:
        (folder / name).unlink()
    with pytest.raises(DataError, match="--repair"):
        run_replay(CONFIG, SETTINGS, data_dir=folder)
    report = repair(CONFIG, SETTINGS, data_dir=folder)
    assert report.events_checked == len(events(clean)) and report.pending_completed == 0
    run_replay(CONFIG, SETTINGS, data_dir=folder)  # the days after the last event, as the first run did
    assert files(folder) == files(clean)


def test_start_when_state_older_than_journal_then_refused_naming_file_and_nothing_written(clean, tmp_path):
    folder = copy_of(clean, tmp_path)
    older = tmp_path / "older"
    run_replay(CONFIG, SETTINGS.model_copy(update={"replay_end": date(2020, 3, 10)}), data_dir=older)
    shutil.copy(older / "state_repair_me.json", folder / "state_repair_me.json")  # restored from a backup
    before = files(folder)
    with pytest.raises(DataError) as info:
        run_replay(CONFIG, SETTINGS, data_dir=folder)
    # The history (longer than the state counts) is the first file that disagrees; nothing is dropped.
    assert f"but {folder / 'state_repair_me.json'} counts" in str(info.value)
    assert "state file is older than its history" in str(info.value) and "\n" not in str(info.value)
    assert files(folder) == before
    shutil.copy(older / "state_repair_me.history.jsonl", folder / "state_repair_me.history.jsonl")  # both restored
    with pytest.raises(DataError, match=f"agent state file {folder / 'state_repair_me.json'} .* older than the journal"):
        run_replay(CONFIG, SETTINGS, data_dir=folder)
    repair(CONFIG, SETTINGS, data_dir=folder)
    run_replay(CONFIG, SETTINGS, data_dir=folder)
    assert files(folder) == files(clean)


def test_start_when_event_file_missing_in_the_middle_then_refused_naming_the_next_file(clean, tmp_path):
    folder = copy_of(clean, tmp_path)
    gone, after = events(folder)[3], events(folder)[4]
    gone.unlink()
    with pytest.raises(DataError, match=f"event file {after} is number 5 .* comes 4th"):
        run_replay(CONFIG, SETTINGS, data_dir=folder)
    with pytest.raises(DataError, match="missing or was copied in"):
        repair(CONFIG, SETTINGS, data_dir=folder)


def test_start_when_last_event_with_orders_deleted_then_account_order_unknown_refused(clean, tmp_path):
    folder = copy_of(clean, tmp_path)
    last = events(folder)[-1]
    assert json.loads(last.read_text())["orders"]
    last.unlink()
    # The agent checks the account before the state: the order the account filled has no event.
    with pytest.raises(DataError, match="has .* order\\(s\\) no event in .* records"):
        PortfolioRebalancingAgent(CONFIG, settings=SETTINGS, clock=FixedClock(datetime(2020, 4, 30)),
                                  data_dir=folder)
    with pytest.raises(DataError, match="accounts for .* event\\(s\\) but the journal .* has"):
        run_replay(CONFIG, SETTINGS, data_dir=folder)


def test_start_when_state_counts_more_events_than_journal_then_refused():
    from src.agents.journal import unfinished_cycle
    from src.models.execution_models import AgentState

    state = AgentState(portfolio_name="x", journal_sequence=3)
    with pytest.raises(DataError, match="accounts for 3 event\\(s\\) but the journal in /d has 0"):
        unfinished_cycle([], state, Path("/d/state_x.json"), Path("/d"))


def test_repair_when_config_changed_then_refused_naming_the_field(clean, tmp_path):
    folder = copy_of(clean, tmp_path)
    other = CONFIG.model_copy(update={"target_allocations": {"KO": 0.4, "PEP": 0.3, "JNJ": 0.3}})
    before = files(folder)
    with pytest.raises(ConfigError, match="another configuration \\(differs in target_allocations\\)"):
        repair(other, SETTINGS, data_dir=folder)
    assert files(folder) == before


def test_repair_when_event_edited_then_refused_naming_file_and_field(clean, tmp_path):
    folder = copy_of(clean, tmp_path)
    edited = events(folder)[2]
    payload = json.loads(edited.read_text())
    payload["value_after"] += 1.0
    edited.write_text(json.dumps(payload))
    (folder / "state_repair_me.json").unlink()
    with pytest.raises(DataError, match=f"event file {edited} .* differs from a re-run of the replay in value_after"):
        repair(CONFIG, SETTINGS, data_dir=folder)
    assert not (folder / "state_repair_me.json").exists()


def test_repair_when_last_cycle_pending_then_completed_at_its_day_and_resume_equals_uninterrupted(clean, tmp_path,
                                                                                               monkeypatch):
    folder = tmp_path / "data"
    with monkeypatch.context() as mp:
        writes = Writes(mp)
        run_replay(CONFIG, SETTINGS.model_copy(update={"replay_end": date(2020, 3, 2)}), data_dir=tmp_path / "count")
        total = writes.count
    with monkeypatch.context() as mp:  # crash on the last write of a day with orders: its event stays pending
        Writes(mp, crash_at=total - 3)
        with pytest.raises(Crash):
            run_replay(CONFIG, SETTINGS, data_dir=folder)
    assert any(json.loads(p.read_text())["execution"] == "pending" for p in events(folder))
    for name in ("state_repair_me.json", "paper_repair_me.json"):
        (folder / name).unlink(missing_ok=True)
    report = repair(CONFIG, SETTINGS, data_dir=folder)
    assert report.pending_completed >= 1
    run_replay(CONFIG, SETTINGS, data_dir=folder)
    assert files(folder) == files(clean)


def test_main_repair_when_run_then_one_line_and_exit_0_and_when_no_events_then_exit_2(clean, tmp_path, capsys):
    folder = copy_of(clean, tmp_path)
    (folder / "state_repair_me.json").unlink()
    config = save_portfolio_file(tmp_path / "cfg.json", PortfolioFile(portfolio=CONFIG, runtime=SETTINGS))
    assert main_module.main(["--repair", "--config", str(config), "--data-dir", str(folder)]) == 0
    assert "rebuilt state_repair_me.json" in capsys.readouterr().out
    assert main_module.main(["--repair", "--config", str(config), "--data-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "no events of 'Repair Me'" in err and err.count("\n") == 1
