"""The venue stage: orders a venue accepts, in paper and live alike (pure, no I/O).

After the order builder, each order's amount is rounded *down* to its market's step with ccxt's
own ``decimal_to_precision`` (what ``exchange.amount_to_precision`` does), a sell never exceeds
what is held, and an order whose rounded amount is below the market's minimum amount, or whose
cost is below its minimum cost, is not sent: it becomes a skipped trade with the reason. Rounding
down only shrinks buys, so the cash check the builder made still holds. The paper broker and
``CcxtBroker`` get the same rules (a shipped snapshot, or the live markets), so a dry run shows
exactly what live would send.
"""

from __future__ import annotations

from ccxt.base.decimal_to_precision import NO_PADDING, TRUNCATE, decimal_to_precision

from src.models.trading_models import FeeModel, Order, OrderPlan, OrderSide, SkippedTrade
from src.models.venue_models import MarketRules, VenueRules


def round_amount(amount: float, market: MarketRules) -> float:
    """``amount`` truncated to the market's precision (unchanged if the market has none)."""
    if market.amount_precision is None:
        return amount
    text = decimal_to_precision(amount, rounding_mode=TRUNCATE, precision=market.amount_precision,
                                counting_mode=market.precision_mode, padding_mode=NO_PADDING)
    return float(text)


def venue_problem(amount: float, price: float, market: MarketRules) -> str | None:
    """Why the venue would refuse ``amount`` at ``price``, or None."""
    if amount <= 0 or amount < market.min_amount:
        return (f"{market.symbol} amount {amount:.10g} is below the market's minimum {market.min_amount:.10g} "
                f"after rounding to its step")
    if amount * price < market.min_cost:
        return f"{market.symbol} cost {amount * price:.2f} is below the market's minimum {market.min_cost:.2f}"
    if market.max_amount is not None and amount > market.max_amount:
        return f"{market.symbol} amount {amount:.10g} is above the market's maximum {market.max_amount:.10g}"
    return None


def apply_venue_rules(plan: OrderPlan, rules: VenueRules, holdings: dict[str, float],
                      fee_model: FeeModel) -> OrderPlan:
    """``plan`` with every order rounded to its market and the unsendable ones skipped.

    Parameters
    ----------
    plan : OrderPlan
        The order builder's output (sells first).
    rules : VenueRules
        Market rules per unit; units without rules pass unchanged.
    holdings : dict
        Units held per unit (a sell never exceeds them).
    fee_model : FeeModel
        Re-estimates each order's fee on its rounded notional.
    """
    orders: list[Order] = []
    skipped = list(plan.skipped)
    for order in plan.orders:
        market = rules.markets.get(order.unit)
        if market is None:
            orders.append(order)
            continue
        amount = order.quantity
        if order.side == OrderSide.SELL:
            amount = min(amount, holdings.get(order.unit, 0.0))
        amount = round_amount(amount, market)
        problem = venue_problem(amount, order.price, market)
        signed = order.notional if order.side == OrderSide.BUY else -order.notional
        if problem is not None:
            skipped.append(SkippedTrade(unit=order.unit, desired_notional=signed, reason=problem))
            continue
        if amount != order.quantity:
            notional = amount * order.price
            order = order.model_copy(update={"quantity": amount, "notional": notional,
                                             "fee": fee_model.fee(notional)})
        orders.append(order)
    if orders == plan.orders and len(skipped) == len(plan.skipped):
        return plan
    return _replan(plan, orders, skipped)


def _replan(plan: OrderPlan, orders: list[Order], skipped: list[SkippedTrade]) -> OrderPlan:
    """The plan's expectations after rounding: cash and weights at the same prices."""
    cash = plan.cash_before
    held_value = {u: w * plan.expected_value_after for u, w in plan.expected_weights.items()}
    for before in plan.orders:  # undo the builder's expectation of each order ...
        sign = 1.0 if before.side == OrderSide.BUY else -1.0
        held_value[before.unit] = held_value.get(before.unit, 0.0) - sign * before.notional
    for order in orders:  # ... and apply the rounded ones
        sign = 1.0 if order.side == OrderSide.BUY else -1.0
        held_value[order.unit] = held_value.get(order.unit, 0.0) + sign * order.notional
        cash -= sign * order.notional + order.fee
    fees = sum(o.fee for o in orders)
    value_after = cash + sum(held_value.values())
    weights = {u: max(v, 0.0) / value_after for u, v in held_value.items()} if value_after > 0 else {}
    return plan.model_copy(update={"orders": orders, "skipped": skipped, "expected_cash_after": max(cash, 0.0),
                                   "expected_value_after": value_after, "estimated_fees": fees,
                                   "expected_weights": weights})
