"""Positions against targets: what the dashboard, ``kit rebalance status`` and the API show."""

from __future__ import annotations

from collections.abc import Callable

from src.models.base import UnitKind
from src.models.portfolio_models import PortfolioConfig
from src.models.trading_models import PortfolioState, StrategyPosition


def positions_of(state: PortfolioState, config: PortfolioConfig,
                 is_strategy: Callable[[str], bool]) -> list[StrategyPosition]:
    """Every configured or held unit: quantity, value, weight, target and drift.

    Targets apply to the value less the ``exclude_assets`` holdings, so the other units' weights
    are of that value; an excluded unit is weighed against the total and has no drift.
    """
    total, excluded = state.total_value(), set(config.exclude_assets)
    base = total - sum(v for u, v in state.values().items() if u in excluded)
    out = []
    for unit in dict.fromkeys([*config.units, *state.holdings]):
        qty = state.holdings.get(unit, 0.0)
        value = qty * state.prices[unit]
        target = config.target_allocations.get(unit, 0.0)
        weight = value / (total if unit in excluded or base <= 0 else base)
        kind = UnitKind.STRATEGY if is_strategy(unit) else UnitKind.ASSET
        out.append(StrategyPosition(unit=unit, kind=kind, quantity=qty, price=state.prices[unit], value=value,
                                    weight=weight, target_weight=target,
                                    drift=0.0 if unit in excluded else weight - target))
    return out
