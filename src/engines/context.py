"""The read-only input every trigger and engine receives."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from src.errors import DataError, InsufficientDataError
from src.models.decision_models import Exclusion
from src.models.risk_models import ReasonCode
from src.models.trading_models import PortfolioState


class MarketContext(BaseModel):
    """Everything a pure stage may look at: the clock, the account and past returns.

    ``returns`` holds daily returns of the allocation units (columns) on dates up to the
    event's timestamp; rows after ``timestamp`` are cut off on construction, so no stage can
    look ahead even if a caller passes a longer frame.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", frozen=True)

    timestamp: datetime = Field(description="The event's clock (never the wall clock).")
    state: PortfolioState = Field(description="Cash, holdings and prices at the event.")
    returns: pd.DataFrame = Field(description="Daily returns per unit, dates up to timestamp.")

    @field_validator("returns")
    @classmethod
    def _returns_valid(cls, value: pd.DataFrame, info) -> pd.DataFrame:
        if not isinstance(value.index, pd.DatetimeIndex):
            raise DataError("returns must be indexed by dates (a DatetimeIndex)")
        if value.index.has_duplicates or not value.index.is_monotonic_increasing:
            raise DataError("returns must have increasing, unique dates")
        data = value.to_numpy(dtype=float)
        finite = np.isfinite(data) | np.isnan(data)
        if not finite.all():
            col = value.columns[~finite.all(axis=0)][0]
            raise DataError(f"returns[{col!r}] has an infinite value")
        ts = info.data.get("timestamp")
        if ts is not None:
            cutoff = pd.Timestamp(ts).tz_localize(None) if pd.Timestamp(ts).tzinfo else pd.Timestamp(ts)
            value = value.loc[value.index <= cutoff]
        return value

    @classmethod
    def trusted(cls, timestamp: datetime, state: PortfolioState, returns: pd.DataFrame) -> "MarketContext":
        """A context over a returns frame the caller has already validated and cut at ``timestamp``.

        Backtests validate their whole returns frame once and pass a view ending at each
        decision day; re-checking every value on every day would cost more than the decision.
        """
        return cls.model_construct(timestamp=timestamp, state=state, returns=returns)

    def window(self, units: list[str], days: int) -> pd.DataFrame:
        """The last ``days`` rows of ``returns`` for ``units`` (NaN kept: callers decide)."""
        missing = [u for u in units if u not in self.returns.columns]
        if missing:
            raise DataError(f"returns has no column for units {missing}")
        return self.returns[units].iloc[-days:]

    def measured_window(self, units: list[str], days: int, who: str) -> tuple[pd.DataFrame, list[Exclusion]]:
        """Like ``complete_window`` but never raises: with no unit measurable the window is empty.

        Engines hold the units it leaves out at their configured targets (a new account is
        invested from its first day), and say so in their exclusions.
        """
        try:
            return self.complete_window(units, days, who)
        except InsufficientDataError:
            window = self.window(units, days)
            counts = window.notna().sum()
            return window[[]], [
                Exclusion(unit=u, reason_code=ReasonCode.INSUFFICIENT_HISTORY,
                          detail=f"{who}={days} needs {days} daily returns; {u} has {int(counts[u])} up to "
                                 f"{self.timestamp.date()}; held at its configured target")
                for u in units]

    def complete_window(self, units: list[str], days: int, who: str) -> tuple[pd.DataFrame, list[Exclusion]]:
        """The last ``days`` returns of the units that have all of them, and the units left out.

        A unit with a gap in its last ``days`` rows is excluded with a recorded reason; the
        window of the others is returned on the rows where all of them have returns.

        Raises
        ------
        InsufficientDataError
            If no unit has ``days`` returns up to the event (``who`` names the caller and its
            parameter in the message).
        """
        window = self.window(units, days)
        counts = window.notna().sum()
        keep = [u for u in units if len(window) == days and counts[u] == days]
        exclusions = [
            Exclusion(unit=u, reason_code=ReasonCode.INSUFFICIENT_HISTORY,
                      detail=f"{who}={days} needs {days} daily returns; {u} has {int(counts[u])} "
                             f"up to {self.timestamp.date()}")
            for u in units if u not in keep
        ]
        if not keep:
            raise InsufficientDataError(
                f"{who}={days} needs that many daily returns; no unit of {units} has them up to "
                f"{self.timestamp.date()} ({len(window)} rows available)"
            )
        return window[keep], exclusions
