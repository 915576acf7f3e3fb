"""What main.py prints during and after a replay (presentation layer)."""

from __future__ import annotations

from pathlib import Path

from termcolor import colored

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.dashboard.text import print_dashboard
from src.models.decision_models import RebalancingEvent
from src.runtime.replay import ReplaySummary


def rebalance_printer(agent: PortfolioRebalancingAgent, event: RebalancingEvent) -> None:
    """Print the event's line and the dashboard (called at each rebalance of a replay)."""
    print(colored(f"\n>>> {event.timestamp:%Y-%m-%d} rebalanced: {event.trigger.reason}", "cyan"))
    print_dashboard(agent)


def print_summary(summary: ReplaySummary, png: Path) -> None:
    """The final summary of a replay."""
    print(colored(f"\n=== replay summary: {summary.portfolio_name} ===", attrs=["bold"]))
    print(f"period        {summary.start} .. {summary.end} ({summary.days} trading days)")
    print(f"value         {summary.start_value:,.2f} -> {summary.end_value:,.2f}")
    print(f"return        {summary.total_return:+.2%} (time-weighted)")
    print(f"max drawdown  {summary.max_drawdown:.2%}")
    print(f"rebalances    {summary.rebalances}   blocked by risk limits {summary.blocked}   "
          f"engine failures {summary.engine_failures}")
    print(f"fees          {summary.fees:,.2f}   turnover {summary.turnover:.1%} a year   "
          f"average cash {summary.average_cash:.2%}")
    print(f"dashboard PNG {png}")
