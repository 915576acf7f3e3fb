"""Build a portfolio file interactively, or from flags for scripts.

Interactive::

    python src/utils/portfolio_builder.py

From flags (no prompt; bad input exits 2 with one line and writes nothing)::

    python src/utils/portfolio_builder.py --name "Core" \
        --allocations momentum_strategy=0.3,low_vol_strategy=0.3,KO=0.4 \
        --method calendar --params '{"frequency": "quarterly"}' --output src/data/portfolios/core.json

The file it saves is what ``main.py --config`` and ``load_portfolio_file`` read. Crypto units
(BTC, ETH, BNB, SOL, XRP, in USDT) and the crypto sleeves (``btc_trend``, ``crypto_equal_weight``)
are chosen like any other; a portfolio whose units all trade every calendar day has its risk
limits measured over 365 days (a year of that calendar) instead of 252.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from pydantic import ValidationError  # noqa: E402
from termcolor import colored  # noqa: E402

from src.agents.strategy_registry_agent import StrategyRegistryAgent  # noqa: E402
from src.errors import ConfigError, RebalancerError, one_line_error  # noqa: E402
from src.models.portfolio_models import PARAMS_BY_METHOD, PortfolioConfig, RebalancingMethod, RiskLimits  # noqa: E402
from src.utils.config_files import PortfolioFile, parse_allocations, save_portfolio_file  # noqa: E402
from src.utils.market_data import CRYPTO_SYMBOLS, available_symbols  # noqa: E402
from src.utils.paths import PORTFOLIOS_DIR, slug  # noqa: E402
from src.utils.performance import CALENDAR_DAYS, annualization_days  # noqa: E402
from src.utils.universe import resolve_units, unit_returns  # noqa: E402

Ask = Callable[[str], str]


def json_option(flag: str, text: str) -> dict:
    """A JSON object given on the command line, or a ConfigError naming the flag."""
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{flag}={shown!r} is not valid JSON: {exc.msg} (column {exc.colno})") from exc
    except RecursionError as exc:
        raise ConfigError(f"{flag}={shown!r} is nested too deeply") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{flag}={shown!r} must be a JSON object like '{{\"key\": value}}'")
    return value


def build_file(*, name: str, allocations: dict[str, float], method: str, params: dict, limits: dict,
               registry: StrategyRegistryAgent) -> PortfolioFile:
    """Validate everything (config and units) into a ``PortfolioFile``."""
    try:
        config = PortfolioConfig(name=name, target_allocations=allocations, rebalancing_method=method,
                                 rebalancing_params=params, risk_limits=limits)
    except ValidationError as exc:
        raise ConfigError(one_line_error(exc)) from exc
    resolve_units(config, registry)
    if annualization_days(unit_returns(config, registry).index) == CALENDAR_DAYS:
        # every unit trades every day (crypto): a year of risk lookback is 365 returns, not 252
        config = config.model_copy(update={"risk_lookback_days": CALENDAR_DAYS})
    return PortfolioFile(portfolio=config)


def show_registry(registry: StrategyRegistryAgent, out=print) -> None:
    """The registry's strategies with their whole-history metrics, then the plain assets.

    ``days`` is the days per year a strategy's figures are annualised with: 252 on the stock
    exchange's calendar, 365 for crypto (every calendar day).
    """
    out(colored(f"{'strategy':<20}{'ann. return':>12}{'volatility':>12}{'Sharpe':>8}{'max DD':>8}{'days':>6}  name",
                attrs=["bold"]))
    for s in registry.list_strategies():
        m = s.metrics
        days = annualization_days(registry.returns_series(s.strategy_id).index)
        out(f"{s.strategy_id:<20}{m.annualized_return:>12.2%}{m.annualized_volatility:>12.2%}"
            f"{m.sharpe_ratio:>8.2f}{m.max_drawdown:>8.2%}{days:>6}  {s.name}")
    symbols = available_symbols()
    out(f"plain assets: {', '.join(s for s in symbols if s not in CRYPTO_SYMBOLS)}")
    out(f"crypto (Binance, priced in USDT, every calendar day): {', '.join(s for s in symbols if s in CRYPTO_SYMBOLS)}")


def _ask_until(ask: Ask, prompt: str, convert: Callable[[str], object], out=print):
    while True:
        answer = ask(prompt).strip()
        try:
            return convert(answer)
        except (ValueError, RebalancerError, ValidationError) as exc:
            out(colored(f"  {one_line_error(exc)}", "red"))


def _non_empty(text: str) -> str:
    if not text:
        raise ValueError("name='' must not be empty")
    return text


def _new_unit(known: set[str], chosen: dict[str, float]):
    def convert(text: str) -> str:
        if text not in known:
            raise ValueError(f"unit={text!r} is neither a registry strategy nor a symbol with prices")
        if text in chosen:
            raise ValueError(f"unit={text!r} is already in the portfolio")
        return text
    return convert


def _ask_limits(ask: Ask, out) -> RiskLimits:
    if ask("keep the default risk limits? [Y/n]: ").strip().lower() not in ("n", "no"):
        return RiskLimits()
    while True:
        values: dict[str, float] = {}
        for field, info in RiskLimits.model_fields.items():
            values[field] = _ask_until(ask, f"  {field} [{info.default}] ({info.description}): ",
                                       lambda t, d=info.default: float(t) if t else d, out)
        try:
            return RiskLimits(**values)
        except ValidationError as exc:
            out(colored(f"  {one_line_error(exc)}; please enter the limits again", "red"))


def _weight(total_so_far: float, limits: RiskLimits):
    def convert(text: str) -> float:
        value = float(text)
        if not 0 < value <= 1:
            raise ValueError(f"weight={value} must be in (0, 1]")
        if value > limits.max_single_strategy + 1e-9:
            raise ValueError(f"weight={value} exceeds risk_limits.max_single_strategy={limits.max_single_strategy}")
        if value < limits.min_single_strategy - 1e-9:
            raise ValueError(f"weight={value} is below risk_limits.min_single_strategy={limits.min_single_strategy}")
        if total_so_far + value > 1 + 1e-9:
            raise ValueError(f"weight={value} takes the total to {total_so_far + value:.4f} > 1")
        return value
    return convert


def interactive(registry: StrategyRegistryAgent, ask: Ask = input, out=print) -> PortfolioFile:
    """Ask for everything, checking each answer as it is typed.

    Order: name, risk limits (so weights can be checked against them), units and weights,
    method and its parameters.
    """
    name = _ask_until(ask, "portfolio name: ", _non_empty, out)
    limits = _ask_limits(ask, out)
    show_registry(registry, out)
    known = {s.strategy_id for s in registry.list_strategies()} | set(available_symbols())
    allocations: dict[str, float] = {}
    while sum(allocations.values()) < 1 - 1e-9:
        remaining = 1 - sum(allocations.values())
        unit = _ask_until(ask, f"unit ({remaining:.2%} left to allocate): ", _new_unit(known, allocations), out)
        allocations[unit] = _ask_until(ask, f"weight of {unit} (<= {min(remaining, limits.max_single_strategy):.4f}): ",
                                       _weight(sum(allocations.values()), limits), out)
    methods = ", ".join(m.value for m in RebalancingMethod)
    method = _ask_until(ask, f"method ({methods}) [threshold]: ", lambda t: RebalancingMethod(t or "threshold"), out)
    params_model = PARAMS_BY_METHOD[method]
    while True:
        params = {}
        for field, info in params_model.model_fields.items():
            default = info.get_default(call_default_factory=True)
            shown = getattr(default, "value", default)
            answer = ask(f"  {field} [{shown}] ({info.description}): ").strip()
            if answer:
                params[field] = json.loads(answer) if answer[0] in "[{" else answer
        try:
            params_model.model_validate(params)
            break
        except ValidationError as exc:
            out(colored(f"  {one_line_error(exc)}; please enter the parameters again", "red"))
    return build_file(name=name, allocations=allocations, method=method.value, params=params,
                      limits=limits.model_dump(), registry=registry)


def main(argv: Optional[list[str]] = None, ask: Ask = input) -> int:
    """Entry point; returns the exit code (2 for bad input, nothing written)."""
    parser = argparse.ArgumentParser(description="Build a portfolio file (interactive without --name/--allocations).")
    parser.add_argument("--name")
    parser.add_argument("--allocations", help="unit=weight,unit=weight (strategy ids or symbols)")
    parser.add_argument("--method", default="threshold", help=", ".join(m.value for m in RebalancingMethod))
    parser.add_argument("--params", default="{}", help="method parameters as JSON")
    parser.add_argument("--risk-limits", default="{}", help="risk limits as JSON (missing keys keep defaults)")
    parser.add_argument("--output", type=Path, help="where to save (default src/data/portfolios/<name>.json)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    registry = StrategyRegistryAgent()
    try:
        if args.name is None and args.allocations is None:
            built = interactive(registry, ask)
        elif args.name is None or args.allocations is None:
            raise ConfigError("--name and --allocations go together (or give neither, for the interactive builder)")
        else:
            params, limits = json_option("--params", args.params), json_option("--risk-limits", args.risk_limits)
            built = build_file(name=args.name, allocations=parse_allocations(args.allocations), method=args.method,
                               params=params, limits=limits, registry=registry)
        output = args.output or PORTFOLIOS_DIR / f"{slug(built.portfolio.name)}.json"
        if output.exists() and not args.force:
            raise ConfigError(f"--output {output} exists (pass --force to overwrite)")
        save_portfolio_file(output, built)
    except RebalancerError as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable --output: one line, not a traceback
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print(colored("\nbuilder stopped; nothing saved", "yellow"), file=sys.stderr)
        return 130
    if built.portfolio.risk_lookback_days == CALENDAR_DAYS:
        print("every unit trades every calendar day (crypto): figures annualised with 365 days, "
              "risk limits measured over the last 365 returns")
    print(f"saved {output}; run it with: python main.py --config {output} --replay")
    return 0


if __name__ == "__main__":
    sys.exit(main())
