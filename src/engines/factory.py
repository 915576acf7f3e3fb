"""Choosing the engine for a configuration: the built-in methods and registered custom engines.

Every engine made here (and every engine passed through :func:`resolve_engine`) gets the
configuration's event triggers OR-ed into its trigger (``src/engines/event_triggers.py``).

Examples
--------
>>> class CustomRebalancer(RebalancingEngine):
...     def calculate_target_weights(self, ctx):
...         return EngineResult(engine="custom", weights=dict(self.config.target_allocations))
>>> register_engine("my_rebalancer", CustomRebalancer)
>>> engine = resolve_engine(config, "my_rebalancer")           # by name
>>> engine = resolve_engine(config, CustomRebalancer(config))  # or the instance itself
"""

from __future__ import annotations

from typing import Optional, Union

from src.engines.adaptive import AdaptiveEngine
from src.engines.base import RebalancingEngine
from src.engines.calendar_engine import CalendarEngine
from src.engines.cost_aware import CostAwareEngine
from src.engines.event_triggers import attach_event_triggers
from src.engines.hybrid import HybridEngine
from src.engines.risk_parity import RiskParityEngine
from src.engines.tactical import TacticalEngine
from src.engines.threshold import ThresholdEngine
from src.errors import ConfigError
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod

ENGINES: dict[RebalancingMethod, type[RebalancingEngine]] = {
    RebalancingMethod.THRESHOLD: ThresholdEngine,
    RebalancingMethod.CALENDAR: CalendarEngine,
    RebalancingMethod.ADAPTIVE: AdaptiveEngine,
    RebalancingMethod.RISK_PARITY: RiskParityEngine,
    RebalancingMethod.COST_AWARE: CostAwareEngine,
    RebalancingMethod.TACTICAL: TacticalEngine,
    RebalancingMethod.HYBRID: HybridEngine,
}

# Custom engines by name (process-wide, like a plugin table).
_CUSTOM: dict[str, type[RebalancingEngine]] = {}


def register_engine(name: str, cls: type[RebalancingEngine]) -> None:
    """Make ``cls`` selectable by ``name`` in :func:`create_engine` and :func:`resolve_engine`.

    Registering the same class under the same name again is allowed (module reloads).

    Raises
    ------
    ConfigError
        If ``name`` is blank or a built-in method's name, ``cls`` is not a concrete
        ``RebalancingEngine`` subclass, or ``name`` is taken by another class.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"engine name={name!r} must be a non-blank string")
    if name in {m.value for m in RebalancingMethod}:
        raise ConfigError(f"engine name={name!r} is a built-in method; choose another name")
    if not (isinstance(cls, type) and issubclass(cls, RebalancingEngine)):
        raise ConfigError(f"engine {name!r}: cls={cls!r} is not a subclass of RebalancingEngine")
    if getattr(cls, "__abstractmethods__", None):
        raise ConfigError(f"engine {name!r}: {cls.__name__} does not implement "
                          f"{sorted(cls.__abstractmethods__)}")
    if _CUSTOM.get(name, cls) is not cls:
        raise ConfigError(f"engine name={name!r} is already registered to {_CUSTOM[name].__name__}")
    _CUSTOM[name] = cls


def unregister_engine(name: str) -> None:
    """Remove a registered custom engine (no error if it is not registered)."""
    _CUSTOM.pop(name, None)


def registered_engines() -> list[str]:
    """Names of the registered custom engines, sorted."""
    return sorted(_CUSTOM)


def create_engine(config: PortfolioConfig, engine_name: Optional[str] = None) -> RebalancingEngine:
    """The engine for ``config``, with its event triggers attached.

    Parameters
    ----------
    config : PortfolioConfig
        The validated configuration.
    engine_name : str, optional
        A registered custom engine's name, or the configured method's own name; None (the
        default) builds the engine of ``config.rebalancing_method``.

    Raises
    ------
    ConfigError
        If ``engine_name`` is neither registered nor a built-in method (the message lists both),
        names another built-in method than the configured one, or the event triggers contradict
        the configuration.
    """
    if engine_name is None:
        cls = ENGINES[config.rebalancing_method]
    elif engine_name in _CUSTOM:
        cls = _CUSTOM[engine_name]
    elif engine_name in {m.value for m in RebalancingMethod}:
        # A built-in engine reads its own parameter model: only the configured method's fits.
        if engine_name != config.rebalancing_method.value:
            raise ConfigError(f"engine_name={engine_name!r} needs rebalancing_method={engine_name!r} "
                              f"(the config has {config.rebalancing_method.value!r})")
        cls = ENGINES[config.rebalancing_method]
    else:
        raise ConfigError(f"engine_name={engine_name!r} is not a registered engine (registered: "
                          f"{registered_engines()}; built-in: {[m.value for m in RebalancingMethod]})")
    return attach_event_triggers(cls(config), config)


def resolve_engine(config: PortfolioConfig,
                   engine: Union[RebalancingEngine, type[RebalancingEngine], str, None] = None) -> RebalancingEngine:
    """The engine to run for ``config``: an instance as is, a registered name, or the method's.

    Parameters
    ----------
    config : PortfolioConfig
        The validated configuration.
    engine : RebalancingEngine, RebalancingEngine subclass, str or None
        An engine instance (returned itself, with ``config``'s event triggers attached once), an
        engine class (built with ``config``), a registered or built-in name (see
        :func:`create_engine`), or None for ``config.rebalancing_method``'s engine.

    Raises
    ------
    ConfigError
        For an unknown name or anything else.
    """
    if engine is None or isinstance(engine, str):
        return create_engine(config, engine)
    if isinstance(engine, RebalancingEngine):
        return attach_event_triggers(engine, config)
    if isinstance(engine, type) and issubclass(engine, RebalancingEngine):
        return attach_event_triggers(engine(config), config)
    raise ConfigError(f"engine={engine!r} must be a RebalancingEngine, a registered engine name or None")
