"""A crash at any write of a replay whose engine fails on some days, then a restart, gives exactly the
uninterrupted run's files (issue 8).

The engine is a custom one (``register_engine``): the calendar engine, trading to target every day,
except that it raises ``EngineError`` on every Monday and Tuesday of March 2020 (a deterministic
function of the date). So the run trades, harvests tax losses, records an ``engine_failed`` event on
each Monday, folds the Tuesday's identical failure into it (a rewrite of the Monday's file, no new
file), and trades again on the Wednesday. The crash is injected in process at the k-th write, as in
``tests/runtime/test_crash_points.py`` (whose ``Writes``, ``Crash`` and ``files`` are reused); the
points are a spread over the whole run, every write of an ``engine_failed`` event (first write and
fold) and the write just after each, and the first and last write completing a harvest on a day that
also traded (two unfinished events of one cycle: a restart there appended the day's history point
twice before 6a08d2f).

``run_replay`` takes no engine argument and a portfolio file has no field naming a custom engine,
so the only edge to run a replay on a custom engine without editing ``src`` is the agent module's
``resolve_engine`` (monkeypatched by :func:`use_flaky_engine` to resolve the registered name).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import src.agents.agent_state as agent_state
import src.agents.portfolio_rebalancing_agent as agent_module
import src.brokers.paper as paper
import src.utils.atomic_io as atomic_io
from src.engines.calendar_engine import CalendarEngine
from src.engines.context import MarketContext
from src.engines.factory import register_engine, resolve_engine, unregister_engine
from src.errors import EngineError
from src.models.decision_models import EngineResult
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from src.tax.models import TaxSettings
from tests.agents.test_agent_tax import LOOSE
from tests.runtime.test_crash_points import Crash, Writes, files

FLAKY = "flaky_calendar"


def engine_down(day: date) -> bool:
    """The outage schedule: every Monday and Tuesday of March 2020."""
    return (day.year, day.month) == (2020, 3) and day.weekday() in (0, 1)


class FlakyCalendarEngine(CalendarEngine):
    """The calendar engine, failing on the days of :func:`engine_down`."""

    name = FLAKY

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        if engine_down(ctx.timestamp.date()):
            raise EngineError("price feed outage (every Monday and Tuesday of March 2020)")
        return super().calculate_target_weights(ctx)


CONFIG = PortfolioConfig(name="Engine Failure Crash Points", target_allocations={"KO": 0.35, "PEP": 0.35, "JNJ": 0.30},
                         rebalancing_method="calendar",
                         rebalancing_params={"frequency": "daily", "force_rebalance": True}, risk_limits=LOOSE)
SETTINGS = RuntimeSettings(replay_start=date(2020, 2, 24), replay_end=date(2020, 3, 20), tax_loss_harvest=True,
                           tax=TaxSettings(substitutes={"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}))


def use_flaky_engine(mp: pytest.MonkeyPatch) -> None:
    """Register the flaky engine and make every agent built without an explicit engine use it."""
    register_engine(FLAKY, FlakyCalendarEngine)
    real = resolve_engine
    mp.setattr(agent_module, "resolve_engine", lambda config, engine=None: real(config, FLAKY if engine is None else engine))


@pytest.fixture(scope="module", autouse=True)
def _registered():
    yield
    unregister_engine(FLAKY)


class RecordedWrites(Writes):
    """``Writes`` that also remembers what each write wrote: ``log[k - 1]`` is the k-th write's file
    name and, for an event, its status and execution."""

    def __init__(self, monkeypatch, crash_at: int | None = None) -> None:
        super().__init__(monkeypatch, crash_at)
        self.log: list[tuple[str, str, str]] = []
        counted_write, counted_append = atomic_io.atomic_write_bytes, agent_state.append_lines

        def recording_write(path, data, *args, **kwargs):
            event = json.loads(data) if Path(path).name.startswith("rebalance_") else {}
            self.log.append((Path(path).name, event.get("status", ""), event.get("execution", "")))
            return counted_write(path, data, *args, **kwargs)

        def recording_append(path, lines, *args, **kwargs):
            self.log.append((Path(path).name, "", ""))
            return counted_append(path, lines, *args, **kwargs)

        monkeypatch.setattr(atomic_io, "atomic_write_bytes", recording_write)
        monkeypatch.setattr(agent_state, "append_lines", recording_append)
        monkeypatch.setattr(paper, "append_lines", recording_append)

    def engine_failed_writes(self) -> list[int]:
        """Write numbers of the engine_failed events (first writes and folds)."""
        return [k for k, (_, status, _) in enumerate(self.log, 1) if status == "engine_failed"]

    def harvest_after_trade_windows(self) -> list[range]:
        """Write numbers from just after a harvest's pending event, on a day whose cycle also wrote an
        orders event, to that day's state save: a crash there leaves two unfinished events of one
        cycle (see the regression note below)."""
        windows, day_events = [], []
        for k, (name, status, execution) in enumerate(self.log, 1):
            if name.startswith("rebalance_"):
                day_events.append((name[len("rebalance_"):][:8], status, execution, k))
            elif name.startswith("state_") and name.endswith(".json"):  # the cycle's end
                days = {d for d, s, _, _ in day_events if s == "orders"}
                windows += [range(h + 1, k + 1) for d, s, e, h in day_events
                            if s == "harvest" and e == "pending" and d in days]
                day_events = []
        return windows


# Regression: a restart after a crash while a harvest was being completed, on a day whose cycle
# also traded, appended that day's history point twice (history_length one too many): at 1e42232,
# PortfolioRebalancingAgent._recover called _finish_cycle once per unfinished *event*, and both the
# day's orders event and its harvest event were unfinished. Fixed in 6a08d2f (once per cycle).


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean_engine_failure")
    with pytest.MonkeyPatch.context() as mp:
        use_flaky_engine(mp)
        writes = RecordedWrites(mp)
        agent, summary = run_replay(CONFIG, SETTINGS, data_dir=folder)
    assert len(writes.log) == writes.count
    return files(folder), writes, agent, summary


def test_clean_run_when_engine_fails_on_march_mondays_and_tuesdays_then_failures_recorded_and_trading_resumes(clean):
    expected, writes, agent, summary = clean
    events = agent.rebalancing_history
    failed = [e for e in events if e.status.value == "engine_failed"]
    assert [e.timestamp.date() for e in failed] == [date(2020, 3, 2), date(2020, 3, 9), date(2020, 3, 16)]
    # Each Tuesday's identical failure is folded into the Monday's event, not written as a new one.
    assert all(e.repeats == 1 and e.last_repeated_at.date().weekday() == 1 for e in failed)
    assert all(not e.orders and "price feed outage" in e.message for e in failed)
    assert summary.engine_failures == 3
    filled = lambda e: any(o.status.value == "filled" for o in e.orders)
    for e in failed:  # the next trading day (the Wednesday) trades again
        after = [x for x in events if x.timestamp > e.last_repeated_at and x.status.value == "orders"]
        assert after and after[0].timestamp.date().weekday() == 2 and filled(after[0])
    assert any(e.status.value == "harvest" and filled(e) for e in events), "the scenario must harvest too"
    assert not any(engine_down(e.timestamp.date()) for e in events if e.status.value != "engine_failed")
    assert len(writes.engine_failed_writes()) == 6  # three first writes and three folds
    assert writes.harvest_after_trade_windows(), "the scenario must harvest on a day that also traded"
    assert writes.count > 100 and sum(1 for name in expected if name.startswith("rebalance_")) == len(events)


def _crash_and_restart(folder: Path, monkeypatch, crash_at: int) -> None:
    with monkeypatch.context() as mp:
        use_flaky_engine(mp)
        Writes(mp, crash_at=crash_at)
        with pytest.raises(Crash):
            run_replay(CONFIG, SETTINGS, data_dir=folder)
    with monkeypatch.context() as mp:  # restart: recovery, then the rest of the replay
        use_flaky_engine(mp)
        run_replay(CONFIG, SETTINGS, data_dir=folder)


@pytest.mark.parametrize("fraction", [pytest.param(i / 12, marks=() if i in (0, 6) else pytest.mark.slow)
                                      for i in range(12)])
def test_replay_when_engine_fails_and_crashed_at_a_write_then_restart_gives_uninterrupted_files(
        tmp_path, monkeypatch, clean, fraction):
    expected, writes = clean[0], clean[1]
    crash_at = 1 + int(fraction * writes.count)
    _crash_and_restart(tmp_path, monkeypatch, crash_at)
    assert files(tmp_path) == expected, f"crash at write {crash_at} of {writes.count}"


@pytest.mark.parametrize("offset", [0, 1], ids=["before_event_write", "before_next_write"])
@pytest.mark.parametrize("which", [pytest.param(w, marks=() if w in (0, 1) else pytest.mark.slow) for w in range(6)])
def test_replay_when_crashed_at_an_engine_failed_event_write_then_restart_gives_uninterrupted_files(
        tmp_path, monkeypatch, clean, which, offset):
    # which: 0, 2, 4 are the Mondays' first writes, 1, 3, 5 the Tuesdays' folds; offset 1 is the
    # write after the event (the history append), so the restart re-runs a day whose event is on disk.
    expected, writes = clean[0], clean[1]
    crash_at = writes.engine_failed_writes()[which] + offset
    _crash_and_restart(tmp_path, monkeypatch, crash_at)
    assert files(tmp_path) == expected, f"crash at write {crash_at} of {writes.count} (engine_failed write {which})"


@pytest.mark.parametrize("where", ["first", "last"])
def test_replay_when_crashed_completing_a_harvest_on_a_day_that_traded_then_restart_gives_uninterrupted_files(
        tmp_path, monkeypatch, clean, where):
    # first: the paper account's first write for the harvest's fills; last: that day's state save.
    expected, writes = clean[0], clean[1]
    window = writes.harvest_after_trade_windows()[0]
    crash_at = window[0] if where == "first" else window[-1]
    _crash_and_restart(tmp_path, monkeypatch, crash_at)
    assert files(tmp_path) == expected, f"crash at write {crash_at} of {writes.count}"
