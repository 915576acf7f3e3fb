"""The agent state: a small snapshot plus an append-only history, exact across crashes (issue 8)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from src.agents.agent_state import AgentStateStore
from src.errors import DataError
from src.models.execution_models import AgentState, ValuePoint


def point(i: int) -> ValuePoint:
    return ValuePoint(timestamp=datetime(2020, 1, 1) + timedelta(days=i), value=100_000.0 + i, cash=10.0,
                      weights={"KO": 0.5, "PG": 0.49})


def grow(store: AgentStateStore, state: AgentState, start: int, stop: int) -> AgentState:
    for i in range(start, stop):
        state.history.append(point(i))
        state.last_check_at = point(i).timestamp
        store.save(state)
    return state


def test_save_when_history_grows_then_snapshot_stays_the_same_size_and_history_is_appended(tmp_path):
    store = AgentStateStore(tmp_path / "state_p.json", "p")
    state = grow(store, store.load(), 0, 30)
    small = store.path.stat().st_size
    grow(store, state, 30, 3_000)
    # The cost of a cycle no longer grows with history: the snapshot written each cycle is as
    # large after 3,000 cycles as after 30 (only the count's digits), the history only appended.
    assert store.path.stat().st_size - small <= 2
    assert len(store.history_path.read_text().splitlines()) == 3_000
    reloaded = AgentStateStore(tmp_path / "state_p.json", "p").load()
    assert reloaded.history == state.history and reloaded.history_length == 3_000


def test_load_when_crash_left_an_uncounted_line_then_dropped_and_files_match_uninterrupted(tmp_path):
    clean = AgentStateStore(tmp_path / "a" / "state_p.json", "p")
    grow(clean, clean.load(), 0, 5)
    crashed = AgentStateStore(tmp_path / "b" / "state_p.json", "p")
    state = grow(crashed, crashed.load(), 0, 4)
    with crashed.history_path.open("a") as f:  # day 4's point appended, then killed before the snapshot
        f.write(point(4).model_dump_json() + "\n" + '{"timestamp": "2020-01-')  # and a partial line
    restarted = AgentStateStore(tmp_path / "b" / "state_p.json", "p")
    state = restarted.load()
    assert len(state.history) == 4
    grow(restarted, state, 4, 5)  # the unfinished cycle runs again
    assert crashed.path.read_text() == clean.path.read_text()
    assert crashed.history_path.read_text() == clean.history_path.read_text()


def test_load_when_history_file_lost_then_error_naming_it(tmp_path):
    store = AgentStateStore(tmp_path / "state_p.json", "p")
    grow(store, store.load(), 0, 3)
    store.history_path.unlink()
    with pytest.raises(DataError, match="history file .*state_p.history.jsonl is missing"):
        AgentStateStore(tmp_path / "state_p.json", "p").load()


def test_load_when_history_file_cut_then_error_naming_counts(tmp_path):
    store = AgentStateStore(tmp_path / "state_p.json", "p")
    grow(store, store.load(), 0, 3)
    lines = store.history_path.read_text().splitlines()
    store.history_path.write_text(lines[0] + "\n")
    with pytest.raises(DataError, match="has 1 point.* counts 3"):
        AgentStateStore(tmp_path / "state_p.json", "p").load()


def test_load_when_older_state_file_keeps_history_inside_then_migrated_on_next_save(tmp_path):
    path = tmp_path / "state_p.json"
    legacy = AgentState(portfolio_name="p", history=[point(0), point(1)], last_check_at=point(1).timestamp)
    path.write_text(legacy.model_dump_json(exclude={"history_length"}))
    store = AgentStateStore(path, "p")
    state = store.load()
    assert state.history == legacy.history
    grow(store, state, 2, 3)
    assert json.loads(path.read_text())["history"] == [] and json.loads(path.read_text())["history_length"] == 3
    assert AgentStateStore(path, "p").load().history == [point(0), point(1), point(2)]
