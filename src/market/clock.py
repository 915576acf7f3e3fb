"""Clocks: the only place the runtime learns what time it is.

Engines, triggers and risk checks never read a clock; the agent asks its injected clock once
per cycle and passes the timestamp down. Live trading uses ``SystemClock``; replays and
backtests step a ``ReplayClock`` through trading days; tests use ``FixedClock``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timezone

import pandas as pd


class Clock(ABC):
    """Source of the current time (naive datetimes, UTC for the system clock)."""

    @abstractmethod
    def now(self) -> datetime:
        """The current time of this clock."""


class SystemClock(Clock):
    """Wall-clock time in UTC (naive), for live trading."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(tzinfo=None)


class FixedClock(Clock):
    """A clock that shows whatever it was last set to."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        """Move the clock (forwards or backwards)."""
        self.moment = moment


class ReplayClock(Clock):
    """Steps through a fixed list of trading days, one ``advance()`` at a time.

    Parameters
    ----------
    days : pandas.DatetimeIndex
        The trading days to replay, in order.
    """

    def __init__(self, days: pd.DatetimeIndex) -> None:
        if len(days) == 0:
            raise ValueError("days is empty: a replay needs at least one trading day")
        self.days = pd.DatetimeIndex(days)
        self.position = 0

    def now(self) -> datetime:
        return self.days[self.position].to_pydatetime()

    def advance(self) -> bool:
        """Move to the next trading day; False (and no move) at the end."""
        if self.position + 1 >= len(self.days):
            return False
        self.position += 1
        return True

    def seek_after(self, moment: datetime) -> bool:
        """Move to the first day strictly after ``moment``; False if there is none."""
        later = self.days.searchsorted(pd.Timestamp(moment), side="right")
        if later >= len(self.days):
            return False
        self.position = int(later)
        return True
