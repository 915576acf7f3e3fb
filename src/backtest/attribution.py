"""Performance attribution: which unit earned what, linked over time with Carino (1999).

Each day ``t`` the arithmetic contribution of unit ``i`` is ``c_{i,t} = w_{i,t} * r_{i,t}``
(``w`` the unit's weight of total value at the start of the day, ``r`` its simple return that
day). Cash contributes ``w_cash * 0`` unless a ``"cash"`` return column is given. What the
units do not explain, ``R_t - sum_i c_{i,t}`` (``R_t`` the portfolio's actual time-weighted
return: fees, slippage, trades within the day), is the line ``"trading_and_fees"``.

Daily lines are linked with Carino's logarithmic coefficients,
``k_t = ln(1 + R_t) / R_t`` and ``K = ln(1 + R) / R`` with ``R = prod(1 + R_t) - 1``; the
linked line of ``i`` is ``sum_t c_{i,t} * k_t / K``. Since the lines of a day add up to
``R_t``, the linked lines add up to ``sum_t ln(1 + R_t) / K = R``: exactly the compounded
return (up to floating-point rounding). ``ln(1 + x) / x`` tends to 1 as ``x`` tends to 0, so
``k_t = 1`` on a flat day and ``K = 1`` when the total return is 0.
"""

from __future__ import annotations

import logging
import math
from datetime import date

import numpy as np
import pandas as pd
from pydantic import Field

from src.errors import DataError, InsufficientDataError
from src.models.base import StrictModel
from src.models.execution_models import ValuePoint
from src.utils.portfolio_metrics import daily_twr_returns

log = logging.getLogger(__name__)

CASH = "cash"
RESIDUAL = "trading_and_fees"
METHOD = "carino_1999_log_linking"


class Attribution(StrictModel):
    """The portfolio's compounded return split into one line per unit plus trading and fees."""

    total_return: float = Field(description="Compounded time-weighted return prod(1 + R_t) - 1 over the period.")
    contributions: dict[str, float] = Field(
        description="Linked contribution per unit (and 'cash' when weights has a cash column), plus 'trading_and_fees' "
        "(portfolio return not explained by the units); the lines sum to total_return."
    )
    start: date = Field(description="First day whose return is attributed.")
    end: date = Field(description="Last day whose return is attributed.")
    method: str = Field(description="How daily contributions were linked: 'carino_1999_log_linking'.")
    days: int = Field(ge=1, description="Number of daily returns attributed.")


def _log_ratio(x: np.ndarray) -> np.ndarray:
    """``ln(1 + x) / x`` elementwise, with its limit 1 where ``x == 0``."""
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.log1p(safe) / safe)


def _day(stamp: pd.Timestamp) -> str:
    return stamp.date().isoformat()


def _check_index(name: str, index: pd.Index, reference: pd.Index) -> None:
    if not index.equals(reference):
        if len(index) != len(reference):
            raise DataError(f"{name}.index has {len(index)} rows but weights.index has {len(reference)}")
        pos = int(np.flatnonzero(index != reference)[0])
        raise DataError(f"{name}.index[{pos}]={index[pos]} differs from weights.index[{pos}]={reference[pos]}")


def _validate(weights: pd.DataFrame, unit_returns: pd.DataFrame, portfolio_returns: pd.Series) -> None:
    for name, obj, kind in [("weights", weights, pd.DataFrame), ("unit_returns", unit_returns, pd.DataFrame),
                            ("portfolio_returns", portfolio_returns, pd.Series)]:
        if not isinstance(obj, kind):
            raise DataError(f"{name} must be a pandas {kind.__name__}, got {type(obj).__name__}")
    index = weights.index
    if len(index) == 0:
        raise InsufficientDataError("weights has 0 rows; attribution needs >= 1 day")
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(f"weights.index must be a DatetimeIndex, got {type(index).__name__}")
    steps = np.flatnonzero(np.diff(index.asi8) <= 0)
    if steps.size:
        raise DataError(f"weights.index[{steps[0] + 1}]={index[steps[0] + 1]} does not follow "
                        f"{index[steps[0]]}; days must be strictly increasing")
    _check_index("unit_returns", unit_returns.index, index)
    _check_index("portfolio_returns", portfolio_returns.index, index)
    for name, frame in [("weights", weights), ("unit_returns", unit_returns)]:
        if frame.columns.has_duplicates or not all(isinstance(c, str) for c in frame.columns):
            raise DataError(f"{name}.columns={list(frame.columns)} must be distinct unit names (strings)")
    if RESIDUAL in weights.columns:
        raise DataError(f"weights.columns has {RESIDUAL!r}, a name reserved for the residual line")
    missing = [u for u in weights.columns if u != CASH and u not in unit_returns.columns]
    if missing:
        raise DataError(f"unit_returns has no column for unit {missing[0]!r} (units without returns: {missing})")
    w = weights.to_numpy(dtype=float)
    if not np.all(np.isfinite(w)):
        row, col = (int(a[0]) for a in np.nonzero(~np.isfinite(w)))
        raise DataError(f"weights[{weights.columns[col]!r}] on {_day(index[row])} is {w[row, col]}, not finite")
    r_p = portfolio_returns.to_numpy(dtype=float)
    bad = ~np.isfinite(r_p) | (r_p <= -1.0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"portfolio_returns on {_day(index[row])} is {r_p[row]}; must be finite and > -1")


def _unit_matrix(weights: pd.DataFrame, unit_returns: pd.DataFrame) -> np.ndarray:
    """Daily contributions, one column per weights column (cash earns 0 without a return column)."""
    columns = []
    for unit in weights.columns:
        w = weights[unit].to_numpy(dtype=float)
        if unit == CASH and CASH not in unit_returns.columns:
            columns.append(np.zeros_like(w))
            continue
        r = unit_returns[unit].to_numpy(dtype=float)
        bad = (w != 0.0) & (~np.isfinite(r) | (r < -1.0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"unit_returns[{unit!r}] on {_day(weights.index[row])} is {r[row]} where the unit "
                            f"had weight {w[row]}; must be finite and >= -1")
        columns.append(np.where(w != 0.0, w * np.where(np.isfinite(r), r, 0.0), 0.0))
    return np.column_stack(columns) if columns else np.zeros((len(weights), 0))


def performance_attribution(weights: pd.DataFrame, unit_returns: pd.DataFrame,
                            portfolio_returns: pd.Series) -> Attribution:
    """Attribute the portfolio's compounded return to its units, plus trading and fees.

    Method: each day the contribution of a unit is ``w_{i,t} * r_{i,t}``; cash contributes its
    weight times 0 (times its return if ``unit_returns`` has a ``"cash"`` column); the day's
    residual ``R_t - sum_i w_{i,t} * r_{i,t}`` is the line ``"trading_and_fees"``. Days are
    linked with Carino (1999) coefficients ``k_t = ln(1 + R_t) / R_t`` over
    ``K = ln(1 + R) / R`` (both 1 in the zero-return limit), so the lines sum to
    ``R = prod(1 + R_t) - 1`` up to floating-point rounding.

    Parameters
    ----------
    weights : pandas.DataFrame
        One row per day (a strictly increasing ``DatetimeIndex``), one column per unit plus an
        optional ``"cash"`` column: each unit's weight of total value at the START of the day.
    unit_returns : pandas.DataFrame
        Each unit's simple return that day; the same index as ``weights``. It needs a column
        for every unit of ``weights`` (``"cash"`` excepted); extra columns are ignored. A
        missing (NaN) return is allowed only where the unit's weight is 0.
    portfolio_returns : pandas.Series
        The portfolio's actual daily time-weighted return (after fees); the same index.

    Returns
    -------
    Attribution
        ``contributions`` has one line per column of ``weights`` plus ``"trading_and_fees"``.

    Raises
    ------
    InsufficientDataError
        If there are no days.
    DataError
        If an input is not a frame/series, the indexes differ (nothing is reindexed), a weight
        or a portfolio return is not finite, a portfolio return is -100% or worse, or a
        weighted unit has no finite return that day.
    """
    _validate(weights, unit_returns, portfolio_returns)
    r_p = portfolio_returns.to_numpy(dtype=float)
    daily = _unit_matrix(weights, unit_returns)
    residual = r_p - daily.sum(axis=1)
    total = float(np.prod(1.0 + r_p) - 1.0)
    scale = _log_ratio(r_p) / float(_log_ratio(np.array([total]))[0])
    lines = {unit: math.fsum(daily[:, j] * scale) for j, unit in enumerate(weights.columns)}
    lines[RESIDUAL] = math.fsum(residual * scale)
    log.debug("attribution over %d days: total %.6f, trading_and_fees %.6f", len(r_p), total, lines[RESIDUAL])
    return Attribution(total_return=total, contributions=lines, start=weights.index[0].date(),
                       end=weights.index[-1].date(), method=METHOD, days=len(r_p))


def _period_returns(unit_returns: pd.DataFrame, held: pd.DataFrame, prevs: pd.DatetimeIndex) -> pd.DataFrame:
    """Each unit's daily returns compounded over ``(prevs[k], held.index[k]]``, 0 where not held.

    Raises ``DataError`` for the first day (then unit) held without a return on the day itself
    or on any day of its span.
    """
    days = pd.DatetimeIndex(held.index)
    known = [u for u in held.columns if u in unit_returns.columns]
    rows = unit_returns.index
    pos = days.searchsorted(rows, side="left")
    inside = pos < len(days)
    inside[inside] &= rows[inside] > prevs[pos[inside]]
    span = unit_returns.loc[inside, known]
    labels = days[pos[inside]]
    growth = (1.0 + span).groupby(labels).prod().reindex(days, fill_value=1.0) - 1.0
    gaps = span.isna().groupby(labels).any().reindex(days, fill_value=False)
    missing = np.zeros(held.shape, dtype=bool)
    missing[:, [j for j, u in enumerate(held.columns) if u not in known]] = True
    missing[~days.isin(rows), :] = True
    missing[:, [held.columns.get_loc(u) for u in known]] |= gaps.to_numpy(dtype=bool)
    missing &= held.to_numpy() != 0.0
    if missing.any():
        row, col = (int(a[0]) for a in np.nonzero(missing))
        day, unit = days[row], held.columns[col]
        when = day
        if unit in known and day in rows:
            own = span[unit][labels == day]
            when = own.index[own.isna()][0]
        raise DataError(f"unit_returns has no return of {unit!r} on {_day(when)}, "
                        f"where it had weight {held.iat[row, col]}")
    out = pd.DataFrame(0.0, index=held.index, columns=held.columns)
    out[known] = growth[known].to_numpy()
    return out.where(held != 0.0, 0.0)


def attribution_from_history(history: list[ValuePoint], unit_returns: pd.DataFrame) -> Attribution:
    """Attribute the agent's own time-weighted return (its value history) to its units.

    The daily returns are ``daily_twr_returns(history)``: the last point of each calendar day
    is its close and ``(V_t - F_t) / V_{t-1} - 1`` removes deposits and withdrawals. The
    start-of-day weights of day ``t`` are the weights (after trades) of the previous day's
    close, with cash at ``cash / value`` (cash earns 0 here). A unit's return over ``(previous day, t]`` is its
    daily returns compounded, so a day the agent did not run is not mistaken for trading.

    Parameters
    ----------
    history : list of ValuePoint
        The agent's value points, oldest first (``AgentState.history``).
    unit_returns : pandas.DataFrame
        Daily simple returns of the units (``DatetimeIndex`` of days, one column per unit),
        covering every day of ``history`` after the first; extra rows and columns are ignored.

    Returns
    -------
    Attribution

    Raises
    ------
    InsufficientDataError
        If ``history`` has fewer than 2 points (or fewer than 2 days).
    DataError
        If a unit held on a day has no return in ``unit_returns`` for that day.
    """
    if len(history) < 2:
        raise InsufficientDataError(f"history has {len(history)} point(s); attribution needs >= 2")
    if not isinstance(unit_returns, pd.DataFrame) or not isinstance(unit_returns.index, pd.DatetimeIndex):
        raise DataError(f"unit_returns must be a DataFrame indexed by days, got {type(unit_returns).__name__}")
    steps = np.flatnonzero(np.diff(unit_returns.index.asi8) <= 0)
    if steps.size:
        raise DataError(f"unit_returns.index[{steps[0] + 1}]={unit_returns.index[steps[0] + 1]} does not "
                        f"follow {unit_returns.index[steps[0]]}; days must be strictly increasing")
    if any(CASH in p.weights for p in history):
        raise DataError(f"history weights name a unit {CASH!r}, which is reserved for cash")
    r_p = daily_twr_returns(history)
    if r_p.empty:
        raise InsufficientDataError(f"history spans {len(history)} point(s) but no day-to-day return")
    rows = [{**p.weights, CASH: p.cash / p.value if p.value > 0 else 0.0} for p in history]
    closes = pd.DataFrame(rows, index=pd.DatetimeIndex([p.timestamp for p in history]).normalize())
    closes = closes.fillna(0.0).groupby(level=0).last()
    start_weights = closes.shift(1).loc[r_p.index]
    prevs = closes.index[closes.index.get_indexer(r_p.index) - 1]
    periods = _period_returns(unit_returns, start_weights.drop(columns=CASH), prevs)
    return performance_attribution(start_weights, periods, r_p)
