"""Compare the four rebalancing methods on the same real history.

Each method runs the sample portfolio's units through a paper replay (same days, same prices,
same fees and slippage); the table shows rebalances, turnover, fees, return, volatility and
max drawdown side by side, and a PNG shows the four value curves. Replays run in a temporary
folder, so the demo leaves no events behind; only the PNG is kept.

Usage::

    python src/scripts/demo_portfolio_rebalancing.py [--config FILE] [--output PNG]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from pydantic import Field  # noqa: E402
from termcolor import colored  # noqa: E402

from src.agents.strategy_registry_agent import StrategyRegistryAgent  # noqa: E402
from src.errors import RebalancerError, one_line_error  # noqa: E402
from src.events.record import FILLED  # noqa: E402
from src.models.base import StrictModel  # noqa: E402
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod  # noqa: E402
from src.runtime.replay import run_replay  # noqa: E402
from src.utils.atomic_io import atomic_write_bytes  # noqa: E402
from src.utils.config_files import SAMPLE_PORTFOLIO, load_portfolio_file  # noqa: E402
from src.utils.paths import PORTFOLIO_DIR  # noqa: E402
from src.utils.performance import compute_metrics  # noqa: E402
from src.utils.portfolio_metrics import daily_twr_returns  # noqa: E402

METHOD_PARAMS = {
    RebalancingMethod.THRESHOLD: {"min_drift": 0.05, "relative_drift": 0.25, "check_frequency": "weekly"},
    RebalancingMethod.CALENDAR: {"frequency": "monthly"},
    RebalancingMethod.ADAPTIVE: {"check_frequency": "weekly"},
    RebalancingMethod.RISK_PARITY: {"rebalance_frequency": "monthly"},
}


class MethodResult(StrictModel):
    """One method's replay in figures."""

    method: str = Field(description="Rebalancing method.")
    rebalances: int = Field(description="Events with a fill.")
    blocked: int = Field(description="Events blocked by a risk limit.")
    turnover: float = Field(description="Traded notional per year as a fraction of average value.")
    fees: float = Field(description="Fees paid.")
    total_return: float = Field(description="Time-weighted return.")
    volatility: float = Field(description="Annualised volatility.")
    max_drawdown: float = Field(description="Max drawdown.")


def run_method(base: PortfolioConfig, method: RebalancingMethod, runtime, registry) -> tuple[MethodResult, pd.Series]:
    """Replay ``base``'s units with ``method``; figures and the daily value curve."""
    config = base.model_copy(update={"rebalancing_method": method, "name": f"{base.name} [{method.value}]"})
    config = PortfolioConfig.model_validate({**config.model_dump(), "rebalancing_params": METHOD_PARAMS[method]})
    with tempfile.TemporaryDirectory() as folder:
        agent, summary = run_replay(config, runtime, data_dir=Path(folder), registry=registry)
    values = pd.Series([p.value for p in agent.state.history], index=pd.DatetimeIndex([p.timestamp for p in agent.state.history]))
    twr = daily_twr_returns(agent.state.history)
    traded = sum(o.filled_quantity * (o.average_fill_price or 0.0) for e in agent.rebalancing_history
                 for o in e.orders if o.status in FILLED)
    years = max(len(values) / 252.0, 1e-9)
    metrics = compute_metrics(twr.to_numpy())
    return MethodResult(method=method.value, rebalances=summary.rebalances, blocked=summary.blocked,
                        turnover=traded / values.mean() / years, fees=summary.fees,
                        total_return=summary.total_return, volatility=metrics.annualized_volatility,
                        max_drawdown=metrics.max_drawdown), values


def save_comparison_png(curves: dict[str, pd.Series], path: Path, title: str) -> Path:
    """The four value curves on one chart, saved atomically."""
    from io import BytesIO

    fig, ax = plt.subplots(figsize=(10, 5))
    for method, values in curves.items():
        ax.plot(values.index, values.to_numpy(), label=method, linewidth=1)
    ax.set_title(title)
    ax.set_ylabel("portfolio value")
    ax.legend()
    fig.tight_layout()
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad input)."""
    parser = argparse.ArgumentParser(description="Compare the four rebalancing methods on real history.")
    parser.add_argument("--config", type=Path, default=SAMPLE_PORTFOLIO, help="portfolio file whose units to use")
    parser.add_argument("--output", type=Path, default=PORTFOLIO_DIR / "demo_comparison.png", help="comparison PNG")
    args = parser.parse_args(argv)
    try:
        loaded = load_portfolio_file(args.config)
        registry = StrategyRegistryAgent()
        results, curves = [], {}
        for method in RebalancingMethod:
            result, values = run_method(loaded.portfolio, method, loaded.runtime, registry)
            results.append(result)
            curves[method.value] = values
    except RebalancerError as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    runtime = loaded.runtime
    print(colored(f"{loaded.portfolio.name}: {', '.join(loaded.portfolio.units)}", attrs=["bold"]))
    print(f"paper replay from {runtime.replay_start} ({runtime.initial_cash:,.0f} cash, "
          f"{loaded.portfolio.fee_model.bps} bps fees, {runtime.slippage_bps} bps slippage)\n")
    print(f"{'method':<13}{'rebalances':>11}{'blocked':>9}{'turnover/yr':>13}{'fees':>11}{'return':>10}"
          f"{'volatility':>12}{'max DD':>9}")
    for r in results:
        print(f"{r.method:<13}{r.rebalances:>11}{r.blocked:>9}{r.turnover:>13.2%}{r.fees:>11,.2f}"
              f"{r.total_return:>+10.2%}{r.volatility:>12.2%}{r.max_drawdown:>9.2%}")
    png = save_comparison_png(curves, args.output, f"{loaded.portfolio.name}: four methods on the same history")
    print(f"\ncomparison PNG {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
