"""Choosing the engine for a configuration."""

from __future__ import annotations

from src.engines.adaptive import AdaptiveEngine
from src.engines.base import RebalancingEngine
from src.engines.calendar_engine import CalendarEngine
from src.engines.risk_parity import RiskParityEngine
from src.engines.threshold import ThresholdEngine
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod

ENGINES: dict[RebalancingMethod, type[RebalancingEngine]] = {
    RebalancingMethod.THRESHOLD: ThresholdEngine,
    RebalancingMethod.CALENDAR: CalendarEngine,
    RebalancingMethod.ADAPTIVE: AdaptiveEngine,
    RebalancingMethod.RISK_PARITY: RiskParityEngine,
}


def create_engine(config: PortfolioConfig) -> RebalancingEngine:
    """The engine for ``config.rebalancing_method``, built from the validated config."""
    return ENGINES[config.rebalancing_method](config)


def resolve_engine(config: PortfolioConfig, engine: "RebalancingEngine | str | None" = None) -> RebalancingEngine:
    """The engine instance as given, or the configured method's engine when None."""
    if isinstance(engine, RebalancingEngine):
        return engine
    if engine is None:
        return create_engine(config)
    from src.errors import ConfigError

    raise ConfigError(f"engine={engine!r} is not a RebalancingEngine instance")
