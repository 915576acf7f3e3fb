"""Interchangeable rebalancing engines and their triggers (all pure)."""

from src.engines.adaptive import AdaptiveEngine
from src.engines.base import RebalancingEngine
from src.engines.calendar_engine import CalendarEngine
from src.engines.context import MarketContext
from src.engines.cost_aware import CostAwareEngine, NoTradeRegionTrigger, no_trade_check, solve_trade
from src.engines.covariance import ledoit_wolf
from src.engines.event_triggers import (
    AgainstConfiguredTargets,
    ConcentrationTrigger,
    CrisisTrigger,
    SingleUnitDriftTrigger,
    attach_event_triggers,
    drift_condition,
)
from src.engines.factory import (
    ENGINES,
    create_engine,
    register_engine,
    registered_engines,
    resolve_engine,
    unregister_engine,
)
from src.engines.hybrid import HybridEngine
from src.engines.risk_budget import risk_budget_weights, risk_contributions
from src.engines.risk_parity import RiskParityEngine
from src.engines.tactical import TacticalEngine, TrendDelayTrigger
from src.engines.threshold import ThresholdEngine
from src.engines.triggers import (
    AllOf,
    AlwaysTrigger,
    AnyDriftTrigger,
    AnyOf,
    CalendarTrigger,
    CheckFrequencyGate,
    DriftBandTrigger,
    Trigger,
)

__all__ = [
    "ENGINES", "AdaptiveEngine", "AgainstConfiguredTargets", "AllOf", "AlwaysTrigger", "AnyDriftTrigger",
    "AnyOf", "CalendarEngine", "CalendarTrigger", "CheckFrequencyGate", "ConcentrationTrigger",
    "CostAwareEngine", "CrisisTrigger", "DriftBandTrigger", "HybridEngine", "MarketContext",
    "NoTradeRegionTrigger", "RebalancingEngine", "RiskParityEngine", "SingleUnitDriftTrigger",
    "TacticalEngine", "ThresholdEngine", "TrendDelayTrigger", "Trigger", "attach_event_triggers",
    "create_engine", "drift_condition", "ledoit_wolf", "no_trade_check", "register_engine",
    "registered_engines", "resolve_engine", "risk_budget_weights", "risk_contributions", "solve_trade",
    "unregister_engine",
]
