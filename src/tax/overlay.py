"""The agent's tax overlay: lots for the paper account, wash-sale checks, harvesting, swap-backs.

The agent calls it at fixed points of its cycle:

1. ``view(state)``: substitutes held by an open harvest swap stand in for their original, so
   the drift engine sees the original's weight (it does not sell a substitute as untargeted).
2. ``route(orders, state)``: orders on an original held as a substitute go to the substitute;
   then every order is checked against the wash-sale rule (``check_plan``: other lots, a
   substitute, or deferred) and the annual gain budget. Each change has its reason.
3. ``record(orders, day)``: fills become lot buys and sells in the ledger (once per client
   order id, so re-sending a pending event's orders never records a fill twice).
4. ``harvest_orders(state)`` and ``swap_back_orders(state)``: the harvest plan (simulated on a
   copy of the ledger, one harvest at a time) and the swaps whose window has passed.

Its state (ledger and open swaps) is one JSON file, written atomically.
"""

from __future__ import annotations

from contextlib import contextmanager

import hashlib
from datetime import date
from pathlib import Path
from typing import Any, Optional

from pydantic import Field

from src.models.base import StrictModel
from src.models.trading_models import FeeModel, Order, OrderSide, OrderStatus, PortfolioState
from src.tax.harvest import OpenSwap, harvest_all
from src.tax.impact import tax_impact
from src.tax.ledger import LedgerState, TaxLedger
from src.tax.lots import holding_term
from src.tax.models import Account, AccountType, LotMethod, TaxSettings
from src.tax.prevention import PlannedTrade, TradeDecision, apply_gain_budget, check_plan
from src.utils.atomic_io import atomic_write_text, read_model

ACCOUNT = "paper"
FILLED = (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)


class TaxBook(StrictModel):
    """What the overlay persists."""

    ledger: LedgerState = Field(description="Lots and realizations.")
    swaps: list[OpenSwap] = Field(default_factory=list, description="Harvest swaps not yet undone.")
    recorded: list[str] = Field(default_factory=list, description="Client order ids already in the ledger.")
    lot_plan: dict[str, list[str]] = Field(default_factory=dict, description="Lots chosen per sell order id.")
    swap_plan: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per harvest buy order id: the original and substitute it swaps.")
    extend_plan: dict[str, str] = Field(
        default_factory=dict, description="Per buy routed to a substitute: the original whose swap it joins.")


def _order_id(base: str, tag: str) -> str:
    return "rb" + hashlib.sha256(f"{base}|{tag}".encode()).hexdigest()[:30]


class TaxOverlay:
    """Lot tracking, wash-sale prevention and harvesting for the agent's one paper account."""

    def __init__(self, *, path: Path, settings: TaxSettings, account_type: AccountType, household: str,
                 exclude: frozenset[str] = frozenset()) -> None:
        self.path = Path(path)
        self.settings = settings
        self.exclude = frozenset(exclude)  # exclude_assets: never harvested, never bought as a substitute
        account = Account(account_id=ACCOUNT, account_type=account_type, household=household)
        if self.path.exists():
            self.book = read_model(self.path, TaxBook, f"tax file {self.path} is not valid")
        else:
            self.book = TaxBook(ledger=LedgerState(accounts={ACCOUNT: account}))
        self.ledger = TaxLedger([account], settings, state=self.book.ledger)

    def save(self) -> None:
        """Write the ledger and swaps atomically."""
        self.book.ledger = self.ledger.state
        atomic_write_text(self.path, self.book.model_dump_json(indent=1) + "\n")

    # --- 1. the pipeline's view ---------------------------------------------------------

    def _swap_units(self, swap: OpenSwap) -> float:
        return sum(lot.units for lot in self.ledger.descendants(swap.substitute_lot_ids) if lot.symbol == swap.substitute)

    def view(self, state: PortfolioState) -> PortfolioState:
        """``state`` with each open swap's substitute units shown as their original's value."""
        holdings = dict(state.holdings)
        for swap in self.book.swaps:
            units = min(self._swap_units(swap), holdings.get(swap.substitute, 0.0))
            if units <= 0 or swap.original not in state.prices:
                continue
            value = units * state.prices[swap.substitute]
            holdings[swap.substitute] -= units
            holdings[swap.original] = holdings.get(swap.original, 0.0) + value / state.prices[swap.original]
        return state.model_copy(update={"holdings": {u: q for u, q in holdings.items() if q > 1e-12}})

    # --- 2. routing and checks ----------------------------------------------------------

    def route(self, orders: list[Order], state: PortfolioState) -> tuple[list[Order], list[TradeDecision]]:
        """Orders after swap routing, wash-sale checks and the gain budget, with every decision."""
        day = state.timestamp.date()
        swapped = {s.original: s for s in self.book.swaps}
        routed: list[tuple[Order, str]] = []
        for order in orders:
            swap = swapped.get(order.unit)
            if swap is None:
                routed.append((order, order.reason))
                continue
            note = f"{order.unit} is held as {swap.substitute} until the wash-sale window ends"
            price = state.prices[swap.substitute]
            if order.side == OrderSide.SELL:
                # sell the substitute first (up to the swap's units), the rest from the original itself
                sub_units = min(order.notional / price, self._swap_units(swap))
                left = order.notional - sub_units * price
                if sub_units > 0:
                    routed.append((self._moved(order, swap.substitute, sub_units, price), f"{order.reason}; {note}"))
                if left > 1e-9 * order.notional:
                    routed.append((order.model_copy(update={"quantity": left / order.price, "notional": left}),
                                   order.reason))
            else:
                moved = self._moved(order, swap.substitute, order.notional / price, price)
                self.book.extend_plan[moved.client_order_id] = swap.original
                routed.append((moved, f"{order.reason}; {note}"))
        trades = [PlannedTrade(account_id=ACCOUNT, symbol=o.unit, side=o.side, units=o.quantity, price=o.price)
                  for o, _ in routed]
        checked = check_plan(self.ledger, trades, day, state.prices)
        budget = apply_gain_budget(self.ledger, [d.trade for d in checked if d.trade is not None], day)
        by_trade = iter(budget)
        out, decisions = [], []
        for (order, reason), decision in zip(routed, checked):
            decisions.append(decision)
            if decision.trade is None:
                continue
            final = next(by_trade)
            if final.action != "keep":
                decisions.append(final)
            if final.trade is None:
                continue
            t = final.trade
            new = order.model_copy(update={"unit": t.symbol, "quantity": t.units, "price": t.price,
                                           "notional": t.units * t.price, "reason": reason})
            if t.symbol != order.unit:
                new = new.model_copy(update={"client_order_id": _order_id(order.client_order_id, t.symbol),
                                             "reason": f"{reason}; {decision.reason}"})
            if t.lot_ids:
                self.book.lot_plan[new.client_order_id] = list(t.lot_ids)
            out.append(new)
        return out, decisions

    @staticmethod
    def _moved(order: Order, unit: str, units: float, price: float) -> Order:
        return order.model_copy(update={"unit": unit, "quantity": units, "price": price, "notional": units * price,
                                        "client_order_id": _order_id(order.client_order_id, unit)})

    # --- 3. recording fills ---------------------------------------------------------------

    def record(self, orders: list[Order], day: date) -> None:
        """Apply fills to the ledger (each client order id once) and open or close swaps."""
        for order in orders:
            if order.status not in FILLED or order.client_order_id in self.book.recorded:
                continue
            price, units = order.average_fill_price or order.price, order.filled_quantity
            if order.side == OrderSide.BUY:
                lots = self.ledger.buy(account_id=ACCOUNT, symbol=order.unit, units=units, price=price,
                                       trade_date=day, fee=order.fee)
                joins = self.book.extend_plan.pop(order.client_order_id, None)
                for swap in self.book.swaps:
                    if swap.original == joins and swap.substitute == order.unit:
                        swap.substitute_lot_ids.extend(lot.lot_id for lot in lots)
                plan = self.book.swap_plan.pop(order.client_order_id, None)
                if plan is not None:
                    self.book.swaps.append(OpenSwap(account_id=ACCOUNT, original=plan["original"],
                                                    substitute=order.unit, harvested_on=day,
                                                    substitute_lot_ids=[lot.lot_id for lot in lots]))
            else:
                held = self.ledger.units(ACCOUNT, order.unit)
                lot_ids = self.book.lot_plan.pop(order.client_order_id, None)
                self.ledger.sell(account_id=ACCOUNT, symbol=order.unit, units=min(units, held), price=price,
                                 trade_date=day, fee=order.fee,
                                 method=LotMethod.SPECIFIC if lot_ids else None, lot_ids=lot_ids)
            self.book.recorded.append(order.client_order_id)
        self.book.swaps = [s for s in self.book.swaps if self._swap_units(s) > 0]
        self.save()

    # --- 4. harvesting and swapping back --------------------------------------------------

    def harvest_orders(self, state: PortfolioState, fee_model: FeeModel, plan_id: str,
                       cash_reserve_bps: float = 0.0) -> tuple[list[Order], dict]:
        """Sell orders for losing lots and buy orders for their substitutes, planned on a copy."""
        day = state.timestamp.date()
        trial = TaxLedger(list(self.ledger.state.accounts.values()), self.settings,
                          state=self.ledger.state.model_copy(deep=True))
        waiting = frozenset(lot.lot_id for s in self.book.swaps for lot in self.ledger.descendants(s.substitute_lot_ids))
        prices = {u: p for u, p in state.prices.items() if u not in self.exclude}
        results, scan = harvest_all(trial, prices, day, fee_model, exclude_lots=waiting)
        orders = []
        for r in results:
            c = r.candidate
            sell = Order(client_order_id=_order_id(plan_id, f"harvest-sell-{c.symbol}"), unit=c.symbol,
                         side=OrderSide.SELL, quantity=c.units, price=state.prices[c.symbol], notional=c.value,
                         fee=fee_model.fee(c.value), reason=f"harvest {c.loss:.2f} loss on {c.symbol}: {c.reason}")
            self.book.lot_plan[sell.client_order_id] = list(c.lot_ids)
            # The sale may fill cash_reserve_bps low and the buy as much high: size for both.
            slip = cash_reserve_bps / 10_000
            units = sum(lot.units for lot in r.substitute_lots) * (1 - slip) / (1 + slip) * (1 - 1e-6)
            sub_price = state.prices[c.substitute]
            buy = Order(client_order_id=_order_id(plan_id, f"harvest-buy-{c.substitute}"), unit=c.substitute,
                        side=OrderSide.BUY, quantity=units, price=sub_price, notional=units * sub_price,
                        fee=fee_model.fee(units * sub_price), reason=f"substitute for harvested {c.symbol}")
            self.book.swap_plan[buy.client_order_id] = {"original": c.symbol, "substitute": c.substitute}
            orders += [sell, buy]
        return orders, {"harvest_candidates": [c.model_dump(mode="json") for c in scan] +
                        [r.candidate.model_dump(mode="json") for r in results]}

    def swap_back_orders(self, state: PortfolioState, fee_model: FeeModel, plan_id: str,
                         cash_reserve_bps: float = 0.0) -> list[Order]:
        """Orders that undo swaps whose window has passed (never a washed loss, never a short-term gain)."""
        day = state.timestamp.date()
        orders = []
        if not self.settings.swap_back:
            return orders
        for swap in self.book.swaps:
            if (day - swap.harvested_on).days <= self.settings.wash_sale_window or swap.original not in state.prices:
                continue
            lots = [lot for lot in self.ledger.descendants(swap.substitute_lot_ids) if lot.symbol == swap.substitute]
            price = state.prices[swap.substitute]
            gain = sum(lot.units * price - lot.adjusted_basis for lot in lots)
            short = any(holding_term(lot.holding_start, day) == "short" for lot in lots)
            washers = self.ledger.recent_acquisitions(swap.substitute, day, exclude={lot.lot_id for lot in lots})
            if not lots or (gain > 0 and short) or (gain < 0 and washers):
                continue
            units = sum(lot.units for lot in lots)
            sell = Order(client_order_id=_order_id(plan_id, f"swap-sell-{swap.substitute}"), unit=swap.substitute,
                         side=OrderSide.SELL, quantity=units, price=price, notional=units * price,
                         fee=fee_model.fee(units * price), reason=f"swap back {swap.substitute} -> {swap.original}")
            self.book.lot_plan[sell.client_order_id] = [lot.lot_id for lot in lots]
            slip = cash_reserve_bps / 10_000
            cash = ((units * price * (1 - slip) - sell.fee) / (1 + fee_model.bps / 10_000) - fee_model.fixed) \
                / (1 + slip) * (1 - 1e-6)
            o_price = state.prices[swap.original]
            buy = Order(client_order_id=_order_id(plan_id, f"swap-buy-{swap.original}"), unit=swap.original,
                        side=OrderSide.BUY, quantity=cash / o_price, price=o_price, notional=cash,
                        fee=fee_model.fee(cash), reason=f"swap back into {swap.original} after the wash-sale window")
            orders += [sell, buy]
        return orders

    @contextmanager
    def _scratch(self):
        """Planning notes lot choices and swaps in the book; a preview keeps none of them."""
        saved = self.book.model_copy(deep=True)
        try:
            yield
        finally:
            self.book = saved

    def preview_plan(self, orders: list[Order], state: PortfolioState) -> dict[str, Any]:
        """``orders`` after the wash-sale checks and their tax impact, without changing the book."""
        with self._scratch():
            routed, decisions = self.route(orders, state)
            impact = self.plan_impact(routed, state)
        return {"orders": [o.model_dump(mode="json") for o in routed],
                "wash_sale_checks": [d.model_dump(mode="json") for d in decisions], "impact": impact}

    def preview_harvest(self, state: PortfolioState, fee_model: FeeModel, cash_reserve_bps: float, *,
                        plan_id: str = "preview") -> dict[str, Any]:
        """Harvest candidates and the orders a harvest would send (swap-backs due first, as the
        agent's harvest sends them; client order ids from ``plan_id``), without changing the book."""
        with self._scratch():
            orders = self.swap_back_orders(state, fee_model, plan_id, cash_reserve_bps)
            harvests, report = self.harvest_orders(state, fee_model, plan_id, cash_reserve_bps)
        return {"orders": [o.model_dump(mode="json") for o in orders + harvests], **report}

    def plan_impact(self, orders: list[Order], state: PortfolioState) -> dict[str, Any]:
        """Tax impact of ``orders`` (after routing and checks) if they filled at their prices:
        the plan alone and the year to date with it. Simulated on a copy; nothing changes."""
        day = state.timestamp.date()
        trial = TaxLedger(list(self.ledger.state.accounts.values()), self.settings,
                          state=self.ledger.state.model_copy(deep=True))
        start = len(trial.state.realizations)
        for order in orders:
            if order.side == OrderSide.SELL:
                held = trial.units(ACCOUNT, order.unit)
                lot_ids = self.book.lot_plan.get(order.client_order_id)
                trial.sell(account_id=ACCOUNT, symbol=order.unit, units=min(order.quantity, held), price=order.price,
                           trade_date=day, fee=order.fee, lot_ids=lot_ids,
                           method=LotMethod.SPECIFIC if lot_ids else None)
            else:
                trial.buy(account_id=ACCOUNT, symbol=order.unit, units=order.quantity, price=order.price,
                          trade_date=day, fee=order.fee)
        plan = trial.state.realizations[start:]
        year = [r for r in trial.state.realizations if r.sale_date.year == day.year]
        return {"plan": tax_impact(plan, self.settings).model_dump(mode="json"),
                "year_to_date_with_plan": tax_impact(year, self.settings).model_dump(mode="json")}

    def report(self, day: date, extra: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        """The tax section of an event: the year's impact, open swaps, and ``extra``."""
        year = [r for r in self.ledger.state.realizations if r.sale_date.year == day.year]
        return {
            "impact_year_to_date": tax_impact(year, self.settings).model_dump(mode="json"),
            "realized_today": [r.model_dump(mode="json") for r in year if r.sale_date == day],
            "disallowed_today": sum(r.disallowed_loss for r in year if r.sale_date == day),
            "open_swaps": [s.model_dump(mode="json") for s in self.book.swaps],
            **(extra or {}),
        }


def make_tax_overlay(config, settings, data_dir: Path) -> Optional[TaxOverlay]:
    """The overlay for a portfolio, or None when its runtime settings ask for no tax tracking."""
    from src.utils.paths import slug

    if settings.tax is None and not settings.tax_loss_harvest:
        return None
    return TaxOverlay(path=Path(data_dir) / f"tax_{slug(config.name)}.json", settings=settings.tax or TaxSettings(),
                      account_type=AccountType(settings.account_type), household=config.name,
                      exclude=frozenset(config.exclude_assets))
