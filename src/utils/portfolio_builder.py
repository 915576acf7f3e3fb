"""Build a portfolio file interactively, or from flags for scripts.

Interactive::

    python src/utils/portfolio_builder.py

From flags (no prompt; bad input exits 2 with one line and writes nothing)::

    python src/utils/portfolio_builder.py --name "Core" \
        --allocations momentum_strategy=0.3,low_vol_strategy=0.3,KO=0.4 \
        --method calendar --params '{"frequency": "quarterly"}' --output src/data/portfolios/core.json

Or start from a model portfolio (All Weather, 60/40, Permanent, Risk Parity, or your own in
``src/data/models/*.json`` or ``--models-file``; see ``src.portfolios``): the interactive builder
asks first, and for scripts::

    python src/utils/portfolio_builder.py --model all_weather [--name "My AW"] [--method calendar]

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
from src.portfolios import MODEL_RISK_LIMITS, ModelPortfolio, follow_model, model_catalogue  # noqa: E402
from src.portfolios.model_catalogue import model_name  # noqa: E402
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


def _ask_params(ask: Ask, method: RebalancingMethod, out) -> dict:
    """The method's parameters, field by field (Enter keeps a default), until they validate."""
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
            return params
        except ValidationError as exc:
            out(colored(f"  {one_line_error(exc)}; please enter the parameters again", "red"))


def _percent(weight: float) -> str:
    return f"{weight * 100:.4g}%"


def show_models(catalogue: dict[str, ModelPortfolio], out=print) -> None:
    """One line per model: its real tickers and weights, and the shipped unit standing in for each."""
    out(colored("model portfolios (real tickers -> the shipped units the demo uses):", attrs=["bold"]))
    for model in catalogue.values():
        parts = [f"{t} {_percent(w)} -> {model.proxies[t]}" if t in model.proxies else f"{t} {_percent(w)} (no proxy)"
                 for t, w in model.holdings.items()]
        weighting = ", equal risk contributions" if model.weighting == "equal_risk" else ""
        out(f"  {model.name:<14}{model.title}{weighting}: {', '.join(parts)}")


def substitution_lines(model: ModelPortfolio) -> list[str]:
    """What the demo does with each holding that has no shipped proxy, one line each."""
    others = ", ".join(dict.fromkeys(model.proxies.values()))
    return [f"{s.ticker}: {s.reason}; its weight goes "
            f"{'to ' + s.moved_to if s.moved_to else 'to ' + others + ' in proportion to their weights'}"
            for s in model.substitutions]


def _show_model(model: ModelPortfolio, out) -> None:
    out(f"{model.title}: {model.description}")
    out(f"  source: {model.source}")
    for ticker, note in model.proxy_notes.items():
        out(f"  {ticker} -> {model.proxies[ticker]}: {note}")
    for line in substitution_lines(model):
        out(colored(f"  {line}", "yellow"))
    kind = "nominal weights (the risk_parity engine sets the real ones)" if model.weighting == "equal_risk" else "targets"
    out(f"  {kind}: " + ", ".join(f"{u} {w:.2%}" for u, w in model.proxy_targets().items()))


def _from_model(model: ModelPortfolio, catalogue: dict[str, ModelPortfolio], ask: Ask, out) -> PortfolioFile:
    """Name and (optionally) method of a portfolio that follows ``model``."""
    _show_model(model, out)
    name = ask(f"portfolio name [{model.title}]: ").strip() or model.title
    out(f"risk limits: the defaults with the per-unit caps opened (max_single_strategy "
        f"{MODEL_RISK_LIMITS['max_single_strategy']}, min_single_strategy {MODEL_RISK_LIMITS['min_single_strategy']}), "
        f"so they do not rewrite the model's weights")

    def method_of(text: str) -> Optional[RebalancingMethod]:
        if not text:
            return None
        follow_model(model.name, method=text, catalogue=catalogue)  # refuses what the model's weighting forbids
        return RebalancingMethod(text)

    default = "risk_parity" if model.weighting == "equal_risk" else "threshold with the 5/25 band"
    method = _ask_until(ask, f"method [{default}]: ", method_of, out)
    params = None if method is None else _ask_params(ask, method, out)
    return follow_model(model.name, portfolio_name=name, method=method and method.value, params=params,
                        catalogue=catalogue)


def _model_of(catalogue: dict[str, ModelPortfolio]):
    def convert(text: str) -> Optional[ModelPortfolio]:
        if not text:
            return None
        try:
            return catalogue[model_name(text, catalogue)]  # a model, or a risk profile by name or alias
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
    return convert


def with_exclusions(built: PortfolioFile, units: list[str], registry: StrategyRegistryAgent) -> PortfolioFile:
    """``built`` with ``exclude_assets`` set, validated (known units, none with a target)."""
    try:
        portfolio = PortfolioConfig.model_validate({**built.portfolio.model_dump(), "exclude_assets": units})
    except ValidationError as exc:
        raise ConfigError(f"--exclude: {one_line_error(exc)}") from exc
    resolve_units(portfolio, registry)
    return built.model_copy(update={"portfolio": portfolio})


def interactive(registry: StrategyRegistryAgent, ask: Ask = input, out=print,
                catalogue: Optional[dict[str, ModelPortfolio]] = None) -> PortfolioFile:
    """Ask for everything, checking each answer as it is typed.

    Order: a model portfolio to start from (Enter for none: then name, risk limits (so weights
    can be checked against them), units and weights, method and its parameters); from a model,
    the name and optionally another method.
    """
    catalogue = model_catalogue() if catalogue is None else catalogue
    show_models(catalogue, out)
    model = _ask_until(ask, f"start from a model portfolio? ({', '.join(catalogue)}; Enter for none): ",
                       _model_of(catalogue), out)
    if model is not None:
        return _from_model(model, catalogue, ask, out)
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
    params = _ask_params(ask, method, out)
    return build_file(name=name, allocations=allocations, method=method.value, params=params,
                      limits=limits.model_dump(), registry=registry)


def main(argv: Optional[list[str]] = None, ask: Ask = input) -> int:
    """Entry point; returns the exit code (2 for bad input, nothing written)."""
    parser = argparse.ArgumentParser(description="Build a portfolio file (interactive without --name/--allocations/--model).")
    parser.add_argument("--name", help="portfolio name (with --model: the model's title by default)")
    parser.add_argument("--allocations", help="unit=weight,unit=weight (strategy ids or symbols)")
    parser.add_argument("--model", help="follow a model portfolio instead of --allocations (all_weather, sixty_forty, "
                                        "permanent, risk_parity, or one of --models-file)")
    parser.add_argument("--models-file", type=Path, action="append", default=[],
                        help="a JSON file of your own model portfolios ({\"models\": [...]}); repeatable")
    parser.add_argument("--method", help=", ".join(m.value for m in RebalancingMethod) + " (default threshold; "
                                         "with --model: the model's own)")
    parser.add_argument("--params", help="method parameters as JSON (default {}; with --model: the model's own)")
    parser.add_argument("--risk-limits", default="{}", help="risk limits as JSON (missing keys keep defaults)")
    parser.add_argument("--exclude", help="units never bought or sold, held as they are outside the targets "
                                          "(exclude_assets), comma-separated")
    parser.add_argument("--output", type=Path, help="where to save (default src/data/portfolios/<name>.json)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    registry = StrategyRegistryAgent()
    model = None
    try:
        if args.model is not None:
            if args.allocations is not None:
                raise ConfigError("--model and --allocations exclude each other (a model sets the allocations)")
            catalogue = model_catalogue(args.models_file)
            params = None if args.params is None else json_option("--params", args.params)
            built = follow_model(args.model, portfolio_name=args.name, method=args.method, params=params,
                                 risk_limits=json_option("--risk-limits", args.risk_limits), catalogue=catalogue)
            model = catalogue[model_name(args.model, catalogue)]
        elif args.name is None and args.allocations is None:
            built = interactive(registry, ask, catalogue=model_catalogue(args.models_file))
        elif args.name is None or args.allocations is None:
            raise ConfigError("--name and --allocations go together (or give neither, for the interactive builder)")
        else:
            params, limits = json_option("--params", args.params or "{}"), json_option("--risk-limits", args.risk_limits)
            built = build_file(name=args.name, allocations=parse_allocations(args.allocations),
                               method=args.method or "threshold", params=params, limits=limits, registry=registry)
        if args.exclude:
            built = with_exclusions(built, [u.strip() for u in args.exclude.split(",") if u.strip()], registry)
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
    for line in substitution_lines(model) if model is not None else []:
        print(f"model {model.title}: {line}")
    if built.portfolio.risk_lookback_days == CALENDAR_DAYS:
        print("every unit trades every calendar day (crypto): figures annualised with 365 days, "
              "risk limits measured over the last 365 returns")
    print(f"saved {output}; run it with: python main.py --config {output} --replay")
    return 0


if __name__ == "__main__":
    sys.exit(main())
