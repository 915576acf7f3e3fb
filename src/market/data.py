"""Market data for the runtime: unit prices at an instant and daily returns up to it.

``HistoricalMarketData`` serves the shipped real data for any unit: a plain asset's price is
its shipped price; a strategy sleeve's price is its net asset value per unit, 100 before its
first registry return and compounded daily from the registry returns. A price is served only
if the unit has data on or shortly before the instant (``max_staleness_days``); nothing is
carried forward further or made up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Optional

import pandas as pd

from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.errors import DataError, UnknownUnitError
from src.utils.market_data import asset_prices, available_symbols

SLEEVE_BASE_NAV = 100.0


class MarketData(ABC):
    """What the agent and the paper broker need from a market-data source."""

    @abstractmethod
    def prices_at(self, moment: datetime, units: list[str]) -> dict[str, float]:
        """Latest price of each unit at ``moment``; ``DataError`` naming a missing one."""

    @abstractmethod
    def returns_until(self, moment: datetime, units: list[str]) -> pd.DataFrame:
        """Daily returns of ``units`` on their common dates up to ``moment``."""

    @abstractmethod
    def trading_days(self, units: list[str]) -> pd.DatetimeIndex:
        """The days on which every one of ``units`` has data (for replays)."""


CRYPTO_QUOTE = "USDT"  # the shipped crypto closes are Binance USDT pairs


class HistoricalMarketData(MarketData):
    """The shipped real prices and the registry's sleeve returns.

    Parameters
    ----------
    registry : StrategyRegistryAgent, optional
        Source of the strategy sleeves' returns (the shipped registry by default).
    max_staleness_days : int
        How many calendar days after a unit's last data point its price is still served.
    """

    def __init__(self, registry: Optional[StrategyRegistryAgent] = None, max_staleness_days: int = 5) -> None:
        self.registry = registry if registry is not None else StrategyRegistryAgent()
        self.max_staleness_days = max_staleness_days
        self._series: dict[str, pd.Series] = {}
        self._frames: dict[tuple[str, ...], pd.DataFrame] = {}  # price frames, and ("returns", ...) frames
        self._symbols = set(available_symbols())

    def reload(self, registry: StrategyRegistryAgent) -> None:
        """Forget cached series (after a registry performance update)."""
        self.registry = registry
        self._series.clear()
        self._frames.clear()

    def price_series(self, unit: str) -> pd.Series:
        """The whole price history of one unit."""
        if unit not in self._series:
            if self.registry.has_strategy(unit):
                returns = self.registry.returns_series(unit)
                self._series[unit] = (SLEEVE_BASE_NAV * (1.0 + returns).cumprod()).rename(unit)
            elif unit in self._symbols:
                self._series[unit] = asset_prices([unit])[unit]
            elif unit.endswith(f"/{CRYPTO_QUOTE}") and unit.split("/")[0] in self._symbols:
                # An exchange symbol of a shipped crypto close ("BTC/USDT"): the same USDT prices as "BTC".
                self._series[unit] = asset_prices([unit.split("/")[0]])[unit.split("/")[0]].rename(unit)
            else:
                raise UnknownUnitError(f"unit {unit!r} is neither a registered strategy nor a symbol with prices")
        return self._series[unit]

    def prices_at(self, moment: datetime, units: list[str]) -> dict[str, float]:
        stamp = pd.Timestamp(moment)
        out = {}
        for unit in units:
            series = self.price_series(unit)
            pos = series.index.searchsorted(stamp, side="right") - 1
            if pos < 0:
                raise DataError(f"prices[{unit!r}]: no price on or before {stamp.date()} (data starts {series.index[0].date()})")
            day = series.index[pos]
            if (stamp.normalize() - day).days > self.max_staleness_days:
                raise DataError(f"prices[{unit!r}]: latest price is from {day.date()}, more than "
                                f"{self.max_staleness_days} days before {stamp.date()}")
            out[unit] = float(series.iloc[pos])
        return out

    def _frame(self, units: list[str]) -> pd.DataFrame:
        key = tuple(units)
        if key not in self._frames:
            self._frames[key] = pd.concat([self.price_series(u) for u in units], axis=1, join="inner")
        return self._frames[key]

    def price_frame(self, units: list[str]) -> pd.DataFrame:
        """Prices of ``units`` on the days all of them have one (inner join, nothing filled)."""
        return self._frame(list(units)).copy()

    def returns_until(self, moment: datetime, units: list[str]) -> pd.DataFrame:
        # Returns are computed once per set of units and sliced per cycle, not recomputed on the
        # whole history at every check.
        key = ("returns", *units)
        if key not in self._frames:
            self._frames[key] = self._frame(units).pct_change().iloc[1:]
        return self._frames[key].loc[: pd.Timestamp(moment)]

    def trading_days(self, units: list[str]) -> pd.DatetimeIndex:
        return self._frame(units).index


def latest_trading_day(market: MarketData, units: list[str], days: Optional[pd.DatetimeIndex] = None) -> datetime:
    """The last day ``market`` has data for all ``units``: paper mode's default 'now'."""
    days = market.trading_days(units) if days is None else days
    if len(days) == 0:
        raise DataError(f"units {units} have no common trading day")
    return days[-1].to_pydatetime()
