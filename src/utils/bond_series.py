"""Total-return index of a constant-maturity Treasury bond, derived from its published yields.

The shipped US Treasury constant-maturity (CMT) yields (``us_treasury_yields_daily.csv.gz``)
are yields, not prices. This module turns one maturity's yields into the daily total-return
index of a *constant-maturity bond rolled daily*: an approximation of a fund that always holds
a freshly issued par bond of that maturity (``UST10Y`` from the 10-year column, ``UST5Y`` from
the 5-year column). No taxes, no bid-ask spread, no fees; the CMT yield is a par-curve yield,
not the yield of one traded bond.

Derivation
----------
Let ``y_p`` be the last published yield (the previous day's) and ``y`` the next published one,
``d`` the calendar days between them and ``tau = d / 365`` years. On the earlier date the fund
buys at par (100) a bond of maturity ``M`` years paying the semi-annual coupon ``y_p`` (a par
bond's coupon equals its yield). On the later date it marks that bond to market and sells it:

* its remaining maturity is ``T = M - tau``,
* its (clean) price per 1 of face at yield ``y`` is the semi-annual annuity formula
  ``P = (c / y) * (1 - (1 + y/2) ** (-2T)) + (1 + y/2) ** (-2T)`` with ``c = y_p``
  (``P = 1 + c * T`` when ``y = 0``); ``P`` is exactly par whenever ``y = c``,
* the coupon accrued meanwhile is ``y_p * d / 365``.

The day's return is ``P + y_p * d / 365 - 1`` (exact repricing, no duration approximation):
an unchanged yield earns exactly the carry ``y_p * d / 365``; a rise in yield loses. For small
moves ``dy = y - y_p`` the return is ``-D * dy + C * dy**2 / 2 + carry`` to second order, with
``D`` and ``C`` the modified duration and convexity of a par bond of maturity ``T``
(:func:`modified_duration`, :func:`convexity`). The proceeds buy the next par bond, so the index
compounds the returns; its level is ``base`` (100) on the first published date.

The annuity formula at a fractional number of periods is the standard closed form. Discounting
the actual coupon dates instead (street convention) would change a day's return by a term of
order ``(y/2)**2 * days/365`` (about 2e-6 a day at 5%), well below the effect of the 0.01%
rounding of the published yields (about 8e-5 a day for a 10-year bond).

Gaps are never skipped silently: a date with a blank yield has no level (NaN), and the return
after it uses the last published yield and the actual calendar days elapsed (weekends and
holidays included). A span longer than ``max_gap_days`` (7) calendar days raises ``DataError``
naming the date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.errors import DataError

BASE_LEVEL = 100.0
MAX_GAP_DAYS = 7
DAYS_PER_YEAR = 365.0
SMALL_YIELD = 1e-6
# Symbol -> (yield column, maturity in years).
TREASURY_BONDS = {"UST10Y": ("10year", 10.0), "UST5Y": ("5year", 5.0)}


def _check_yield(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr) | (np.abs(arr) >= 1.0)
    if np.any(bad):
        raise DataError(f"{name}={float(arr[bad].flat[0])!r} is not a finite yield as a fraction (0.05 for 5%)")
    return arr


def _check_maturity(maturity_years) -> np.ndarray:
    arr = np.asarray(maturity_years, dtype=float)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        raise DataError(f"maturity_years={float(arr[bad].flat[0])!r} must be a positive number of years")
    return arr


def _discount(ytm: np.ndarray, maturity: np.ndarray) -> np.ndarray:
    """``(1 + y/2) ** (-2T)``, computed as an exponential for accuracy at small yields."""
    return np.exp(-2.0 * maturity * np.log1p(ytm / 2.0))


def bond_price(coupon, ytm, maturity_years, face: float = 100.0):
    """Clean price of a semi-annual coupon bond from the annuity formula.

    Parameters
    ----------
    coupon : float or array_like
        Annual coupon rate as a fraction, paid in two halves a year.
    ytm : float or array_like
        Yield to maturity as a fraction, semi-annually compounded.
    maturity_years : float or array_like
        Remaining maturity in years (need not be a whole number of half-years).
    face : float
        Face value (100 by default).

    Returns
    -------
    float or numpy.ndarray
        ``face * ((c/y) * (1 - w) + w)`` with ``w = (1 + y/2) ** (-2T)``; ``face * (1 + c*T)``
        at ``y = 0``. Equal to ``face`` whenever ``ytm == coupon``.

    Raises
    ------
    DataError
        If a rate is not a finite fraction or the maturity is not positive.
    """
    c = _check_yield("coupon", coupon)
    y = _check_yield("ytm", ytm)
    t = _check_maturity(maturity_years)
    w = _discount(y, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(y == 0.0, t, -np.expm1(-2.0 * t * np.log1p(y / 2.0)) / np.where(y == 0.0, 1.0, y))
    price = face * (c * annuity + w)
    return float(price) if price.ndim == 0 else price


def modified_duration(ytm, maturity_years):
    """Modified duration (years) of a par bond: coupon equal to ``ytm``, semi-annual.

    Parameters
    ----------
    ytm : float or array_like
        Yield (= coupon) as a fraction.
    maturity_years : float or array_like
        Remaining maturity in years.

    Returns
    -------
    float or numpy.ndarray
        ``-(dP/dy) / P = (1 - (1 + y/2) ** (-2T)) / y`` (``T`` at ``y = 0``); for 10 years at
        5% it is 7.7946.

    Raises
    ------
    DataError
        If the yield is not a finite fraction or the maturity is not positive.
    """
    y = _check_yield("ytm", ytm)
    t = _check_maturity(maturity_years)
    n = 2.0 * t
    a = y / 2.0
    small = np.abs(y) < SMALL_YIELD
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = -np.expm1(-n * np.log1p(a)) / np.where(small, 1.0, y)
    series = n / 2.0 - n * (n + 1.0) / 4.0 * a + n * (n + 1.0) * (n + 2.0) / 12.0 * a**2
    out = np.where(small, series, exact)
    return float(out) if out.ndim == 0 else out


def convexity(ytm, maturity_years):
    """Convexity (years squared) of a par bond: coupon equal to ``ytm``, semi-annual.

    Parameters
    ----------
    ytm : float or array_like
        Yield (= coupon) as a fraction.
    maturity_years : float or array_like
        Remaining maturity in years.

    Returns
    -------
    float or numpy.ndarray
        ``(d2P/dy2) / P = 2 (1 - w) / y**2 - 2T (1 + y/2) ** (-2T - 1) / y`` with
        ``w = (1 + y/2) ** (-2T)`` (``T (T + 1/2)`` at ``y = 0``).

    Raises
    ------
    DataError
        If the yield is not a finite fraction or the maturity is not positive.
    """
    y = _check_yield("ytm", ytm)
    t = _check_maturity(maturity_years)
    n = 2.0 * t
    a = y / 2.0
    small = np.abs(y) < SMALL_YIELD
    safe = np.where(small, 1.0, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        one_minus_w = -np.expm1(-n * np.log1p(a))
        exact = 2.0 * one_minus_w / safe**2 - n * np.exp(-(n + 1.0) * np.log1p(a)) / safe
    series = (n * (n + 1.0) / 4.0 - n * (n + 1.0) * (n + 2.0) / 6.0 * a
              + n * (n + 1.0) * (n + 2.0) * (n + 3.0) / 16.0 * a**2)
    out = np.where(small, series, exact)
    return float(out) if out.ndim == 0 else out


def repricing_return(prev_yield, yield_, days, maturity_years):
    """Return of buying a par bond at ``prev_yield`` and repricing it at ``yield_`` ``days`` later.

    Parameters
    ----------
    prev_yield : float or array_like
        Yield (and so the coupon) on the purchase date, as a fraction.
    yield_ : float or array_like
        Yield on the repricing date, as a fraction.
    days : int or array_like
        Calendar days held (positive).
    maturity_years : float
        Maturity of the bond when bought.

    Returns
    -------
    float or numpy.ndarray
        ``bond_price(prev_yield, yield_, M - days/365, face=1) + prev_yield * days/365 - 1``.

    Raises
    ------
    DataError
        If ``days`` is not positive or shorter than the maturity, or a yield is invalid.
    """
    d = np.asarray(days, dtype=float)
    maturity = float(_check_maturity(maturity_years))
    bad = ~np.isfinite(d) | (d <= 0) | (d / DAYS_PER_YEAR >= maturity)
    if np.any(bad):
        raise DataError(f"days={float(d[bad].flat[0])!r} must be positive and shorter than the maturity")
    tau = d / DAYS_PER_YEAR
    c = _check_yield("prev_yield", prev_yield)
    out = bond_price(c, yield_, maturity - tau, face=1.0) + c * tau - 1.0
    return float(out) if np.ndim(out) == 0 else out


def total_return_index(yields: pd.Series, maturity_years: float, *, base: float = BASE_LEVEL,
                       max_gap_days: int = MAX_GAP_DAYS) -> pd.Series:
    """Daily total-return index of a constant-maturity par bond rolled daily.

    Parameters
    ----------
    yields : pandas.Series
        Published yields as fractions on a sorted ``DatetimeIndex``; NaN where not published.
    maturity_years : float
        The constant maturity (10 for the 10-year Treasury).
    base : float
        Index level on the first published date.
    max_gap_days : int
        Longest span of calendar days between two published yields that is bridged.

    Returns
    -------
    pandas.Series
        Same index and name as ``yields``; NaN where no yield was published (before the first
        one, in gaps, after the last one), never filled.

    Raises
    ------
    DataError
        On unsorted or duplicate dates, a yield that is not a finite fraction, no published yield
        at all, or a gap longer than ``max_gap_days`` (naming the date after it).
    """
    name = yields.name if yields.name is not None else "yields"
    if not isinstance(yields.index, pd.DatetimeIndex):
        raise DataError(f"{name}: index of type {type(yields.index).__name__} is not a DatetimeIndex")
    if not yields.index.is_monotonic_increasing or yields.index.has_duplicates:
        raise DataError(f"{name}: dates are unsorted or duplicated")
    published = yields.astype(float).dropna()
    if published.empty:
        raise DataError(f"{name}: no published yield")
    values = published.to_numpy()
    bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) >= 1.0))
    if bad.size:
        date, value = published.index[bad[0]], values[bad[0]]
        raise DataError(f"{name}[{date.date()}]={float(value)!r} is not a finite yield as a fraction (0.05 for 5%)")
    days = np.diff(published.index.normalize()).astype("timedelta64[D]").astype(int)
    too_long = np.flatnonzero(days > max_gap_days)
    if too_long.size:
        i = too_long[0]
        raise DataError(f"{name}[{published.index[i + 1].date()}]: {days[i]} calendar days since the last "
                        f"published yield on {published.index[i].date()} (more than {max_gap_days})")
    returns = repricing_return(values[:-1], values[1:], days, maturity_years)
    levels = base * np.concatenate([[1.0], np.cumprod(1.0 + np.atleast_1d(returns))])
    return pd.Series(levels, index=published.index, name=name).reindex(yields.index)


def treasury_index_frame(yields: pd.DataFrame, *, base: float = BASE_LEVEL) -> pd.DataFrame:
    """``UST10Y`` and ``UST5Y`` total-return indices from a frame of CMT yields.

    Parameters
    ----------
    yields : pandas.DataFrame
        The shipped yield columns (``5year``, ``10year``, … as fractions), one row per date.
    base : float
        Index level on each series' first published date.

    Returns
    -------
    pandas.DataFrame
        Columns ``UST10Y`` and ``UST5Y`` on the yields' dates.

    Raises
    ------
    DataError
        If a needed column is missing, or as :func:`total_return_index`.
    """
    out = {}
    for symbol, (column, maturity) in TREASURY_BONDS.items():
        if column not in yields.columns:
            raise DataError(f"yields: column {column!r} (for {symbol}) is missing")
        out[symbol] = total_return_index(yields[column].rename(symbol), maturity, base=base)
    return pd.DataFrame(out, index=yields.index)
