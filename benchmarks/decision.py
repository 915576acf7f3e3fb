"""One decision at 20, 100 and 300 units: time of ``plan_rebalance`` through every stage.

Units are real daily return series: the 20 S&P 500 stocks shipped in ``src/data/market``, cut
into consecutive 500-day eras (era k of stock j is one unit, as in ``benchmarks/risk_parity.py``),
all treated as strategy sleeves so that the per-unit trailing limits and the correlation-pair
check run. The portfolio is equal weight, drifted by the last day's returns plus a 10% shift
between two units so the band trigger fires; limits are the guide's defaults with
``min_single_strategy=0`` (300 x 0.05 > 1 would be infeasible). Target: under 20 ms at 300 units.

    python benchmarks/decision.py
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from src.engines import create_engine  # noqa: E402
from src.models.base import UnitKind  # noqa: E402
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig  # noqa: E402
from src.models.trading_models import PortfolioState  # noqa: E402
from src.pipeline import plan_rebalance  # noqa: E402
from src.utils.market_data import load_prices, simple_returns  # noqa: E402

ROWS = 500
SIZES = (20, 100, 300)
TARGET_MS = 20.0


def era_returns(n: int) -> pd.DataFrame:
    """``ROWS`` x ``n`` real daily returns on the last ``ROWS`` trading days' dates."""
    daily = simple_returns(load_prices("stocks"))
    blocks = []
    for k in range(n // 20):
        block = daily.iloc[len(daily) - (k + 1) * ROWS: len(daily) - k * ROWS]
        blocks.append(pd.DataFrame(block.to_numpy(), index=daily.index[-ROWS:],
                                   columns=[f"{c}_era{k}" for c in daily.columns]))
    return pd.concat(blocks, axis=1)


def setup(n: int):
    returns = era_returns(n)
    units = list(returns.columns)
    limits = {**DEFAULT_RISK_LIMITS, "min_single_strategy": 0.0}
    config = PortfolioConfig(name=f"bench {n}", target_allocations={u: 1 / n for u in units},
                             rebalancing_method="threshold", rebalancing_params={"min_drift": 0.05},
                             risk_limits=limits)
    weights = {u: 1 / n for u in units}
    weights[units[0]] += 0.1
    weights[units[1]] = max(0.0, weights[units[1]] - 0.1)
    nav = 1_000_000.0
    state = PortfolioState(timestamp=returns.index[-1].to_pydatetime(), cash=0.0,
                           holdings={u: w * nav / 100.0 for u, w in weights.items() if w > 0},
                           prices={u: 100.0 for u in units})
    kinds = {u: UnitKind.STRATEGY for u in units}
    return config, state, returns, kinds


def main() -> int:
    print(f"{'units':>6}{'best ms':>10}{'status':>10}  trigger")
    worst = 0.0
    for n in SIZES:
        config, state, returns, kinds = setup(n)
        engine = create_engine(config)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            plan = plan_rebalance(config, engine, state, returns, unit_kinds=kinds)
            times.append((time.perf_counter() - t0) * 1000)
        best = min(times)
        worst = max(worst, best) if n == SIZES[-1] else worst
        print(f"{n:>6}{best:>10.2f}{plan.status.value:>10}  {plan.trigger.trigger}")
    print(f"\n300 units: {worst:.2f} ms vs target {TARGET_MS} ms: {'met' if worst < TARGET_MS else 'NOT met'}")
    config, state, returns, kinds = setup(SIZES[-1])
    profile = cProfile.Profile()
    profile.runcall(plan_rebalance, config, create_engine(config), state, returns, unit_kinds=kinds)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
