"""Simple rule-based strategies run on the shipped real prices.

Every strategy turns prices into a frame of *target weights decided at the close of day t*,
which earn the returns of day t+1 (the shift removes look-ahead). ``weights_to_returns`` then
charges a proportional cost on every change of weights. A row of weights is a decision; an
all-NaN row after the first decision is none: the holdings drift with their prices until the
next decision (a portfolio rebalanced periodically, not every day). The strategies are
deliberately plain, so that their registry returns are reproducible and explainable; they are
not advice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.errors import DataError

COST_BPS = 5.0  # charged per unit of one-way turnover of the target weights
TOP_N = 5


def weights_to_returns(weights: pd.DataFrame, returns: pd.DataFrame, cost_bps: float = COST_BPS) -> pd.Series:
    """Daily strategy returns from target weights (decided at t's close, earning t+1's return).

    Parameters
    ----------
    weights : pandas.DataFrame
        Target weights per day and symbol (NaN within a decided row: 0). An all-NaN row after
        the first decision means no trade: the holdings drift with their returns, and the next
        decision pays the cost of trading back from the drifted weights.
    returns : pandas.DataFrame
        Daily simple returns of the same symbols (NaN where a symbol has no price yet).
    cost_bps : float
        Cost per unit of one-way turnover, charged in the return of the day after the trade.

    Returns
    -------
    pandas.Series
        Net daily returns. Rows up to the first decision are dropped (the warm-up), so a
        strategy's history starts when it can first decide, never with made-up zeros.

    Raises
    ------
    DataError
        If a weight is held over a day whose return is missing (never filled with 0).
    """
    weights = weights.reindex(returns.index)
    decided = weights.notna().any(axis=1)
    first = weights.index[decided.to_numpy()].min()
    if not decided[weights.index >= first].all():
        return _drifting_returns(weights, returns, first, cost_bps)
    held = weights.fillna(0.0).shift(1)
    _check_priced(held, returns)
    gross = (held * returns).sum(axis=1)
    turnover = weights.fillna(0.0).diff().abs().sum(axis=1).shift(1)
    net = gross - turnover * cost_bps / 10_000.0
    after_first = net.index > first
    return net[after_first].rename("return")


def _unpriced(day: pd.Timestamp, symbols: list[str]) -> DataError:
    return DataError(f"returns on {day.date()} are missing for held {symbols} "
                     f"(a held weight is never given a 0 return)")


def _check_priced(held: pd.DataFrame, returns: pd.DataFrame) -> None:
    missing = (held.reindex(columns=returns.columns).fillna(0.0) != 0.0) & returns.isna()
    if missing.to_numpy().any():
        row = missing[missing.any(axis=1)].iloc[0]
        raise _unpriced(row.name, row.index[row.to_numpy()].tolist())


def _drifting_returns(weights: pd.DataFrame, returns: pd.DataFrame, first: pd.Timestamp, cost_bps: float) -> pd.Series:
    """``weights_to_returns`` when some rows are no decision: holdings drift between decisions."""
    target = weights.reindex(columns=returns.columns).to_numpy(dtype=float)
    r = returns.to_numpy(dtype=float)
    held = np.zeros(r.shape[1])
    net = np.zeros(len(r))
    cost = 0.0  # of the previous close's trade, charged in today's return
    for t in range(len(r)):
        owned = held != 0.0
        if np.isnan(r[t, owned]).any():
            raise _unpriced(returns.index[t], returns.columns[owned & np.isnan(r[t])].tolist())
        gross = float(held[owned] @ r[t, owned])
        net[t] = gross - cost
        if owned.any():  # the day's moves shift the weights (cash earns 0)
            held = held * (1.0 + np.nan_to_num(r[t])) / (1.0 + gross)
        cost = 0.0
        if not np.isnan(target[t]).all():
            new = np.nan_to_num(target[t])
            cost = float(np.abs(new - held).sum()) * cost_bps / 10_000.0
            held = new
    out = pd.Series(net, index=returns.index, name="return")
    return out[out.index > first]


def _equal_weight(mask: pd.DataFrame) -> pd.DataFrame:
    counts = mask.sum(axis=1)
    weights = mask.astype(float).div(counts.where(counts > 0), axis=0)
    return weights.fillna(0.0)


def _period_ends(index: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """The last day of ``index`` in each period (``"M"`` months, ``"W"`` weeks ending Sunday)."""
    series = pd.Series(index, index=index)
    return pd.DatetimeIndex(series.groupby(index.to_period(freq)).max().to_numpy())


def _month_ends(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return _period_ends(index, "M")


def _hold_between(decisions: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Keep each month-end decision until the next one."""
    return decisions.reindex(index).ffill()


def buy_and_hold(prices: pd.DataFrame) -> pd.DataFrame:
    """Fully invested in the single column of ``prices`` from the first day."""
    return pd.DataFrame(1.0, index=prices.index, columns=prices.columns)


def sma_crossover(prices: pd.DataFrame, fast: int = 50, slow: int = 200) -> pd.DataFrame:
    """Long the index while its fast SMA is above its slow SMA, in cash otherwise."""
    fast_ma = prices.rolling(fast).mean()
    slow_ma = prices.rolling(slow).mean()
    weights = (fast_ma > slow_ma).astype(float)
    return weights.where(slow_ma.notna())


def rsi(prices: pd.DataFrame, period: int = 14) -> pd.DataFrame:
    """Wilder's relative strength index (0-100)."""
    change = prices.diff()
    gain = change.clip(lower=0.0).ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
    loss = (-change.clip(upper=0.0)).ewm(alpha=1.0 / period, adjust=False, min_periods=period).mean()
    strength = gain / loss.where(loss > 0)
    out = 100.0 - 100.0 / (1.0 + strength)
    return out.where(loss > 0, 100.0).where(gain.notna())


def rsi_mean_reversion(prices: pd.DataFrame, period: int = 14, entry: float = 30.0, exit_: float = 50.0) -> pd.DataFrame:
    """Buy a stock when its RSI falls below ``entry``; sell when it rises above ``exit_``.

    Equal weight across the stocks held; cash when none is held.
    """
    values = rsi(prices, period).to_numpy()
    held = np.zeros(values.shape, dtype=bool)
    state = np.zeros(values.shape[1], dtype=bool)
    for t in range(values.shape[0]):
        row = values[t]
        state = np.where(row < entry, True, np.where(row > exit_, False, state))
        state &= ~np.isnan(row)
        held[t] = state
    mask = pd.DataFrame(held, index=prices.index, columns=prices.columns)
    weights = _equal_weight(mask)
    return weights.where(pd.Series(~np.isnan(values).all(axis=1), index=prices.index), axis=0)


def macd_trend(prices: pd.DataFrame, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """Hold each stock while its MACD line is above its signal line; equal weight across them."""
    macd = prices.ewm(span=fast, adjust=False).mean() - prices.ewm(span=slow, adjust=False).mean()
    signal_line = macd.ewm(span=signal, adjust=False).mean()
    weights = _equal_weight(macd > signal_line)
    warm = pd.Series(np.arange(len(prices)) >= slow + signal, index=prices.index)
    return weights.where(warm, axis=0)


def cross_sectional_momentum(prices: pd.DataFrame, lookback: int = 252, skip: int = 21, top: int = TOP_N) -> pd.DataFrame:
    """Each month end, hold the ``top`` stocks with the best 12-1 month return."""
    score = prices.shift(skip) / prices.shift(lookback) - 1.0
    ends = _month_ends(prices.index)
    ranks = score.loc[ends].rank(axis=1, ascending=False)
    decisions = _equal_weight(ranks <= top).where(score.loc[ends].notna().any(axis=1), axis=0)
    return _hold_between(decisions, prices.index)


def low_volatility(prices: pd.DataFrame, window: int = 60, top: int = TOP_N) -> pd.DataFrame:
    """Each month end, hold the ``top`` stocks with the lowest 60-day volatility."""
    vol = prices.pct_change().rolling(window).std()
    ends = _month_ends(prices.index)
    ranks = vol.loc[ends].rank(axis=1, ascending=True)
    decisions = _equal_weight(ranks <= top).where(vol.loc[ends].notna().any(axis=1), axis=0)
    return _hold_between(decisions, prices.index)


def sma_trend(prices: pd.DataFrame, window: int = 200) -> pd.DataFrame:
    """Hold each column while its close is above its ``window``-day SMA, cash otherwise.

    Equal weight across the columns held (one column: fully in or out). Decided every day; NaN
    until a column has ``window`` prices (a coin not listed yet, or the warm-up).
    """
    sma = prices.rolling(window).mean()
    weights = _equal_weight(prices > sma)
    return weights.where(sma.notna().any(axis=1), axis=0)


def equal_weight_listed(prices: pd.DataFrame, weekday: int = 6) -> pd.DataFrame:
    """Every week on ``weekday`` (0 Monday .. 6 Sunday), equal weight across the columns priced that day.

    In between, no decision (all-NaN rows): the holdings drift with their prices, so the
    strategy trades once a week, back to equal weight. A column joins at the first decision
    on or after its first price; nothing is held before the first decision day.
    """
    days = prices.index[prices.index.day_of_week == weekday]
    decisions = _equal_weight(prices.loc[days].notna())
    decisions = decisions[prices.loc[days].notna().any(axis=1)]
    return decisions.reindex(prices.index)
