"""Ledoit-Wolf shrinkage."""

from __future__ import annotations

import numpy as np
import pytest

from src.engines.covariance import ledoit_wolf
from src.errors import InsufficientDataError
from src.utils.market_data import load_prices, simple_returns


def test_ledoit_wolf_when_real_returns_then_between_sample_and_target():
    x = simple_returns(load_prices("stocks")).to_numpy()[-120:]
    cov, delta = ledoit_wolf(x)
    xc = x - x.mean(axis=0)
    sample = xc.T @ xc / len(x)
    target = np.trace(sample) / x.shape[1] * np.eye(x.shape[1])
    assert 0 < delta < 1
    assert cov == pytest.approx(delta * target + (1 - delta) * sample)
    assert np.linalg.eigvalsh(cov).min() > 0


def test_ledoit_wolf_when_fewer_days_than_units_then_still_positive_definite():
    x = simple_returns(load_prices("stocks")).to_numpy()[-10:]
    cov, delta = ledoit_wolf(x)
    assert np.linalg.eigvalsh(cov).min() > 0 and delta > 0


def test_ledoit_wolf_when_hand_example_then_full_shrinkage():
    # Two columns, four days (means already 0). By hand: sample S = [[1, 0], [0, 2]],
    # mu = 1.5, d2 = ||S - mu I||^2 / p = 0.25; sum_k ||x_k x_k' - S||^2 / n^2 / p
    # = (52 / 4 - 5) / (4 * 2) = 1 > d2, so b2 = d2 and the intensity is 1: cov = 1.5 I.
    x = np.array([[1.0, 2.0], [-1.0, 0.0], [1.0, -2.0], [-1.0, 0.0]])
    cov, delta = ledoit_wolf(x)
    assert delta == 1.0
    assert cov == pytest.approx(1.5 * np.eye(2))


def test_ledoit_wolf_when_one_row_then_insufficient_data():
    with pytest.raises(InsufficientDataError, match="1 row"):
        ledoit_wolf(np.ones((1, 3)))
