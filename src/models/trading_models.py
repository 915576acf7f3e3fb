"""Holdings, prices, fees and orders: what the order builder reads and writes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

from pydantic import Field, field_validator, model_validator

from src.models.base import StrictModel, UnitKind
from src.models.risk_models import RiskExclusion


class FeeModel(StrictModel):
    """Trading cost of one order: ``notional * bps / 10_000 + fixed``."""

    bps: float = Field(10.0, ge=0.0, le=1000.0, description="Proportional fee in basis points.")
    fixed: float = Field(0.0, ge=0.0, description="Fixed fee per order, in account currency.")

    def fee(self, notional: float) -> float:
        """Fee charged on an order of ``notional`` (>= 0) currency units."""
        return abs(notional) * self.bps / 10_000.0 + self.fixed


class PortfolioState(StrictModel):
    """A snapshot of the account at one instant: cash, holdings and prices.

    Quantities are units of each allocation unit (shares of an asset, or sleeve units of a
    strategy whose price is its net asset value per unit).
    """

    timestamp: datetime = Field(description="When the snapshot was taken (the event's clock).")
    cash: float = Field(ge=0.0, description="Uninvested cash in account currency.")
    holdings: dict[str, float] = Field(
        default_factory=dict, description="Quantity held per unit (>= 0; long-only)."
    )
    prices: dict[str, float] = Field(description="Price per unit (> 0) for every unit in play.")
    last_rebalance_at: Optional[datetime] = Field(
        None, description="When the portfolio was last rebalanced, if ever."
    )
    last_check_at: Optional[datetime] = Field(
        None, description="When drift was last checked, if ever (for check_frequency)."
    )
    last_trigger_at: Optional[datetime] = Field(
        None, description="When a trigger last fired, whatever came of it (a calendar fires once per period)."
    )
    memory: dict[str, float] = Field(
        default_factory=dict,
        description="What triggers and engines remember between decisions (e.g. when a calendar last "
        "decided, whether an adaptive tilt is adopted); keys are namespaced by the component.",
    )
    risk_exclusions: dict[str, RiskExclusion] = Field(
        default_factory=dict, description="Units the risk stage holds out, by unit (hysteresis)."
    )

    @field_validator("holdings")
    @classmethod
    def _quantities_non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for unit, qty in value.items():
            if qty < 0:
                raise ValueError(f"holdings[{unit!r}]={qty} must be >= 0 (no short positions)")
        return value

    @field_validator("prices")
    @classmethod
    def _prices_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for unit, price in value.items():
            if price <= 0:
                raise ValueError(f"prices[{unit!r}]={price} must be > 0")
        return value

    @model_validator(mode="after")
    def _held_units_priced(self) -> "PortfolioState":
        for unit, qty in self.holdings.items():
            if qty > 0 and unit not in self.prices:
                raise ValueError(f"prices[{unit!r}] is missing for a held unit (quantity {qty})")
        return self

    def values(self) -> dict[str, float]:
        """Market value per held unit."""
        return {u: q * self.prices[u] for u, q in self.holdings.items() if q > 0}

    def total_value(self) -> float:
        """Cash plus the market value of every holding."""
        return self.cash + sum(self.values().values())

    def weights(self, units: list[str]) -> dict[str, float]:
        """Weight of each of ``units`` in total value (0 for units not held)."""
        total = self.total_value()
        if total <= 0:
            raise ValueError(f"total portfolio value={total} must be > 0 to compute weights")
        vals = self.values()
        return {u: vals.get(u, 0.0) / total for u in units}


class StrategyPosition(StrictModel):
    """One unit's place in the portfolio: what is held against what is targeted."""

    unit: str = Field(description="Strategy id or asset symbol.")
    kind: UnitKind = Field(description="strategy sleeve or plain asset.")
    quantity: float = Field(ge=0.0, description="Units held.")
    price: float = Field(gt=0.0, description="Price per unit.")
    value: float = Field(ge=0.0, description="quantity * price.")
    weight: float = Field(ge=0.0, description="Share of the value the targets apply to (the total less exclude_assets "
                          "holdings; an excluded unit's share of the total).")
    target_weight: float = Field(ge=0.0, le=1.0, description="Configured target weight.")
    drift: float = Field(description="weight - target_weight.")


class OrderSide(str, Enum):
    """Direction of an order."""

    BUY = "buy"
    SELL = "sell"


class OrderStatus(str, Enum):
    """Life cycle of an order; the builder emits PLANNED, brokers move it on."""

    PLANNED = "planned"
    SUBMITTED = "submitted"
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Order(StrictModel):
    """A market order with the reason it exists."""

    client_order_id: str = Field(
        description="Deterministic id: the same plan always yields the same ids, so a retry or a "
        "restart never sends an order twice."
    )
    unit: str = Field(description="Strategy id or asset symbol traded.")
    side: OrderSide = Field(description="buy or sell.")
    quantity: float = Field(gt=0.0, description="Units to trade.")
    price: float = Field(gt=0.0, description="Reference price the order was planned at.")
    notional: float = Field(gt=0.0, description="quantity * price.")
    fee: float = Field(ge=0.0, description="Estimated fee.")
    reason: str = Field(description="Why the order exists (drift, target, cash limit).")
    status: OrderStatus = Field(OrderStatus.PLANNED, description="Where the order is in its life.")
    filled_quantity: float = Field(0.0, ge=0.0, description="Units filled so far.")
    average_fill_price: Optional[float] = Field(None, gt=0.0, description="Mean fill price.")
    status_reason: Optional[str] = Field(None, description="Why a broker rejected or failed it.")


class SkippedTrade(StrictModel):
    """A trade the builder decided not to make, and why."""

    unit: str = Field(description="Unit that would have traded.")
    desired_notional: float = Field(description="Signed trade value wanted (+buy, -sell).")
    reason: str = Field(description="Why it was skipped.")


class OrderPlan(StrictModel):
    """The order builder's output."""

    orders: list[Order] = Field(description="Sells first, then buys.")
    skipped: list[SkippedTrade] = Field(default_factory=list, description="Trades not made.")
    value_before: float = Field(description="Portfolio value before trading.")
    cash_before: float = Field(description="Cash before trading.")
    expected_value_after: float = Field(description="Value after trading at the same prices, net of fees.")
    expected_cash_after: float = Field(ge=0.0, description="Cash left after all orders fill.")
    estimated_fees: float = Field(ge=0.0, description="Sum of order fees.")
    expected_weights: dict[str, float] = Field(description="Post-trade weight per unit.")
