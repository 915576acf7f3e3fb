"""A crash at each write of a cycle that journals a drift alert, then a restart: exactly one alert
event, and the files of an uninterrupted run (src/agents/alerts.py; the crash injection is
tests/runtime/test_crash_points.py's)."""

from __future__ import annotations

from datetime import date

import pytest

from src.models.execution_models import RuntimeSettings
from src.runtime.replay import run_replay
from tests.agents.test_alerts import CONFIG
from tests.runtime.test_crash_points import Crash, Writes, files

# Real prices: 2020-03-09 raises a warning on a cycle that trades nothing; 2020-04-01 trades
# (the quarterly date) and clears the warning raised on 2020-03-13 in the same cycle.
SCENARIOS = {
    "warning": (RuntimeSettings(replay_start=date(2020, 2, 18), replay_end=date(2020, 3, 6)),
                RuntimeSettings(replay_start=date(2020, 2, 18), replay_end=date(2020, 3, 9)), "warning"),
    "cleared with orders": (RuntimeSettings(replay_start=date(2020, 3, 2), replay_end=date(2020, 3, 31)),
                            RuntimeSettings(replay_start=date(2020, 3, 2), replay_end=date(2020, 4, 1)), "none"),
}


def _alerts_of_last_day(folder, day: date) -> list[dict]:
    return [f for name, f in files(folder).items() if name.startswith(f"rebalance_{day:%Y%m%d}")
            and f["status"] == "alert"]


def _clean(tmp_path_factory, name):
    before, full, level = SCENARIOS[name]
    counts = []
    for settings in (before, full):
        folder = tmp_path_factory.mktemp("clean")
        with pytest.MonkeyPatch.context() as mp:
            writes = Writes(mp)
            run_replay(CONFIG, settings, data_dir=folder)
        counts.append(writes.count)
    alerts = _alerts_of_last_day(folder, full.replay_end)
    assert [a["alert"]["level"] for a in alerts] == [level], "the last cycle must journal the alert"
    return files(folder), counts[0], counts[1]


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory):
    return {name: _clean(tmp_path_factory, name) for name in SCENARIOS}


def _cases():
    # Each scenario's last cycle has under 12 writes; a crash point past the last is skipped.
    return [pytest.param(name, k, id=f"{name}-{k}", marks=() if k in (1, 2) else pytest.mark.slow)
            for name in SCENARIOS for k in range(1, 13)]


@pytest.mark.parametrize(("name", "k"), _cases())
def test_alert_cycle_when_crashed_at_each_write_and_restarted_then_one_alert_and_files_equal(tmp_path, monkeypatch,
                                                                                            clean_runs, name, k):
    expected, before, total = clean_runs[name]
    crash_at = before + k  # the k-th write of the last cycle
    if crash_at > total:
        pytest.skip(f"the last cycle has {total - before} writes")
    full = SCENARIOS[name][1]
    with monkeypatch.context() as mp:
        Writes(mp, crash_at=crash_at)
        with pytest.raises(Crash):
            run_replay(CONFIG, full, data_dir=tmp_path)
    agent, _ = run_replay(CONFIG, full, data_dir=tmp_path)  # restart: recovery, then the rest
    agent.close()
    assert len(_alerts_of_last_day(tmp_path, full.replay_end)) == 1
    assert files(tmp_path) == expected, f"crash at write {crash_at} ({k} of the last cycle's {total - before})"


def test_alert_cycles_when_counted_then_each_has_several_writes(clean_runs):
    for name, (_, before, total) in clean_runs.items():
        assert 3 <= total - before <= 12, name
