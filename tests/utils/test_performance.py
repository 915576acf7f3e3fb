"""Metrics checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from src.errors import InsufficientDataError
from src.utils.performance import compute_metrics, max_drawdown, sharpe_ratio


def test_max_drawdown_when_up_down_up_then_peak_to_trough():
    # wealth 1.1, 0.88, 0.968 -> trough 0.88 from peak 1.1 = 20% fall
    assert max_drawdown([0.10, -0.20, 0.10]) == pytest.approx(0.20)


def test_max_drawdown_when_only_gains_then_zero():
    assert max_drawdown([0.01, 0.02]) == 0.0


def test_metrics_when_hand_computed_series_then_match():
    r = [0.01, -0.02, 0.03, 0.0]
    m = compute_metrics(r)
    mean = sum(r) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 3)
    assert m.total_return == pytest.approx(1.01 * 0.98 * 1.03 - 1)
    assert m.annualized_return == pytest.approx((1.01 * 0.98 * 1.03) ** (252 / 4) - 1)
    assert m.annualized_volatility == pytest.approx(sd * math.sqrt(252))
    assert m.sharpe_ratio == pytest.approx(mean * 252 / (sd * math.sqrt(252)))
    assert m.sortino_ratio == pytest.approx(mean * 252 / (math.sqrt(0.02**2 / 4) * math.sqrt(252)))
    assert m.win_rate == pytest.approx(2 / 3)  # the flat day is not a loss
    assert m.max_drawdown == pytest.approx(0.02)


@pytest.mark.parametrize("bad, fragment", [([0.01, float("nan")], "returns[1]=nan"),
                                           ([0.01, -1.0], "returns[1]=-1.0 is a loss of 100%")])
def test_metrics_when_bad_value_then_error_names_index(bad, fragment):
    with pytest.raises(ValueError) as info:
        compute_metrics(bad)
    assert fragment in str(info.value)


def test_sharpe_when_one_observation_then_insufficient_data():
    with pytest.raises(InsufficientDataError, match="1 observation"):
        sharpe_ratio([0.01])
