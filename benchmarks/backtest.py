"""Backtest: this project's ``run_backtest`` beside bt (1.4.1), same prices, same accounting.

Run with ``make bench`` (bt comes from ``benchmarks/requirements.txt`` into ``.venv-bench``), or
``python benchmarks/backtest.py`` from the repository root in that environment.

The 20 S&P 500 stocks shipped in ``src/data/market``, 1990-2022, equal weights, calendar
rebalancing monthly and quarterly (first trading day of the period), no fees, no slippage,
fractional quantities, risk limits that cannot bind: the setting in which both must give the
same daily value (tests/backtest/test_bt_oracle.py). Per frequency, one run prints the largest
relative difference of the daily values, each side's best wall time of 3 (ours: building the
config and run_backtest, which goes through the full decision pipeline on every rebalance day
and computes the metrics; bt: building the Strategy and Backtest and running it, without bt's
statistics), the ratio bt / ours, and the top 15 entries (cumulative time) of a cProfile of our
run. Exit code 1 only if the values differ by more than 1e-9 relative; a slower run is
reported, not failed.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from src.backtest.runner import run_backtest  # noqa: E402
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod  # noqa: E402
from src.models.trading_models import FeeModel  # noqa: E402
from src.utils.market_data import load_prices  # noqa: E402

INITIAL = 100_000.0
TOLERANCE = 1e-9
REPEATS = 3
PROFILE_LINES = 15
FREQUENCIES = {"monthly": "RunMonthly", "quarterly": "RunQuarterly"}
NON_BINDING_LIMITS = dict(max_single_strategy=1.0, min_single_strategy=0.0, max_correlation_pair=1.0,
                          max_avg_correlation=1.0, min_strategy_sharpe=-100.0, max_strategy_drawdown=1.0,
                          max_portfolio_leverage=1.0, min_portfolio_sharpe=-100.0, max_portfolio_drawdown=1.0)


def ours(prices: pd.DataFrame, weights: dict[str, float], frequency: str) -> pd.Series:
    config = PortfolioConfig(
        name="bench", target_allocations=weights, rebalancing_method=RebalancingMethod.CALENDAR,
        rebalancing_params={"frequency": frequency, "rebalance_day": 1, "force_rebalance": True,
                            "min_trade_size": 0.0},
        risk_limits=NON_BINDING_LIMITS, fee_model=FeeModel(bps=0.0))
    return run_backtest(config, initial_cash=INITIAL, slippage_bps=0.0, prices=prices).nav


def theirs(prices: pd.DataFrame, weights: dict[str, float], frequency: str) -> pd.Series:
    import bt

    strategy = bt.Strategy("s", [getattr(bt.algos, FREQUENCIES[frequency])(run_on_first_date=True),
                                 bt.algos.SelectAll(), bt.algos.WeighSpecified(**weights), bt.algos.Rebalance()])
    backtest = bt.Backtest(strategy, prices, initial_capital=INITIAL, integer_positions=False)
    backtest.run()
    return backtest.strategy.values.iloc[1:]  # its first row is the day before the data


def best_time(fn) -> tuple[float, pd.Series]:
    best, out = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def profile(fn) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("cumulative").print_stats(PROFILE_LINES)
    lines = stream.getvalue().strip().splitlines()
    start = next(k for k, line in enumerate(lines) if "function calls" in line)
    return "\n".join(lines[start:])


def main() -> int:
    try:
        import bt  # noqa: F401
    except ImportError:
        print("bt is not installed: run `make bench` (it installs benchmarks/requirements.txt into .venv-bench)")
        return 2
    prices = load_prices("stocks")
    weights = {s: 1.0 / len(prices.columns) for s in prices.columns}
    print(__doc__.split("\n\n")[2].replace("\n", " "), "\n")
    print(f"{len(prices.columns)} stocks x {len(prices)} days ({prices.index[0].date()} .. {prices.index[-1].date()})\n")
    failed = []
    summary = []
    for frequency in FREQUENCIES:
        t_ours, nav = best_time(lambda: ours(prices, weights, frequency))
        t_bt, values = best_time(lambda: theirs(prices, weights, frequency))
        if not nav.index.equals(values.index):
            diff = float("inf")
        else:
            diff = float(np.max(np.abs(nav.to_numpy() / values.to_numpy() - 1.0)))
        if not diff <= TOLERANCE:
            failed.append(frequency)
        ratio = t_bt / t_ours
        summary.append((frequency, diff, t_ours, t_bt, ratio))
        print(f"== {frequency} ==")
        print(f"largest relative NAV difference vs bt: {diff:.2e} "
              f"({'within' if diff <= TOLERANCE else 'BEYOND'} {TOLERANCE:.0e})")
        print(f"ours {t_ours * 1e3:,.1f} ms, bt {t_bt * 1e3:,.1f} ms (best of {REPEATS} each): "
              f"bt / ours = {ratio:.2f} ({'ours faster' if ratio > 1 else 'ours slower'})")
        print(f"\ncProfile of our run, top {PROFILE_LINES} by cumulative time:")
        print(profile(lambda: ours(prices, weights, frequency)), "\n")
    print("summary:")
    for frequency, diff, t_ours, t_bt, ratio in summary:
        print(f"  {frequency:<10} max |rel NAV diff| {diff:.1e}   ours {t_ours * 1e3:8.1f} ms   "
              f"bt {t_bt * 1e3:8.1f} ms   bt / ours {ratio:5.2f}")
    if failed:
        print(f"NAV differs from bt beyond {TOLERANCE:.0e} for: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
