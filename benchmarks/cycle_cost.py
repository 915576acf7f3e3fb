"""Milliseconds per replayed day after 1, 8 and 30 years of history: does a day cost the same?

Before the agent state and the paper account were split into a small snapshot plus append-only
files, every day rewrote and fsynced the whole value history and every order the whole report
archive. Issue 8 measured then, for 5 units: 2.8 -> 6.9 ms a day from 1 to 8 years of replay,
6.3 -> 22 ms from 8 to 33 years.

One process replays a 5-stock portfolio (KO, PEP, JNJ, XOM, PG at 20% each, calendar weekly,
non-binding risk limits: the portfolio of ``tests/runtime/test_cycle_cost.py``, which asserts the
bytes written per day) from 1990-01-02 to the end of the shipped data in a temporary data
directory, with the replay loop of ``src/runtime/replay.py``, and times each day's cycle
(``check_and_rebalance``: prices, plan, orders and fills, event files, value point, state).
Printed: mean and median ms per day over the 252 days after 1, 8 and 30 years of history, the
fills in each window, and the ratio 30y / 1y. About 20 s. The same script on the code before
the split (commit 1470ba2) printed 3.44, 8.79 and 18.75 ms a day (x5.45).

    python benchmarks/cycle_cost.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent  # noqa: E402
from src.agents.strategy_registry_agent import StrategyRegistryAgent  # noqa: E402
from src.events.record import FILLED  # noqa: E402
from src.market.clock import ReplayClock  # noqa: E402
from src.market.data import HistoricalMarketData  # noqa: E402
from src.models.execution_models import RuntimeSettings  # noqa: E402
from src.models.portfolio_models import PortfolioConfig  # noqa: E402
from src.models.risk_models import NON_BINDING_RISK_LIMITS  # noqa: E402
from src.runtime.replay import replay_days  # noqa: E402

CONFIG = PortfolioConfig(name="Cycle Cost", target_allocations={u: 0.2 for u in ("KO", "PEP", "JNJ", "XOM", "PG")},
                         rebalancing_method="calendar", rebalancing_params={"frequency": "weekly"},
                         risk_limits=NON_BINDING_RISK_LIMITS)
START = date(1990, 1, 2)
AFTER_YEARS = (1, 8, 30)
WINDOW = 252  # days measured after each point
BEFORE = ("before the split, issue 8 (5 units): 2.8 -> 6.9 ms a day from 1 to 8 years, 6.3 -> 22 ms from 8 to 33 "
          "years (x2.5, x3.5; x7.9 from 1 to 33 years)\n"
          "before the split, this script (1470ba2): 3.44 -> 8.79 -> 18.75 ms a day after 1, 8, 30 years (x5.45 mean)")


def replay_timed(folder: Path) -> tuple[list[float], list[int], int]:
    """Seconds of each day's cycle, filled orders of each day, and the replay's days."""
    registry = StrategyRegistryAgent()
    market = HistoricalMarketData(registry)
    clock = ReplayClock(replay_days(market, CONFIG, START, None))
    seconds, fills = [], []
    with PortfolioRebalancingAgent(CONFIG, settings=RuntimeSettings(replay_start=START), registry=registry,
                                   market_data=market, clock=clock, data_dir=folder) as agent:
        more = True
        while more:
            t0 = time.perf_counter()
            event = agent.check_and_rebalance()
            seconds.append(time.perf_counter() - t0)
            fills.append(sum(o.status in FILLED for o in event.orders) if event is not None else 0)
            more = clock.advance()
    return seconds, fills, len(clock.days)


def main() -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        seconds, fills, days = replay_timed(Path(folder))
    total = time.perf_counter() - t0
    print(f"{CONFIG.name}: {', '.join(CONFIG.units)}, weekly; {days} days from {START} replayed in {total:.1f} s\n")
    print(f"{'history':>9}{'days':>13}{'mean ms/day':>13}{'median':>9}{'fills':>7}")
    means, medians = {}, {}
    for years in AFTER_YEARS:
        first = years * 252
        window = seconds[first:first + WINDOW]
        means[years] = 1000 * statistics.fmean(window)
        medians[years] = 1000 * statistics.median(window)
        print(f"{years:>7} y{first:>6}-{first + len(window) - 1:<6}{means[years]:>13.2f}{medians[years]:>9.2f}"
              f"{sum(fills[first:first + WINDOW]):>7}")
    low, high = AFTER_YEARS[0], AFTER_YEARS[-1]
    print(f"\n{high}y / {low}y: x{means[high] / means[low]:.2f} (mean), x{medians[high] / medians[low]:.2f} (median)")
    print(BEFORE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
