"""Market data of a live exchange account: prices from its tickers, returns from its daily candles.

Read-only calls only (``fetch_tickers``, ``fetch_ohlcv``), through the broker's retried,
translated call path. The last daily candle is the day in progress: its close is the last
price, so it is left out of the returns (a partial day is not a daily return).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from src.brokers.markets import unit_symbol
from src.errors import DataError, UnknownUnitError
from src.market.data import MarketData

if TYPE_CHECKING:
    from src.brokers.ccxt_broker import CcxtBroker


class LiveMarketData(MarketData):
    """Prices and daily returns of the portfolio's units on the broker's exchange.

    Parameters
    ----------
    broker : CcxtBroker
        The exchange account (its markets define the known units).
    history_days : int
        Daily candles fetched per unit (enough for the engine's and the risk stage's lookbacks).
    """

    def __init__(self, broker: "CcxtBroker", history_days: int = 400) -> None:
        self.broker = broker
        self.history_days = history_days
        self._closes: dict[str, pd.Series] = {}

    def _check(self, units: list[str]) -> None:
        unknown = [u for u in units if u not in self.broker.rules.markets]
        if unknown:
            raise UnknownUnitError(f"{unknown} are not markets of {self.broker.settings.id} in {self.broker.quote}")

    def prices_at(self, moment: datetime, units: list[str]) -> dict[str, float]:
        self._check(units)
        return self.broker.prices(units)

    def _daily_closes(self, unit: str) -> pd.Series:
        if unit not in self._closes:
            symbol = unit_symbol(unit, self.broker.quote)
            candles = self.broker.calls.read("fetch_ohlcv", self.broker.exchange.fetch_ohlcv, symbol, "1d", None,
                                             self.history_days + 1)
            if len(candles) < 2:
                raise DataError(f"fetch_ohlcv: {self.broker.settings.id} gave {len(candles)} daily candle(s) of {symbol}")
            frame = pd.DataFrame(candles[:-1], columns=["time", "open", "high", "low", "close", "volume"])
            index = pd.to_datetime(frame["time"], unit="ms").dt.tz_localize(None).dt.normalize()
            self._closes[unit] = pd.Series(frame["close"].astype(float).to_numpy(), index=index, name=unit)
        return self._closes[unit]

    def returns_until(self, moment: datetime, units: list[str]) -> pd.DataFrame:
        self._check(units)
        closes = pd.concat([self._daily_closes(u) for u in units], axis=1, join="inner")
        closes = closes[closes.index <= pd.Timestamp(moment)]
        return closes.pct_change().iloc[1:]

    def trading_days(self, units: list[str]) -> pd.DatetimeIndex:
        self._check(units)
        return pd.DatetimeIndex(pd.concat([self._daily_closes(u) for u in units], axis=1, join="inner").index)
