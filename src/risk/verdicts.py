"""Building risk verdicts (shared by the unit and the portfolio-level checks)."""

from __future__ import annotations

from src.models.risk_models import ReasonCode, RiskAction, RiskLimits, RiskVerdict


def verdict(limit: str, value: float | None, threshold: float, action: RiskAction, code: ReasonCode,
            message: str, units: list[str] | None = None) -> RiskVerdict:
    """A verdict built without re-validation (every argument comes from the risk stage itself)."""
    return RiskVerdict.model_construct(limit=limit, value=value, threshold=threshold, action=action,
                                       reason_code=code, units=units or [], message=message)


def not_evaluated(limits: RiskLimits, names: list[str], why: str) -> list[RiskVerdict]:
    """Verdicts of limits skipped because an earlier one blocked."""
    return [verdict(n, None, getattr(limits, n), RiskAction.BLOCK, ReasonCode.NOT_EVALUATED,
                    f"not evaluated: {why}") for n in names]
