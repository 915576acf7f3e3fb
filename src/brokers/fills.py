"""The paper fill model, shared by the paper broker and the backtests (one precision path).

A market order fills in full at the market price moved against it by ``slippage_bps``, and is
charged ``fee_model`` on the filled notional; a buy without the cash for notional plus fee, or a
sell of more units than held, is rejected as a venue would.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from src.models.trading_models import FeeModel, OrderSide, OrderStatus

# Relative slack for float noise when an order spends exactly the cash or sells exactly the units held.
FILL_EPS = 1e-12


class Fill(NamedTuple):
    """Outcome of one simulated market order."""

    status: OrderStatus
    quantity: float
    price: Optional[float]
    fee: float
    reason: Optional[str]


def simulate_fill(side: OrderSide, quantity: float, market_price: float, *, slippage_bps: float,
                  fee_model: FeeModel, cash: float, held: float) -> Fill:
    """Fill (or reject) a market order for ``quantity`` units at ``market_price``."""
    sign = 1.0 if side == OrderSide.BUY else -1.0
    price = market_price * (1.0 + sign * slippage_bps / 10_000.0)
    notional = quantity * price
    fee = fee_model.fee(notional)
    if side == OrderSide.BUY and notional + fee > cash * (1 + FILL_EPS):
        return Fill(OrderStatus.REJECTED, 0.0, None, 0.0,
                    f"insufficient cash: need {notional + fee:.2f}, have {cash:.2f}")
    if side == OrderSide.SELL and quantity > held * (1 + FILL_EPS):
        return Fill(OrderStatus.REJECTED, 0.0, None, 0.0, f"insufficient units: sell {quantity:.6f}, hold {held:.6f}")
    return Fill(OrderStatus.FILLED, quantity, price, fee, None)


def apply_fill(side: OrderSide, fill: Fill, cash: float, held: float) -> tuple[float, float]:
    """Cash and units held after ``fill`` (float dust from selling everything leaves no position)."""
    if fill.status != OrderStatus.FILLED:
        return cash, held
    notional = fill.quantity * fill.price
    if side == OrderSide.BUY:
        return max(0.0, cash - notional - fill.fee), held + fill.quantity
    remaining = held - fill.quantity
    return cash + notional - fill.fee, 0.0 if remaining <= held * FILL_EPS else remaining
