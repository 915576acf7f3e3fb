"""Resolving allocation units: a registered strategy sleeve or a plain asset with prices."""

from __future__ import annotations

import pandas as pd

from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.errors import UnknownUnitError
from src.models.base import UnitKind
from src.models.portfolio_models import PortfolioConfig
from src.utils.market_data import asset_prices, available_symbols, simple_returns


def resolve_units(config: PortfolioConfig, registry: StrategyRegistryAgent,
                  symbols: list[str] | None = None) -> dict[str, UnitKind]:
    """Kind of every configured unit; strategies take precedence over symbols.

    Parameters
    ----------
    symbols : list of str, optional
        Plain-asset symbols with prices; the shipped ones by default.

    Raises
    ------
    UnknownUnitError
        Naming the first unit that is neither a registered strategy nor a known symbol.
    """
    known = set(available_symbols() if symbols is None else symbols)
    kinds: dict[str, UnitKind] = {}
    for unit in config.units:
        if registry.has_strategy(unit):
            kinds[unit] = UnitKind.STRATEGY
        elif unit in known:
            kinds[unit] = UnitKind.ASSET
        else:
            raise UnknownUnitError(
                f"target_allocations: unknown unit {unit!r} (not a registered strategy and no prices "
                f"for such a symbol)"
            )
    for unit in config.exclude_assets:  # a typo here would silently exclude nothing
        if not registry.has_strategy(unit) and unit not in known:
            raise UnknownUnitError(f"exclude_assets: unknown unit {unit!r} (not a registered strategy and no prices "
                                   f"for such a symbol)")
    return kinds


def unit_returns(config: PortfolioConfig, registry: StrategyRegistryAgent) -> pd.DataFrame:
    """Daily returns of every configured unit on their common dates (inner join, no filling).

    Strategy sleeves use their registry returns; plain assets use the shipped prices.
    """
    kinds = resolve_units(config, registry)
    strategies = [u for u, k in kinds.items() if k == UnitKind.STRATEGY]
    assets = [u for u, k in kinds.items() if k == UnitKind.ASSET]
    parts = []
    if strategies:
        parts.append(registry.returns_frame(strategies))
    if assets:
        parts.append(simple_returns(asset_prices(assets)))
    return pd.concat(parts, axis=1, join="inner")[config.units]
