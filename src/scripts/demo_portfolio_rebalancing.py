"""Compare the rebalancing methods on the same real history.

Each method backtests the sample portfolio's units through the live pipeline (same days,
prices, fees and slippage, the portfolio's risk limits), beside buy-and-hold (invest once,
never rebalance, limits off); the table shows rebalances, blocked decisions, turnover, fees,
tracking error against the targets rebalanced daily at no cost, return, volatility, max
drawdown and average cash, and a PNG shows the value curves. Nothing but the PNG is written.

Usage::

    python src/scripts/demo_portfolio_rebalancing.py [--config FILE] [--output PNG]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from termcolor import colored  # noqa: E402

from src.backtest.models import BacktestResult  # noqa: E402
from src.backtest.runner import run_backtest, unit_price_frame  # noqa: E402
from src.dashboard.charts import save_png  # noqa: E402
from src.engines.buy_and_hold import BuyAndHoldEngine  # noqa: E402
from src.errors import RebalancerError, one_line_error  # noqa: E402
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod  # noqa: E402
from src.models.risk_models import NON_BINDING_RISK_LIMITS  # noqa: E402
from src.utils.config_files import SAMPLE_PORTFOLIO, load_portfolio_file  # noqa: E402
from src.utils.paths import PORTFOLIO_DIR  # noqa: E402

METHOD_PARAMS = {
    RebalancingMethod.THRESHOLD: {"min_drift": 0.05, "relative_drift": 0.25, "check_frequency": "weekly"},
    RebalancingMethod.CALENDAR: {"frequency": "monthly"},
    RebalancingMethod.ADAPTIVE: {"check_frequency": "weekly"},
    RebalancingMethod.RISK_PARITY: {"rebalance_frequency": "monthly"},
}


def method_config(base: PortfolioConfig, method: RebalancingMethod) -> PortfolioConfig:
    """``base``'s units and limits with ``method`` (its demo parameters, or its defaults)."""
    data = base.model_dump()
    data.update(rebalancing_method=method.value, rebalancing_params=METHOD_PARAMS.get(method, {}),
                name=f"{base.name} [{method.value}]")
    return PortfolioConfig.model_validate(data)


def run_all(base: PortfolioConfig, runtime) -> dict[str, BacktestResult]:
    """Buy-and-hold and every method on the same days and prices."""
    prices, kinds = unit_price_frame(base)
    common = dict(initial_cash=runtime.initial_cash, slippage_bps=runtime.slippage_bps, prices=prices,
                  unit_kinds=kinds)
    span = (runtime.replay_start, runtime.replay_end)
    hold = PortfolioConfig.model_validate({**base.model_dump(), "risk_limits": NON_BINDING_RISK_LIMITS,
                                           "name": f"{base.name} [buy and hold]"})
    results = {"buy_and_hold": run_backtest(hold, *span, engine=BuyAndHoldEngine(hold), **common)}
    for method in RebalancingMethod:
        results[method.value] = run_backtest(method_config(base, method), *span, **common)
    return results


def save_comparison_png(curves: dict[str, pd.Series], path: Path, title: str) -> Path:
    """The value curves on one chart, saved atomically."""
    fig, ax = plt.subplots(figsize=(10, 5))
    for method, values in curves.items():
        ax.plot(values.index, values.to_numpy(), label=method, linewidth=1)
    ax.set_title(title)
    ax.set_ylabel("portfolio value")
    ax.legend()
    return save_png(fig, path)


def print_table(results: dict[str, BacktestResult]) -> None:
    """One row per method."""
    print(f"{'method':<14}{'rebalances':>11}{'blocked':>9}{'turnover/yr':>13}{'fees':>11}{'track.err':>11}"
          f"{'return/yr':>11}{'volatility':>12}{'max DD':>9}{'cash':>8}")
    for name, r in results.items():
        m = r.metrics
        print(f"{name:<14}{m.rebalances:>11}{m.blocked:>9}{m.turnover:>13.2%}{m.fees:>11,.2f}{m.tracking_error:>11.2%}"
              f"{m.annualized_return:>+11.2%}{m.annualized_volatility:>12.2%}{m.max_drawdown:>9.2%}{m.average_cash:>8.2%}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad input or data, 1 for an OS error)."""
    parser = argparse.ArgumentParser(description="Compare the rebalancing methods on real history.")
    parser.add_argument("--config", type=Path, default=SAMPLE_PORTFOLIO, help="portfolio file whose units to use")
    parser.add_argument("--output", type=Path, default=PORTFOLIO_DIR / "demo_comparison.png", help="comparison PNG")
    args = parser.parse_args(argv)
    try:
        loaded = load_portfolio_file(args.config)
        results = run_all(loaded.portfolio, loaded.runtime)
        png = save_comparison_png({k: r.nav for k, r in results.items()}, args.output,
                                  f"{loaded.portfolio.name}: methods on the same history")
    except (RebalancerError, ValidationError) as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    except OSError as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 1
    runtime, base = loaded.runtime, loaded.portfolio
    first = next(iter(results.values())).metrics
    print(colored(f"{base.name}: {', '.join(base.units)}", attrs=["bold"]))
    print(f"backtest {first.start} .. {first.end} ({runtime.initial_cash:,.0f} cash, {base.fee_model.bps} bps fees, "
          f"{runtime.slippage_bps} bps slippage; tracking error against the targets rebalanced daily at no cost)\n")
    print_table(results)
    print(f"\ncomparison PNG {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
