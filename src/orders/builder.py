"""Turning final target weights into orders a venue accepts.

Rules: trades smaller than the minimum (``min_trade_size`` as a fraction of portfolio value, but
never more than half the smallest positive target, so a portfolio of many small units still
trades) are skipped with a reason, except that skipped buys are made after all when the cash
they would leave idle is itself at least the minimum (cash does not build up from skipped buys);
sells come before buys; a sell never exceeds the units held; buys never spend more
than the cash available after the sells and all fees (they are scaled down together if cash
is short); every order has a deterministic client order id and says why it exists; and a plan
that would leave the portfolio further from its targets than it is now is not made.
"""

from __future__ import annotations

import hashlib
import logging

from src.errors import DataError
from src.models.trading_models import (
    FeeModel,
    Order,
    OrderPlan,
    OrderSide,
    PortfolioState,
    SkippedTrade,
)

log = logging.getLogger(__name__)

# Keep a hair of cash back when scaling buys so float rounding can never make cash negative.
CASH_SAFETY = 1e-12
DUST = 1e-12


def client_order_id(plan_id: str, unit: str, side: OrderSide) -> str:
    """Deterministic id (32 chars of [a-z0-9]) of the order for ``unit`` in plan ``plan_id``."""
    digest = hashlib.sha256(f"{plan_id}|{unit}|{side.value}".encode()).hexdigest()
    return "rb" + digest[:30]


def _drift(values: dict[str, float], nav: float, targets: dict[str, float]) -> float:
    units = set(values) | set(targets)
    return sum(abs(values.get(u, 0.0) / nav - targets.get(u, 0.0)) for u in units)


def _fits(targets: dict[str, float], state: PortfolioState) -> None:
    for unit, weight in targets.items():
        if weight < 0:
            raise DataError(f"targets[{unit!r}]={weight} is negative")
        if unit not in state.prices:
            raise DataError(f"prices[{unit!r}] is missing: cannot trade a unit without a price")
    if sum(targets.values()) > 1.0 + 1e-9:
        raise DataError(f"targets sum to {sum(targets.values()):.6g} > 1: a cash account cannot borrow")
    if state.total_value() <= 0:
        raise DataError(f"portfolio value={state.total_value()} must be > 0 to rebalance")


def build_orders(
    state: PortfolioState,
    targets: dict[str, float],
    *,
    fee_model: FeeModel,
    min_trade_size: float,
    plan_id: str,
    cash_reserve_bps: float = 0.0,
) -> OrderPlan:
    """Orders that move ``state`` towards ``targets``.

    Parameters
    ----------
    state : PortfolioState
        Cash, holdings and a price for every unit held or targeted.
    targets : dict
        Final target weight per unit (of total value; sum <= 1, the rest stays cash). Units held
        but not in ``targets`` are sold.
    fee_model : FeeModel
        Fees charged per order.
    min_trade_size : float
        Trades worth less than this fraction of portfolio value are skipped.
    plan_id : str
        Deterministic id of the decision; seeds the client order ids.
    cash_reserve_bps : float
        Cash kept back per unit of buys (e.g. the broker's expected slippage), so a buy
        planned at the reference price is not refused when it fills a little higher.

    Returns
    -------
    OrderPlan

    Raises
    ------
    DataError
        If a targeted unit has no price, a target is negative, or targets sum above 1.
    """
    _fits(targets, state)
    nav = state.total_value()
    values = state.values()
    units = list(dict.fromkeys([*targets, *values]))
    smallest = min((t for t in targets.values() if t > 0), default=min_trade_size * 2)
    min_trade_size = min(min_trade_size, smallest / 2.0)
    skipped: list[SkippedTrade] = []
    wanted: dict[str, float] = {}
    small: dict[str, float] = {}
    for unit in units:
        desired = targets.get(unit, 0.0) * nav - values.get(unit, 0.0)
        if abs(desired) <= DUST * nav:
            continue
        if abs(desired) < min_trade_size * nav:
            small[unit] = desired
            continue
        wanted[unit] = desired
    # Which small trades are made after all: small sells when the wanted buys lack at least the minimum of cash,
    # small buys (largest first) while the cash they use would otherwise sit idle beyond what
    # the targets keep in cash. Skipping both would let cash build up rebalance after rebalance.
    rate = (1.0 + fee_model.bps / 10_000.0) * (1.0 + cash_reserve_bps / 10_000.0)
    keep = 1.0 - cash_reserve_bps / 10_000.0 - fee_model.bps / 10_000.0
    after_sells = state.cash + sum(-d * keep for d in wanted.values() if d < 0)
    buy_need = sum(d * rate for d in wanted.values() if d > 0)
    swept: set[str] = set()
    if buy_need - after_sells >= min_trade_size * nav:  # a shortfall worth a trade, not float noise or fees
        swept |= {u for u, d in small.items() if d < 0}
    else:
        idle = after_sells - buy_need - max(0.0, 1.0 - sum(targets.values())) * nav
        idle = idle if idle >= min_trade_size * nav else 0.0
        for unit, desired in sorted(((u, d) for u, d in small.items() if d > 0), key=lambda x: -x[1]):
            if idle > DUST * nav:
                swept.add(unit)
                small[unit] = min(desired, idle / rate)  # the last one takes what idle cash is left
                idle -= small[unit] * rate
    for unit, desired in small.items():
        if unit in swept:
            wanted[unit] = desired
            continue
        skipped.append(SkippedTrade(unit=unit, desired_notional=desired,
                                    reason=f"{abs(desired) / nav:.4%} of value is below min_trade_size {min_trade_size:.4%}"))

    def reason(unit: str, extra: str = "") -> str:
        return (f"{unit}: weight {values.get(unit, 0.0) / nav:.4f} -> target {targets.get(unit, 0.0):.4f}"
                + (f"; {extra}" if extra else ""))

    sells: list[Order] = []
    holdings = dict(state.holdings)
    cash = state.cash
    for unit, desired in wanted.items():
        if desired >= 0:
            continue
        price, held = state.prices[unit], state.holdings.get(unit, 0.0)
        full_exit = targets.get(unit, 0.0) == 0.0
        qty = held if full_exit else min(-desired / price, held)
        notional = qty * price
        fee = fee_model.fee(notional)
        if fee >= notional:
            skipped.append(SkippedTrade(unit=unit, desired_notional=desired, reason=f"fee {fee:.2f} >= proceeds {notional:.2f}"))
            continue
        sells.append(Order(client_order_id=client_order_id(plan_id, unit, OrderSide.SELL), unit=unit,
                           side=OrderSide.SELL, quantity=qty, price=price, notional=notional, fee=fee,
                           reason=reason(unit, "exit: not a target" if unit not in targets else "")))
        holdings[unit] = held - qty
        # A sell may fill cash_reserve_bps worse too: count only what it surely brings in.
        cash += notional * (1.0 - cash_reserve_bps / 10_000.0) - fee

    buys = {u: d for u, d in wanted.items() if d > 0}
    # A fill at a price cash_reserve_bps worse is charged its fee on that worse notional, hence
    # the product rather than the sum of the two rates (``rate`` above).
    scale = 1.0
    while buys:
        need = sum(buys.values()) * rate + fee_model.fixed * len(buys)
        scale = 1.0 if need <= cash else max(0.0, (cash * (1 - CASH_SAFETY) - fee_model.fixed * len(buys)) / (sum(buys.values()) * rate))
        under = [u for u, d in buys.items()
                 if d * scale < (DUST * nav if u in swept else max(min_trade_size * nav, DUST * nav))]
        if not under:
            break
        # Drop the smallest buy only: the others then share its cash and may clear the minimum.
        unit = min(under, key=lambda u: buys[u])
        desired = buys.pop(unit)
        skipped.append(SkippedTrade(unit=unit, desired_notional=desired,
                                    reason=f"not enough cash: scaled buy {desired * scale:.2f} below min_trade_size"))
    orders_buy: list[Order] = []
    for unit, desired in buys.items():
        notional = desired * scale
        price = state.prices[unit]
        fee = fee_model.fee(notional)
        extra = f"scaled to available cash ({scale:.4f} of desired)" if scale < 1.0 else ""
        orders_buy.append(Order(client_order_id=client_order_id(plan_id, unit, OrderSide.BUY), unit=unit,
                                side=OrderSide.BUY, quantity=notional / price, price=price, notional=notional,
                                fee=fee, reason=reason(unit, extra)))
        holdings[unit] = holdings.get(unit, 0.0) + notional / price
        cash -= notional + fee
    cash = max(cash, 0.0) if cash > -DUST * nav else cash  # float dust only; a real shortfall stays visible
    if cash < 0:
        raise AssertionError(f"order builder bug: cash after orders {cash} < 0")

    orders = sells + orders_buy
    after_values = {u: q * state.prices[u] for u, q in holdings.items() if q > 0}
    nav_after = cash + sum(after_values.values())
    if orders and _drift(after_values, nav_after, targets) > _drift(values, nav, targets) + 1e-12:
        log.info("plan %s dropped: trading would not reduce drift", plan_id)
        skipped += [SkippedTrade(unit=o.unit, desired_notional=o.notional if o.side == OrderSide.BUY else -o.notional,
                                 reason="plan would not reduce drift after fees") for o in orders]
        orders, after_values, nav_after, cash = [], values, nav, state.cash
    return OrderPlan(
        orders=orders,
        skipped=skipped,
        value_before=nav,
        cash_before=state.cash,
        expected_value_after=nav_after,
        expected_cash_after=cash,
        estimated_fees=sum(o.fee for o in orders),
        expected_weights={u: after_values.get(u, 0.0) / nav_after for u in units},
    )
