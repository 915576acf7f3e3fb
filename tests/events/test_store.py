"""One JSON file per event, atomic, named after the event's timestamp."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from src.errors import DataError
from src.events.store import EventStore
from src.models.decision_models import PlanStatus, RebalancingEvent, TriggerDecision


def event(eid: str, ts: datetime, name: str = "P", execution: str = "complete") -> RebalancingEvent:
    return RebalancingEvent(
        event_id=eid, timestamp=ts, portfolio_name=name, method="threshold", status=PlanStatus.BLOCKED,
        trigger=TriggerDecision(fired=True, trigger="drift_band", reason="r"), weights_before={"A": 1.0},
        engine_targets={"A": 1.0}, final_targets={}, risk_verdicts=[], orders=[], value_before=1.0,
        value_after=1.0, cash_before=0.0, cash_after=0.0, config={}, message="m", execution=execution)


def test_save_when_new_then_file_named_after_event_timestamp(tmp_path):
    path = EventStore(tmp_path).save(event("e1", datetime(2022, 12, 28, 16, 5, 9)))
    assert path.name == "rebalance_20221228_160509.json"
    assert json.loads(path.read_text())["event_id"] == "e1"


def test_save_when_same_second_then_suffix_keeps_both(tmp_path):
    store = EventStore(tmp_path)
    ts = datetime(2022, 12, 28)
    names = [store.save(event(e, ts)).name for e in ("e1", "e2", "e3")]
    assert names == ["rebalance_20221228_000000.json", "rebalance_20221228_000000_2.json",
                     "rebalance_20221228_000000_3.json"]


def test_save_when_event_saved_again_then_same_file_rewritten(tmp_path):
    store = EventStore(tmp_path)
    first = store.save(event("e1", datetime(2022, 1, 3), execution="pending"))
    second = EventStore(tmp_path).save(event("e1", datetime(2022, 1, 3), execution="complete"))
    assert first == second and len(list(tmp_path.iterdir())) == 1
    assert EventStore(tmp_path).load("P")[0].execution == "complete"


def test_load_when_several_portfolios_then_only_own_events_oldest_first(tmp_path):
    store = EventStore(tmp_path)
    store.save(event("b", datetime(2022, 1, 4)))
    store.save(event("a", datetime(2022, 1, 3)))
    store.save(event("x", datetime(2022, 1, 3), name="Other"))
    assert [e.event_id for e in EventStore(tmp_path).load("P")] == ["a", "b"]


def test_load_when_file_corrupt_then_error_names_file(tmp_path):
    (tmp_path / "rebalance_20220103_000000.json").write_text('{"event_id": 1}')
    with pytest.raises(DataError, match="rebalance_20220103_000000.json is not a valid event"):
        EventStore(tmp_path)


def test_save_when_done_then_no_temporary_file_left(tmp_path):
    EventStore(tmp_path).save(event("e1", datetime(2022, 1, 3)))
    assert [p.name for p in tmp_path.iterdir()] == ["rebalance_20220103_000000.json"]
