"""Constant cost per cycle (issue 8): what a day writes does not grow with the history behind it.

Speed is never asserted with a timer here (``benchmarks/cycle_cost.py`` times it); what is
asserted is deterministic: the bytes handed to the two write primitives (``atomic_write_bytes``
and ``append_lines``) and how many times they are called. Two real replays of one 5-stock
portfolio end on the same day, one after 1 year and one after N years (2 in the fast subset, 30
in the slow one); each is then resumed through the same month, whose writes are counted. Before
the snapshot + append-only split every day rewrote the whole value history and every order the
whole report archive, so the same month would have written about N times as much (this test on
the code before the split, 1470ba2: x1.95 after 2 years, x27.8 after 30).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

import src.utils.atomic_io as atomic_io
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import NON_BINDING_RISK_LIMITS
from src.runtime.replay import run_replay

CONFIG = PortfolioConfig(name="Cycle Cost", target_allocations={u: 0.2 for u in ("KO", "PEP", "JNJ", "XOM", "PG")},
                         rebalancing_method="calendar", rebalancing_params={"frequency": "weekly"},
                         risk_limits=NON_BINDING_RISK_LIMITS)
HISTORY_END = date(2021, 12, 31)
WINDOW_END = date(2022, 1, 31)  # the measured month: 2022-01-03 .. 2022-01-31, weekly trades included


@dataclass
class Written:
    calls: int = 0
    bytes: int = 0
    days: int = 0
    history_bytes: int = 0  # size of the append-only files (value history, report archive) before the month

    @property
    def bytes_per_day(self) -> float:
        return self.bytes / self.days


def count_writes(monkeypatch, written: Written) -> None:
    """Count every call to, and every byte given to, the two write primitives, wherever they are
    bound (``agent_state`` and ``paper`` import ``append_lines`` by name)."""
    write, append = atomic_io.atomic_write_bytes, atomic_io.append_lines

    def counted_write(path, data):
        written.calls += 1
        written.bytes += len(data)
        return write(path, data)

    def counted_append(path, lines):
        written.calls += 1
        written.bytes += sum(len(line.encode("utf-8")) + 1 for line in lines)
        return append(path, lines)

    for name, module in list(sys.modules.items()):
        if name == "src" or name.startswith("src."):
            for attribute, real, counted in (("atomic_write_bytes", write, counted_write),
                                             ("append_lines", append, counted_append)):
                if getattr(module, attribute, None) is real:
                    monkeypatch.setattr(module, attribute, counted)


def month_after(years: int, folder: Path) -> Written:
    """Replay ``years`` of history up to ``HISTORY_END`` (not counted), then resume through the
    month after it, counting its writes (start-up included: resuming must not rewrite history)."""
    start = date(HISTORY_END.year - years + 1, 1, 1)
    before, _ = run_replay(CONFIG, RuntimeSettings(replay_start=start, replay_end=HISTORY_END), data_dir=folder)
    before.close()
    written = Written(history_bytes=sum(p.stat().st_size for p in folder.glob("*.jsonl")))
    with pytest.MonkeyPatch.context() as mp:
        count_writes(mp, written)
        agent, _ = run_replay(CONFIG, RuntimeSettings(replay_start=start, replay_end=WINDOW_END), data_dir=folder)
    agent.close()
    written.days = len(agent.state.history) - len(before.state.history)
    return written


@pytest.fixture(scope="module")
def one_year(tmp_path_factory) -> Written:
    return month_after(1, tmp_path_factory.mktemp("one_year"))


@pytest.fixture(scope="module", params=[2, pytest.param(30, marks=pytest.mark.slow)], ids=lambda y: f"{y}y")
def long_history(request, tmp_path_factory) -> tuple[int, Written]:
    return request.param, month_after(request.param, tmp_path_factory.mktemp(f"years_{request.param}"))


def test_month_when_measured_then_real_days_with_trades(one_year, long_history):
    years, long = long_history
    assert one_year.days == long.days == 20  # the trading days of 2022-01-03 .. 2022-01-31
    assert one_year.bytes_per_day > 1_000  # the weekly trades' events and fills are in the measure


def test_cycle_when_history_is_years_long_then_bytes_per_day_as_after_one_year(one_year, long_history):
    years, long = long_history
    ratio = long.bytes_per_day / one_year.bytes_per_day
    assert ratio < 1.2, (f"a day writes {long.bytes_per_day:,.0f} bytes after {years} years of history vs "
                         f"{one_year.bytes_per_day:,.0f} after 1 year (x{ratio:.2f})")


def test_cycle_when_history_is_years_long_then_same_number_of_writes_as_after_one_year(one_year, long_history):
    years, long = long_history
    assert long.calls == one_year.calls


def test_history_when_years_long_then_rewriting_it_each_day_would_not_be_flat(one_year, long_history):
    # The check above can fail: the append-only files are far larger than a day's writes, and
    # rewriting them every day (the design before) would make a day cost about `years` times more.
    years, long = long_history
    assert long.history_bytes > 20 * long.bytes_per_day
    rewritten = (long.bytes_per_day + long.history_bytes) / (one_year.bytes_per_day + one_year.history_bytes)
    assert rewritten > 0.8 * years
