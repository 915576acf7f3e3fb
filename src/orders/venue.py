"""The venue stage: orders a venue accepts, in paper and live alike (pure, no I/O).

After the order builder, each order's amount is rounded *down* to its market's step with ccxt's
own ``decimal_to_precision`` (what ``exchange.amount_to_precision`` does), a sell never exceeds
what is held, and an order whose rounded amount is below the market's minimum amount, or whose
cost is below its minimum cost, is not sent: it becomes a skipped trade with the reason. Rounding
down a sale leaves less cash than the builder counted on: the largest buys give that amount up,
so no buy is refused for a few cents. The paper broker and
``CcxtBroker`` get the same rules (a shipped snapshot, or the live markets), so a dry run shows
exactly what live would send.
"""

from __future__ import annotations

from typing import Optional

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
    # Cash the builder counted on from sales that rounding made smaller (or skipped): the buys
    # give it up, largest first, so the last buy is not refused for a few cents.
    shortfall = 0.0
    buys = sorted((o for o in plan.orders if o.side == OrderSide.BUY), key=lambda o: -o.notional)
    sells = [o for o in plan.orders if o.side == OrderSide.SELL]
    for order in sells:
        kept = _venue_order(order, rules, holdings, fee_model, skipped)
        proceeds = kept.notional - kept.fee if kept is not None else 0.0
        shortfall += max(0.0, (order.notional - order.fee) - proceeds)
        if kept is not None:
            orders.append(kept)
    cut: dict[str, float] = {}
    for order in buys:
        if shortfall <= 0:
            break
        take = min(order.notional, shortfall * (1.0 + fee_model.bps / 10_000.0) * 1.0001)
        cut[order.client_order_id] = take
        shortfall -= take
    for order in plan.orders:
        if order.side != OrderSide.BUY:
            continue
        if order.client_order_id in cut:
            smaller = order.notional - cut[order.client_order_id]
            if smaller <= 0:
                skipped.append(SkippedTrade(unit=order.unit, desired_notional=order.notional,
                                            reason="the cash it needed came from a sale the venue's rounding made smaller"))
                continue
            order = order.model_copy(update={"quantity": smaller / order.price, "notional": smaller,
                                             "fee": fee_model.fee(smaller)})
        kept = _venue_order(order, rules, holdings, fee_model, skipped)
        if kept is not None:
            orders.append(kept)
    if orders == plan.orders and len(skipped) == len(plan.skipped):
        return plan
    return _replan(plan, orders, skipped)


def _venue_order(order: Order, rules: VenueRules, holdings: dict[str, float], fee_model: FeeModel,
                 skipped: list[SkippedTrade]) -> Optional[Order]:
    """``order`` rounded to its market (None, with a skipped trade, if the venue would refuse it)."""
    market = rules.markets.get(order.unit)
    if market is None:
        return order
    amount = order.quantity
    if order.side == OrderSide.SELL:
        amount = min(amount, holdings.get(order.unit, 0.0))
    amount = round_amount(amount, market)
    problem = venue_problem(amount, order.price, market)
    if problem is not None:
        signed = order.notional if order.side == OrderSide.BUY else -order.notional
        skipped.append(SkippedTrade(unit=order.unit, desired_notional=signed, reason=problem))
        return None
    if amount == order.quantity:
        return order
    notional = amount * order.price
    return order.model_copy(update={"quantity": amount, "notional": notional, "fee": fee_model.fee(notional)})


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
