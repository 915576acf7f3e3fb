"""Public configuration models of the rebalancing agent.

Everything the users' guide imports lives here (``PortfolioConfig``, ``RebalancingMethod``,
``DEFAULT_RISK_LIMITS``); the stage-to-stage models are re-exported for convenience.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, Optional, Union

from pydantic import Field, field_validator, model_validator

from src.models.base import Frequency, StrictModel, UnitKind
from src.models.decision_models import (
    EngineResult,
    Exclusion,
    PlanStatus,
    RebalancePlan,
    RebalancingEvent,
    TriggerDecision,
)
from src.models.params import (
    AdaptiveParams,
    CalendarParams,
    CostAwareParams,
    EventTriggerParams,
    HybridParams,
    MethodParams,
    RiskParityParams,
    TacticalParams,
    ThresholdParams,
)
from src.models.risk_models import (
    DEFAULT_RISK_LIMITS,
    ReasonCode,
    RiskAction,
    RiskDecision,
    RiskExclusion,
    RiskLimits,
    RiskPolicy,
    RiskStatus,
    RiskVerdict,
)
from src.models.trading_models import (
    FeeModel,
    Order,
    OrderPlan,
    OrderSide,
    OrderStatus,
    PortfolioState,
    SkippedTrade,
    StrategyPosition,
)

WEIGHT_SUM_TOLERANCE = 1e-6
# Float tolerance when comparing a configured weight with a limit (0.40 vs max 0.4).
LIMIT_TOLERANCE = 1e-9


class RebalancingMethod(str, Enum):
    """The interchangeable engines."""

    THRESHOLD = "threshold"
    CALENDAR = "calendar"
    ADAPTIVE = "adaptive"
    RISK_PARITY = "risk_parity"
    COST_AWARE = "cost_aware"
    TACTICAL = "tactical"
    HYBRID = "hybrid"


PARAMS_BY_METHOD: dict[RebalancingMethod, type[MethodParams]] = {
    RebalancingMethod.THRESHOLD: ThresholdParams,
    RebalancingMethod.CALENDAR: CalendarParams,
    RebalancingMethod.ADAPTIVE: AdaptiveParams,
    RebalancingMethod.RISK_PARITY: RiskParityParams,
    RebalancingMethod.COST_AWARE: CostAwareParams,
    RebalancingMethod.TACTICAL: TacticalParams,
    RebalancingMethod.HYBRID: HybridParams,
}


class PortfolioConfig(StrictModel):
    """A portfolio: its units and weights, how it rebalances, and its risk limits.

    Validated once, when constructed: weights must be finite, non-negative and sum to 1; the
    parameters must fit the method; the limits must be feasible for the number of units; and the
    configured targets must themselves satisfy the per-unit and leverage limits.
    """

    name: str = Field(min_length=1, max_length=100,
                      description="Portfolio name, used in events and file names (at most 100 characters).")
    target_allocations: dict[str, float] = Field(
        description="Target weight per unit (strategy id or asset symbol); sums to 1."
    )
    rebalancing_method: RebalancingMethod = Field(
        RebalancingMethod.THRESHOLD, description="Which engine decides."
    )
    rebalancing_params: Union[ThresholdParams, CalendarParams, AdaptiveParams, RiskParityParams,
                              CostAwareParams, TacticalParams, HybridParams] = Field(
        default=None,  # replaced by the method's defaults in the validator
        validate_default=True,
        description="Parameters of the method (a dict is validated into the method's model).",
    )
    risk_limits: RiskLimits = Field(
        default_factory=RiskLimits, description="Limits checked after the engine."
    )
    risk_policy: RiskPolicy = Field(
        default_factory=RiskPolicy,
        description="What a failed limit does: where dropped weight goes, hysteresis before a unit is "
        "readmitted, whether trailing unit limits apply to plain assets, and whether portfolio-level "
        "limits warn or block.",
    )
    risk_lookback_days: int = Field(
        252, ge=20, description="Trading days of returns the risk limits are measured over."
    )
    min_history_days: int = Field(
        60,
        ge=2,
        description="Fewest daily returns a unit needs inside the lookback; units with fewer are "
        "excluded with a recorded reason.",
    )
    fee_model: FeeModel = Field(default_factory=FeeModel, description="Fees used to plan orders.")
    event_triggers: Optional[EventTriggerParams] = Field(
        None,
        description="Event triggers OR-ed with the method's own trigger, whatever the method: a partial "
        "rebalance of a unit that drifted single_unit_drift from its target, a full rebalance when a unit "
        "reaches concentration_limit, and an immediate drift check in a crisis (crisis_daily_drop, "
        "crisis_vol_ratio). None: the method's trigger alone.",
    )
    exclude_assets: list[str] = Field(
        default_factory=list, max_length=200,
        description="Units never bought or sold (e.g. a restricted stock, or BNB kept for fees): a held "
        "position stays as it is, outside the targets, and weights and drift are computed on the rest of "
        "the portfolio. An excluded unit has no target weight.",
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(f"name={value!r} must not be blank")
        return value

    @field_validator("target_allocations")
    @classmethod
    def _weights_valid(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("target_allocations={} is empty: name at least one unit")
        for unit, weight in value.items():
            if not unit or not unit.strip():
                raise ValueError(f"target_allocations has a blank unit name {unit!r}")
            if not math.isfinite(weight):
                raise ValueError(f"target_allocations[{unit!r}]={weight} is not a finite number")
            if weight < 0:
                raise ValueError(f"target_allocations[{unit!r}]={weight} is negative")
        total = sum(value.values())
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"target_allocations sums to {total:.6g}, not 1 ({value})")
        return value

    @field_validator("exclude_assets")
    @classmethod
    def _excluded_outside_targets(cls, value: list[str], info) -> list[str]:
        targets = info.data.get("target_allocations") or {}
        for unit in value:
            if not unit or not unit.strip():
                raise ValueError(f"exclude_assets has a blank unit name {unit!r}")
            if unit in targets:
                raise ValueError(f"{unit!r} also has a target weight in target_allocations; an excluded unit is "
                                 f"held as it is, outside the targets (remove one of the two)")
        if len(set(value)) != len(value):
            raise ValueError(f"exclude_assets lists a unit twice ({value})")
        return value

    @field_validator("risk_limits", mode="before")
    @classmethod
    def _mapping_to_dict(cls, value: Any) -> Any:
        # DEFAULT_RISK_LIMITS is a read-only mapping; pydantic wants a plain dict or a model.
        if isinstance(value, RiskLimits) or isinstance(value, dict):
            return value
        if hasattr(value, "keys") and hasattr(value, "__getitem__"):
            return {k: value[k] for k in value.keys()}
        return value

    @field_validator("rebalancing_params", mode="before")
    @classmethod
    def _params_for_method(cls, value: Any, info) -> Any:
        method = info.data.get("rebalancing_method")
        if method is None:  # the method itself was invalid; that error is reported already, alone:
            # params checked against the whole Union would add one complaint per params class
            return value if isinstance(value, MethodParams) else ThresholdParams()
        model = PARAMS_BY_METHOD[RebalancingMethod(method)]
        if value is None:
            return model()
        if isinstance(value, MethodParams):
            if not isinstance(value, model):
                raise ValueError(
                    f"rebalancing_params is {type(value).__name__}, but method "
                    f"{RebalancingMethod(method).value!r} needs {model.__name__}"
                )
            return value
        if not isinstance(value, dict):
            raise ValueError(f"rebalancing_params={value!r} must be a dict or {model.__name__}")
        return model.model_validate(value)

    @model_validator(mode="after")
    def _limits_feasible_and_met(self) -> "PortfolioConfig":
        check_limits_feasible(len(self.target_allocations), self.risk_limits)
        limits = self.risk_limits
        for unit, weight in self.target_allocations.items():
            if weight > limits.max_single_strategy + LIMIT_TOLERANCE:
                raise ValueError(
                    f"target_allocations[{unit!r}]={weight} exceeds "
                    f"risk_limits.max_single_strategy={limits.max_single_strategy}"
                )
            if 0 < weight < limits.min_single_strategy - LIMIT_TOLERANCE:
                raise ValueError(
                    f"target_allocations[{unit!r}]={weight} is below "
                    f"risk_limits.min_single_strategy={limits.min_single_strategy}"
                )
        if 1.0 > limits.max_portfolio_leverage + LIMIT_TOLERANCE:
            raise ValueError(
                f"target_allocations are fully invested (gross 1.0) but "
                f"risk_limits.max_portfolio_leverage={limits.max_portfolio_leverage}"
            )
        params = self.rebalancing_params
        if isinstance(params, RiskParityParams) and params.target_risk_contribution is not None:
            unknown = sorted(set(params.target_risk_contribution) - set(self.target_allocations))
            missing = sorted(set(self.target_allocations) - set(params.target_risk_contribution))
            if unknown or missing:
                raise ValueError(
                    f"rebalancing_params.target_risk_contribution must name exactly the units of "
                    f"target_allocations (unknown: {unknown}, missing: {missing})"
                )
        return self

    @property
    def units(self) -> list[str]:
        """Configured units in configuration order."""
        return list(self.target_allocations)


def check_limits_feasible(n_units: int, limits: RiskLimits) -> None:
    """Raise ``ValueError`` naming the limit if no weights on ``n_units`` can meet the bounds."""
    if n_units * limits.max_single_strategy < 1.0 - LIMIT_TOLERANCE:
        raise ValueError(
            f"risk_limits.max_single_strategy={limits.max_single_strategy} is infeasible with "
            f"{n_units} unit(s): {n_units} x {limits.max_single_strategy} < 1"
        )
    if n_units * limits.min_single_strategy > 1.0 + LIMIT_TOLERANCE:
        raise ValueError(
            f"risk_limits.min_single_strategy={limits.min_single_strategy} is infeasible with "
            f"{n_units} unit(s): {n_units} x {limits.min_single_strategy} > 1"
        )


__all__ = [
    "DEFAULT_RISK_LIMITS", "AdaptiveParams", "CalendarParams", "EngineResult", "Exclusion",
    "FeeModel", "Frequency", "MethodParams", "Order", "OrderPlan", "OrderSide", "OrderStatus",
    "PARAMS_BY_METHOD", "PlanStatus", "PortfolioConfig", "PortfolioState", "ReasonCode",
    "RebalancePlan", "RebalancingEvent", "RebalancingMethod", "RiskAction", "RiskDecision",
    "RiskExclusion", "RiskLimits", "RiskParityParams", "RiskPolicy", "RiskStatus", "RiskVerdict", "SkippedTrade",
    "StrategyPosition", "ThresholdParams", "TriggerDecision", "UnitKind", "check_limits_feasible",
]
