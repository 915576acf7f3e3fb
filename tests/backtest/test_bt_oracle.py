"""bt (1.4.1, a benchmark peer) as an independent oracle for the backtest's accounting.

Where the two must agree: plain assets, the calendar method (``rebalance_day=1``,
``force_rebalance=True``, ``min_trade_size=0``) monthly, quarterly or annually, no fees, no
slippage, fractional quantities, and risk limits that cannot bind. Then our daily value
(``run_backtest(...).nav``, on the shipped data as the agent loads it) equals bt's
``RunMonthly`` / ``RunQuarterly`` / ``RunYearly`` (``run_on_first_date=True``) ->
``SelectAll`` -> ``WeighSpecified`` -> ``Rebalance`` to 1e-9 relative on every day (measured:
about 1e-13), and both trade on the same days.

Conventions, checked here and found to be the same (no difference in ``src/backtest``):

- bt's ``strategy.values`` has one extra first row, the day before the data, at the initial
  capital; from the first data day on it is the account value at the close after that day's
  trades, as our ``nav`` is. Both invest the starting cash at the first day's close (ours: the
  first day always decides; bt: ``run_on_first_date``), so with no costs the first value is the
  initial capital.
- Periods are calendar periods in both: months; quarters starting January, April, July and
  October; years starting in January. bt runs on the first data day whose month / quarter /
  year differs from the previous data day's; ours fires on the first trading day on or after
  day 1 of the period's first month. On trading-day data these are the same day (e.g. quarterly
  from 1990: 1990-01-02, 1990-04-02, 1990-07-02, 1990-10-01).
- A sub-range: ours is given ``start_date`` (its first day invests; earlier history only feeds
  the lookbacks, which decide nothing here), bt is given the prices from that date on. A start
  inside a period (2005-06-15) invests on that day, and the next rebalance is the next period's
  first day in both (monthly 2005-07-01, quarterly 2005-07-01, annually 2006-01-03): the first
  day's investment is that period's decision.
- Units without enough history for a limit (the factor ETFs' first days, 2014) are held at
  their configured targets, as bt holds them.

Run with the peers installed (``make bench`` builds ``.venv-bench`` from
``benchmarks/requirements.txt``); elsewhere the module is skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

bt = pytest.importorskip("bt", reason="bt is a benchmark peer (benchmarks/requirements.txt); run make bench")

from src.backtest.runner import run_backtest  # noqa: E402
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod  # noqa: E402
from src.models.trading_models import FeeModel, OrderStatus  # noqa: E402
from src.utils.market_data import asset_prices, load_prices  # noqa: E402

INITIAL = 100_000.0
RTOL = 1e-9

# Limits that cannot bind: any weight, any correlation, any Sharpe, any drawdown, no leverage.
NON_BINDING_LIMITS = dict(max_single_strategy=1.0, min_single_strategy=0.0, max_correlation_pair=1.0,
                          max_avg_correlation=1.0, min_strategy_sharpe=-100.0, max_strategy_drawdown=1.0,
                          max_portfolio_leverage=1.0, min_portfolio_sharpe=-100.0, max_portfolio_drawdown=1.0)

RUN_ALGO = {"monthly": "RunMonthly", "quarterly": "RunQuarterly", "annually": "RunYearly"}

SMALL = ["AAPL", "JNJ", "KO", "XOM", "JPM", "MTUM", "QUAL", "SIZE", "USMV", "VLUE"]
SMALL_WEIGHTS = dict(zip(SMALL, [0.20, 0.15, 0.10, 0.05, 0.05, 0.10, 0.10, 0.05, 0.12, 0.08]))


def stock_weights(equal: bool) -> dict[str, float]:
    """The 20 shipped stocks: equal weights, or weights proportional to 1..20."""
    symbols = list(load_prices("stocks").columns)
    raw = [1.0] * len(symbols) if equal else [float(k) for k in range(1, len(symbols) + 1)]
    return {s: r / sum(raw) for s, r in zip(symbols, raw)}


def oracle_config(weights: dict[str, float], frequency: str) -> PortfolioConfig:
    return PortfolioConfig(
        name="bt oracle", target_allocations=weights, rebalancing_method=RebalancingMethod.CALENDAR,
        rebalancing_params={"frequency": frequency, "rebalance_day": 1, "force_rebalance": True,
                            "min_trade_size": 0.0},
        risk_limits=NON_BINDING_LIMITS, fee_model=FeeModel(bps=0.0))


def bt_backtest(prices: pd.DataFrame, weights: dict[str, float], frequency: str):
    """bt's strategy on ``prices``: one Backtest, not yet run."""
    strategy = bt.Strategy("s", [getattr(bt.algos, RUN_ALGO[frequency])(run_on_first_date=True),
                                 bt.algos.SelectAll(), bt.algos.WeighSpecified(**weights), bt.algos.Rebalance()])
    return bt.Backtest(strategy, prices, initial_capital=INITIAL, integer_positions=False)


CASES = [
    # (id, weights, price frame as bt sees it (before the start cut), start_date)
    ("20 stocks equal 1990-2022", lambda: stock_weights(True), lambda: load_prices("stocks"), None),
    ("20 stocks unequal from 2005-06-15", lambda: stock_weights(False), lambda: load_prices("stocks"), "2005-06-15"),
    ("5 stocks + 5 factor ETFs unequal", lambda: dict(SMALL_WEIGHTS), lambda: asset_prices(SMALL), None),
    ("5 stocks + 5 factor ETFs unequal from 2016-08-17", lambda: dict(SMALL_WEIGHTS), lambda: asset_prices(SMALL),
     "2016-08-17"),
]


@pytest.mark.parametrize("frequency", list(RUN_ALGO))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_daily_value_equals_bt(case, frequency):
    _, weights_of, prices_of, start = case
    weights = weights_of()
    prices = prices_of()[list(weights)]
    ours = run_backtest(oracle_config(weights, frequency), start_date=start, initial_cash=INITIAL,
                        slippage_bps=0.0)  # the shipped data, loaded as the agent loads it
    peer = bt_backtest(prices if start is None else prices.loc[start:], weights, frequency)
    result = bt.run(peer).backtests["s"].strategy

    values = result.values
    assert values.iloc[0] == INITIAL and values.index[0] < values.index[1]  # bt's extra day before the data
    theirs = values.iloc[1:]
    assert ours.nav.index.equals(theirs.index)
    assert ours.nav.iloc[0] == pytest.approx(INITIAL, rel=RTOL)
    np.testing.assert_allclose(ours.nav.to_numpy(), theirs.to_numpy(), rtol=RTOL, atol=0.0)

    # Same trading days: bt's positions change exactly on the days our decisions filled orders.
    positions = result.positions.iloc[1:]
    bt_days = positions.index[(positions.diff().fillna(positions).abs() > 0).any(axis=1)]
    our_days = [pd.Timestamp(d.day) for d in ours.decisions if any(o.status == OrderStatus.FILLED for o in d.orders)]
    assert list(bt_days) == our_days
    assert len(our_days) > 1
