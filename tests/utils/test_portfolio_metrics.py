"""Time-weighted returns: deposits and withdrawals are not performance."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from src.models.execution_models import ValuePoint
from src.utils.portfolio_metrics import daily_twr_returns, portfolio_metrics


def point(day: int, value: float, flow: float = 0.0, hour: int = 16) -> ValuePoint:
    return ValuePoint(timestamp=datetime(2022, 1, day, hour), value=value, cash=0.0, flow=flow)


def test_twr_when_deposit_then_return_excludes_it():
    # 100 -> 110 (+10%), then +100 deposited and the total ends at 220: (220 - 100) / 110 - 1 = +9.09%
    history = [point(3, 100.0), point(4, 110.0), point(5, 220.0, flow=100.0)]
    assert daily_twr_returns(history).tolist() == pytest.approx([0.10, 120 / 110 - 1])


def test_twr_when_several_points_a_day_then_last_is_close_and_flows_summed():
    history = [point(3, 100.0), point(4, 150.0, flow=60.0, hour=10), point(4, 105.0, flow=-50.0, hour=16)]
    # day 4 close 105, net flow +10: (105 - 10) / 100 - 1 = -5%
    assert daily_twr_returns(history).tolist() == pytest.approx([-0.05])


def test_metrics_when_history_short_then_figures_none_but_value_known():
    m = portfolio_metrics([point(3, 100.0)], pd.DataFrame(), lookback=252, now=datetime(2022, 1, 3),
                          last_rebalance_at=None)
    assert m.total_value == 100.0 and m.total_return is None and m.days_since_rebalance is None


def test_metrics_when_history_then_return_drawdown_and_days_since():
    history = [point(3, 100.0), point(4, 110.0), point(5, 99.0), point(6, 104.0)]
    returns = pd.DataFrame({"A": [0.01, -0.02, 0.03], "B": [0.02, -0.01, 0.0]},
                           index=pd.date_range("2022-01-04", periods=3))
    m = portfolio_metrics(history, returns, lookback=252, now=datetime(2022, 1, 6), last_rebalance_at=datetime(2022, 1, 3))
    assert m.total_return == pytest.approx(0.04)
    assert m.max_drawdown == pytest.approx(0.10)
    assert m.days_since_rebalance == 3 and m.correlation["A"]["A"] == pytest.approx(1.0)


@pytest.mark.parametrize("days, per_year", [(range(1, 11), 365),               # Sat 1 .. Mon 10 January: crypto
                                            ([3, 4, 5, 6, 7, 10, 11, 12, 13, 14], 252)])  # weekdays: stocks
def test_metrics_when_history_on_a_calendar_then_sharpe_and_volatility_use_its_days_per_year(days, per_year):
    values = [100.0, 103.0, 101.0, 104.0, 102.0, 106.0, 105.0, 108.0, 107.0, 110.0]
    history = [point(d, v) for d, v in zip(days, values)]
    m = portfolio_metrics(history, pd.DataFrame(), lookback=252, now=datetime(2022, 1, 14), last_rebalance_at=None)
    r = pd.Series(values).pct_change().dropna()
    assert m.annualized_volatility == pytest.approx(r.std(ddof=1) * per_year ** 0.5, rel=1e-12)
    assert m.sharpe_ratio == pytest.approx(r.mean() / r.std(ddof=1) * per_year ** 0.5, rel=1e-12)
