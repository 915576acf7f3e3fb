"""Loading the shipped real prices (``src/data/market/``) as tidy pandas frames.

All loaders return prices indexed by a tz-naive ``DatetimeIndex`` of trading days, one column
per symbol. Nothing is filled in: a missing file is a ``DataError``; gaps stay gaps.

Calendars differ: stocks, ETFs and bonds trade on US business days, crypto on every UTC
calendar day, and the WTI crude spot price is published on the oil market's days (its blank
holidays stay NaN); ``asset_prices`` aligns symbols with an inner join.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from src.errors import DataError
from src.utils.bond_series import total_return_index, treasury_index_frame

MARKET_DIR = Path(__file__).resolve().parents[1] / "data" / "market"

PRICE_FILES = {
    "stocks": "sp500_20_stocks_daily.csv.gz",
    "index": "sp500_index_daily.csv.gz",
    "factor_etfs": "factor_etfs_daily.csv.gz",
}
SPY_RETURNS_FILE = "spy_total_return_daily.csv.gz"
SPY_BASE_LEVEL = 100.0
CRYPTO_FILE = "crypto_daily.csv.gz"
CRYPTO_SYMBOLS = ("BTC", "ETH", "BNB", "SOL", "XRP")
TREASURY_YIELDS_FILE = "us_treasury_yields_daily.csv.gz"
# The 3-month Treasury bill rolled daily (group "bills"): the bond_series derivation at 0.25 years.
BILL_SYMBOL, BILL_COLUMN, BILL_MATURITY_YEARS = "UST3M", "3month", 0.25
# WTI crude oil spot (FRED DCOILWTICO, via the arch package): US dates, "." where not published.
WTI_FILE, WTI_COLUMN, WTI_SYMBOL = "wti_crude_daily.csv.gz", "DCOILWTICO", "WTI"
GROUPS = (*PRICE_FILES, "spy", "crypto", "bonds", "bills", "commodities")


def _read_csv(name: str, date_column: str, *, date_format: str | None = None,
              na_values: list[str] | None = None) -> pd.DataFrame:
    path = MARKET_DIR / name
    if not path.is_file():
        raise DataError(f"market data file {path} is missing")
    frame = pd.read_csv(path, parse_dates=[date_column], date_format=date_format, na_values=na_values)
    dates = pd.DatetimeIndex(frame.pop(date_column))
    if dates.tz is not None:
        dates = dates.tz_convert(None)
    frame.index = dates.normalize().rename("date")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise DataError(f"market data file {path} has unsorted or duplicate dates")
    return frame.astype(float)


@lru_cache(maxsize=None)
def _load_group(group: str) -> pd.DataFrame:
    if group == "spy":
        rets = _read_csv(SPY_RETURNS_FILE, "date")["return"]
        # Compounded total-return index: first date = base level before that day's return.
        level = SPY_BASE_LEVEL * (1.0 + rets).cumprod()
        return level.to_frame("SPY")
    if group == "crypto":
        return _crypto_columns("close")
    if group == "bonds":
        return treasury_index_frame(_treasury_yields())
    if group == "bills":
        yields = _treasury_yields()[BILL_COLUMN].rename(BILL_SYMBOL)
        return total_return_index(yields, BILL_MATURITY_YEARS).to_frame()
    if group == "commodities":
        wti = _read_csv(WTI_FILE, "Date", date_format="%m/%d/%Y", na_values=["."])
        if list(wti.columns) != [WTI_COLUMN]:
            raise DataError(f"market data file {MARKET_DIR / WTI_FILE} has columns {list(wti.columns)}, "
                            f"not [{WTI_COLUMN!r}]")
        return wti.rename(columns={WTI_COLUMN: WTI_SYMBOL})
    return _read_csv(PRICE_FILES[group], "Date")


@lru_cache(maxsize=None)
def _crypto_file() -> pd.DataFrame:
    return _read_csv(CRYPTO_FILE, "date")


def _crypto_columns(kind: str) -> pd.DataFrame:
    frame = _crypto_file()
    columns = [f"{symbol}_{kind}" for symbol in CRYPTO_SYMBOLS]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"market data file {MARKET_DIR / CRYPTO_FILE} lacks columns {missing}")
    return frame[columns].rename(columns=dict(zip(columns, CRYPTO_SYMBOLS)))


@lru_cache(maxsize=None)
def _treasury_yields() -> pd.DataFrame:
    return _read_csv(TREASURY_YIELDS_FILE, "Time Period")


def crypto_volumes() -> pd.DataFrame:
    """Daily traded volume of each crypto pair, in its base asset (BTC, ETH, …), not in USDT.

    Returns
    -------
    pandas.DataFrame
        Columns BTC, ETH, BNB, SOL, XRP on every UTC calendar day of the crypto file; NaN before
        a pair's first covered day (never filled). A copy.
    """
    return _crypto_columns("volume").copy()


def treasury_yields() -> pd.DataFrame:
    """The shipped US Treasury constant-maturity yields, as fractions (0.0783 = 7.83%).

    Returns
    -------
    pandas.DataFrame
        Columns ``1month`` … ``30year`` on the published dates; NaN where not published. A copy.
    """
    return _treasury_yields().copy()


def load_prices(group: str) -> pd.DataFrame:
    """Prices of one shipped group.

    Parameters
    ----------
    group : {"stocks", "index", "factor_etfs", "spy", "crypto", "bonds", "bills", "commodities"}
        Which file: the 20 S&P 500 stocks, the S&P 500 index, the five iShares factor ETFs,
        the SPY total-return index, the Binance daily closes in USDT (BTC, ETH, BNB, SOL, XRP;
        NaN before a pair's first covered day), the constant-maturity Treasury total-return
        indices derived from the yields (UST10Y, UST5Y; see ``src.utils.bond_series``), the
        3-month Treasury bill rolled daily (UST3M: the same derivation on the 3-month yields,
        maturity 0.25 years), or the WTI crude oil spot price in USD a barrel (WTI: a spot price,
        not a futures fund's total return; NaN on the days it was not published).

    Returns
    -------
    pandas.DataFrame
        A copy, so callers may modify it freely.
    """
    if group not in GROUPS:
        raise DataError(f"group={group!r} is not one of {sorted(GROUPS)}")
    return _load_group(group).copy()


@lru_cache(maxsize=None)
def _symbol_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for group in GROUPS:
        for symbol in _load_group(group).columns:
            if symbol in index:
                raise DataError(f"symbol {symbol!r} is in both groups {index[symbol]!r} and {group!r}")
            index[symbol] = group
    return index


def available_symbols() -> list[str]:
    """Every plain-asset symbol with shipped prices."""
    return sorted(_symbol_index())


def asset_prices(symbols: list[str]) -> pd.DataFrame:
    """Prices of ``symbols`` on the dates where all of them trade (inner join, no filling).

    Raises
    ------
    DataError
        If a symbol has no shipped prices.
    """
    index = _symbol_index()
    unknown = [s for s in symbols if s not in index]
    if unknown:
        raise DataError(f"symbols {unknown} have no shipped prices (known: {sorted(index)})")
    columns = [_load_group(index[s])[s].dropna() for s in symbols]
    return pd.concat(columns, axis=1, join="inner")


def simple_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns; the first row (no previous price) is dropped.

    Raises
    ------
    DataError
        If a price is missing, non-positive or not finite.
    """
    values = prices.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        bad = prices.columns[~(np.isfinite(values) & (values > 0)).all(axis=0)].tolist()
        raise DataError(f"prices of {bad} have missing, non-positive or non-finite values")
    return prices.pct_change().iloc[1:]


def listed_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns of symbols that start at different dates (the crypto file).

    Like ``simple_returns``, but a column may start with NaN (a coin not listed yet, or not
    covered): its returns stay NaN until the day after its first price, never filled. The first
    row (no previous price) is dropped.

    Raises
    ------
    DataError
        If a price after a column's first one is missing, or a price is non-positive or not finite.
    """
    values = prices.to_numpy(dtype=float)
    started = np.logical_or.accumulate(~np.isnan(values), axis=0)
    bad = started & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        raise DataError(f"prices of {prices.columns[bad.any(axis=0)].tolist()} have missing, non-positive or "
                        f"non-finite values after their first price")
    return prices.pct_change(fill_method=None).iloc[1:]
