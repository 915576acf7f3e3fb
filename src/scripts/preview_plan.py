"""Preview a rebalancing plan on real data (the decision core, end to end, nothing executed).

The portfolio is bought at its targets on ``--start`` and left to drift with the real daily
returns of its units until ``--date``; the plan for that day is printed: trigger, engine
targets, every risk verdict and every order with its reason.

Usage::

    python src/scripts/preview_plan.py [--method threshold] [--start 2021-01-04] [--date 2021-12-31]
        [--allocations rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3] [--params '{"min_drift": 0.05}']
        [--value 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

import pandas as pd  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from termcolor import colored  # noqa: E402

from src.agents.strategy_registry_agent import StrategyRegistryAgent  # noqa: E402
from src.engines import create_engine  # noqa: E402
from src.errors import RebalancerError, one_line_error  # noqa: E402
from src.models.decision_models import PlanStatus, RebalancePlan  # noqa: E402
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig  # noqa: E402
from src.models.trading_models import PortfolioState  # noqa: E402
from src.pipeline import plan_rebalance  # noqa: E402
from src.utils.config_files import parse_allocations  # noqa: E402
from src.utils.universe import unit_returns  # noqa: E402

STATUS_COLOUR = {PlanStatus.ORDERS: "green", PlanStatus.NO_TRADES: "cyan", PlanStatus.NO_TRIGGER: "cyan",
                 PlanStatus.BLOCKED: "red", PlanStatus.ENGINE_FAILED: "yellow"}


def trading_day(index: pd.DatetimeIndex, day: str, flag: str) -> pd.Timestamp:
    """Last trading day on or before ``day`` in ``index``."""
    try:
        stamp = pd.Timestamp(day)
    except ValueError as exc:
        raise ValueError(f"{flag}={day!r} is not a date (YYYY-MM-DD)") from exc
    earlier = index[index <= stamp]
    if earlier.empty:
        raise ValueError(f"{flag}={day} is before the first common date {index[0].date()} of the units")
    return earlier[-1]


def drifted_state(returns: pd.DataFrame, config: PortfolioConfig, start: pd.Timestamp, end: pd.Timestamp,
                  value: float) -> PortfolioState:
    """Holdings bought at the targets on ``start``, valued at ``end`` (unit price = growth index)."""
    if end <= start:
        raise ValueError(f"--date={end.date()} must be after --start={start.date()}")
    levels = (1.0 + returns).cumprod()
    holdings = {u: w * value / levels.at[start, u] for u, w in config.target_allocations.items()}
    prices = {u: float(levels.at[end, u]) for u in config.units}
    return PortfolioState(timestamp=end.to_pydatetime(), cash=0.0, holdings=holdings, prices=prices,
                          last_rebalance_at=start.to_pydatetime())


def show(plan: RebalancePlan, config: PortfolioConfig) -> None:
    """Print the plan (presentation layer)."""
    print(colored(f"{config.name} — {config.rebalancing_method.value} — {plan.timestamp.date()}", attrs=["bold"]))
    print(colored(f"status: {plan.status.value}: {plan.message}", STATUS_COLOUR[plan.status]))
    print(f"trigger: {plan.trigger.trigger}: {plan.trigger.reason}")
    engine = plan.engine_result.weights if plan.engine_result else {}
    final = plan.risk.weights if plan.risk else {}
    print(f"\n{'unit':<20}{'now':>9}{'config':>9}{'engine':>9}{'final':>9}")
    for unit in config.units:
        print(f"{unit:<20}{plan.weights_before.get(unit, 0):>9.4f}{config.target_allocations[unit]:>9.4f}"
              f"{engine.get(unit, float('nan')):>9.4f}{final.get(unit, float('nan')):>9.4f}")
    for note in plan.engine_result.notes if plan.engine_result else []:
        print(f"  engine: {note}")
    if plan.risk:
        print("\nrisk verdicts:")
        for v in plan.risk.verdicts:
            value = "n/a" if v.value is None else f"{v.value:.4f}"
            colour = "green" if v.action.value == "pass" else ("red" if v.action.value == "block" else "yellow")
            print(colored(f"  {v.limit:<24}{value:>9} vs {v.threshold:<7} {v.action.value:<7}{v.reason_code.value}", colour))
            if v.action.value != "pass":
                print(f"      {v.message}")
    if plan.order_plan:
        print("\norders:")
        for o in plan.orders:
            print(f"  {o.client_order_id} {o.side.value:<4} {o.unit:<18} qty {o.quantity:>12.4f} @ {o.price:>9.4f} "
                  f"= {o.notional:>11.2f} fee {o.fee:>7.2f}  {o.reason}")
        for s in plan.order_plan.skipped:
            print(f"  skipped {s.unit}: {s.reason}")
        print(f"  value {plan.order_plan.value_before:,.2f} -> {plan.order_plan.expected_value_after:,.2f} "
              f"(fees {plan.order_plan.estimated_fees:,.2f})")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input)."""
    parser = argparse.ArgumentParser(description="Preview a rebalancing plan on real data.")
    parser.add_argument("--method", default="threshold", help="threshold, calendar, adaptive or risk_parity")
    parser.add_argument("--allocations", default="rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3")
    parser.add_argument("--params", default="{}", help='method parameters as JSON, e.g. \'{"min_drift": 0.05}\'')
    parser.add_argument("--start", default="2021-01-04", help="date the portfolio was on target")
    parser.add_argument("--date", default="2021-12-31", help="date of the plan")
    parser.add_argument("--value", type=float, default=100_000.0, help="portfolio value at --start")
    args = parser.parse_args(argv)
    try:
        params = json.loads(args.params)
        config = PortfolioConfig(name="My Balanced Portfolio", target_allocations=parse_allocations(args.allocations),
                                 rebalancing_method=args.method, rebalancing_params=params,
                                 risk_limits=DEFAULT_RISK_LIMITS)
        if not args.value > 0:
            raise ValueError(f"--value={args.value} must be > 0")
        returns = unit_returns(config, StrategyRegistryAgent())
        start = trading_day(returns.index, args.start, "--start")
        end = trading_day(returns.index, args.date, "--date")
        state = drifted_state(returns, config, start, end, args.value)
        plan = plan_rebalance(config, create_engine(config), state, returns)
    except (ValidationError, RebalancerError, ValueError, json.JSONDecodeError) as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    show(plan, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
