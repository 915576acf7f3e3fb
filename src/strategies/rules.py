"""Simple rule-based strategies run on the shipped real prices.

Every strategy turns prices into a frame of *target weights decided at the close of day t*,
which earn the returns of day t+1 (the shift removes look-ahead). ``weights_to_returns`` then
charges a proportional cost on every change of weights. The strategies are deliberately plain,
so that their registry returns are reproducible and explainable; they are not advice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COST_BPS = 5.0  # charged per unit of one-way turnover of the target weights
TOP_N = 5


def weights_to_returns(weights: pd.DataFrame, returns: pd.DataFrame, cost_bps: float = COST_BPS) -> pd.Series:
    """Daily strategy returns from target weights (decided at t's close, earning t+1's return).

    Rows before the first row with any non-NaN weight are dropped (the warm-up), so a
    strategy's history starts when it can first decide, never with made-up zeros.
    """
    weights = weights.reindex(returns.index)
    first = weights.dropna(how="all").index.min()
    held = weights.fillna(0.0).shift(1)
    gross = (held * returns).sum(axis=1)
    turnover = weights.fillna(0.0).diff().abs().sum(axis=1).shift(1)
    net = gross - turnover * cost_bps / 10_000.0
    after_first = net.index > first
    return net[after_first].rename("return")


def _equal_weight(mask: pd.DataFrame) -> pd.DataFrame:
    counts = mask.sum(axis=1)
    weights = mask.astype(float).div(counts.where(counts > 0), axis=0)
    return weights.fillna(0.0)


def _month_ends(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    series = pd.Series(index, index=index)
    return pd.DatetimeIndex(series.groupby(index.to_period("M")).max().to_numpy())


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
