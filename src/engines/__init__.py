"""Interchangeable rebalancing engines and their triggers (all pure)."""

from src.engines.adaptive import AdaptiveEngine
from src.engines.base import RebalancingEngine
from src.engines.calendar_engine import CalendarEngine
from src.engines.context import MarketContext
from src.engines.covariance import ledoit_wolf
from src.engines.factory import ENGINES, create_engine
from src.engines.risk_budget import risk_budget_weights, risk_contributions
from src.engines.risk_parity import RiskParityEngine
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
    "ENGINES", "AdaptiveEngine", "AllOf", "AlwaysTrigger", "AnyDriftTrigger", "AnyOf",
    "CalendarEngine", "CalendarTrigger", "CheckFrequencyGate", "DriftBandTrigger", "MarketContext",
    "RebalancingEngine", "RiskParityEngine", "ThresholdEngine", "Trigger", "create_engine",
    "ledoit_wolf", "risk_budget_weights", "risk_contributions",
]
