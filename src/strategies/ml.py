"""A walk-forward ridge-regression stock selector ("ml_strategy").

At each month end it fits a ridge regression, pooled over the 20 stocks, of the next 21-day
return (cross-sectionally demeaned) on four standardised features (5-, 21- and 63-day past
returns and 21-day volatility), using only the trailing three years of samples whose 21-day
target had fully happened by the fit date. It then holds the ``top`` stocks with the highest
prediction, equal weight, until the next month end. Deterministic: no random state anywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.strategies.rules import TOP_N, _equal_weight, _hold_between, _month_ends

HORIZON = 21
TRAIN_DAYS = 756
RIDGE_ALPHA = 1.0


def _zscore_rows(frame: pd.DataFrame) -> pd.DataFrame:
    mean = frame.mean(axis=1)
    std = frame.std(axis=1).where(lambda s: s > 0)
    return frame.sub(mean, axis=0).div(std, axis=0)


def _features(prices: pd.DataFrame) -> list[pd.DataFrame]:
    daily = prices.pct_change()
    return [
        _zscore_rows(prices / prices.shift(5) - 1.0),
        _zscore_rows(prices / prices.shift(21) - 1.0),
        _zscore_rows(prices / prices.shift(63) - 1.0),
        _zscore_rows(daily.rolling(21).std()),
    ]


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float = RIDGE_ALPHA) -> np.ndarray:
    """Closed-form ridge coefficients (with an unpenalised intercept as the last entry)."""
    design = np.column_stack([x, np.ones(len(x))])
    penalty = alpha * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    return np.linalg.solve(design.T @ design + penalty, design.T @ y)


def ml_selector(prices: pd.DataFrame, top: int = TOP_N) -> pd.DataFrame:
    """Month-end ridge-regression stock selection, held until the next month end."""
    feats = _features(prices)
    future = prices.shift(-HORIZON) / prices - 1.0
    target = future.sub(future.mean(axis=1), axis=0)
    positions = {d: i for i, d in enumerate(prices.index)}
    decisions = {}
    for end in _month_ends(prices.index):
        i = positions[end]
        # Only samples whose target window closed on or before the fit date: no look-ahead.
        lo, hi = max(0, i - TRAIN_DAYS), i - HORIZON
        if hi - lo < TRAIN_DAYS // 2:
            continue
        x = np.stack([f.iloc[lo:hi].to_numpy().ravel() for f in feats], axis=1)
        y = target.iloc[lo:hi].to_numpy().ravel()
        ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
        if ok.sum() < 100:
            continue
        coef = ridge_fit(x[ok], y[ok])
        x_now = np.stack([f.iloc[i].to_numpy() for f in feats], axis=1)
        score = np.column_stack([x_now, np.ones(len(x_now))]) @ coef
        score = pd.Series(score, index=prices.columns).dropna()
        chosen = score.rank(ascending=False) <= top
        decisions[end] = chosen.reindex(prices.columns, fill_value=False)
    frame = pd.DataFrame(decisions).T.astype(bool)
    return _hold_between(_equal_weight(frame), prices.index)
