"""The engine interface: *what* to hold, separate from *whether* to trade now."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Optional

from src.engines.context import MarketContext
from src.engines.triggers import DriftBandTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.portfolio_models import PortfolioConfig


class RebalancingEngine(ABC):
    """Base class of every engine; subclass it for a custom engine.

    An engine is pure: ``calculate_target_weights`` looks only at the config given at
    construction and the ``MarketContext`` of the event (no I/O, no wall clock), so the same
    engine serves live trading, replays and backtests. ``trigger`` says whether to trade now.

    Parameters
    ----------
    config : PortfolioConfig
        The validated portfolio configuration.

    Examples
    --------
    >>> class EqualWeight(RebalancingEngine):
    ...     name = "equal_weight"
    ...     def calculate_target_weights(self, ctx):
    ...         n = len(self.config.units)
    ...         return EngineResult(engine=self.name, weights={u: 1 / n for u in self.config.units})
    """

    name: ClassVar[str] = "custom"

    def __init__(self, config: PortfolioConfig) -> None:
        self.config = config
        self.trigger = self.build_trigger()

    @property
    def params(self):
        """The method's typed parameters."""
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        """The trigger of this engine; by default a 5% absolute drift band."""
        return DriftBandTrigger(min_drift=0.05)

    # What tracking error is measured against. Engines whose targets are the intent (risk parity,
    # adaptive) are measured against their own targets; engines whose targets are only a step
    # towards the configured ones (band edge, cost-aware partial trades, buy and hold) set this.
    measures_against_configured_targets: ClassVar[bool] = False

    def benchmark_targets(self, result: EngineResult) -> dict[str, float]:
        """The targets a backtest's tracking error is measured against for this decision."""
        if self.measures_against_configured_targets:
            return dict(self.config.target_allocations)
        return dict(result.weights)

    @property
    def history_days(self) -> Optional[int]:
        """Trading days of returns the engine and its trigger look back on (None: all history).

        Backtests hand each decision only the last ``max(history_days, risk lookback)`` rows,
        so an engine that declares what it reads costs the same on day 8,000 as on day 300.
        """
        return None

    @abstractmethod
    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        """Target weight per unit (non-negative) for the event in ``ctx``.

        Raises
        ------
        EngineError, InsufficientDataError
            When targets cannot be computed; the pipeline then holds positions and records why.
        """
