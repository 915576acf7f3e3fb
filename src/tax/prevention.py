"""Checking an order plan against the wash-sale rule, the tax budget and account preference.

``check_plan`` looks at each planned trade against the household's trades of the window and the
plan itself, and changes or blocks what would create a wash sale:

- a sell at a loss in a taxable account while identical units were bought in the window (and
  stay held) or are bought in the same plan: sell other lots (ones without a loss) if they
  cover the units; otherwise defer the sell;
- a buy of a symbol sold at a loss in the window (loss not yet matched): buy the declared
  substitute for the same value instead; otherwise defer the buy.

``route_sell`` prefers tax-deferred accounts for a sell; ``apply_gain_budget`` caps the
year's realized net gains. Every change carries its reason.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Optional

from pydantic import Field

from src.models.base import StrictModel
from src.models.trading_models import OrderSide
from src.tax.ledger import EPS, TaxLedger
from src.tax.lots import order_lots
from src.tax.models import LotMethod


class PlannedTrade(StrictModel):
    """One trade of a plan, in one account."""

    account_id: str = Field(description="Account.")
    symbol: str = Field(description="Symbol.")
    side: OrderSide = Field(description="buy or sell.")
    units: float = Field(gt=0.0, description="Units.")
    price: float = Field(gt=0.0, description="Reference price.")
    lot_ids: Optional[list[str]] = Field(None, description="Lots to sell (specific identification).")


class TradeDecision(StrictModel):
    """What the check did to one planned trade."""

    original: PlannedTrade = Field(description="The trade as planned.")
    trade: Optional[PlannedTrade] = Field(description="The trade to make (None = deferred).")
    action: Literal["keep", "change_lots", "substitute", "defer", "reduce"] = Field(description="What was done.")
    reason: str = Field(description="Why.")


def _check_sell(ledger: TaxLedger, trade: PlannedTrade, day: date, plan_buys: set[str]) -> TradeDecision:
    picks = ledger.select_lots(account_id=trade.account_id, symbol=trade.symbol, units=trade.units,
                               price=trade.price, trade_date=day, lot_ids=trade.lot_ids,
                               method=LotMethod.SPECIFIC if trade.lot_ids else None)
    if not ledger.account(trade.account_id).account_type.taxable:
        return TradeDecision(original=trade, trade=trade, action="keep", reason="tax-deferred account")
    losing = [lot for lot, _ in picks if lot.basis_per_unit > trade.price]
    if not losing:
        return TradeDecision(original=trade, trade=trade, action="keep", reason="no loss realized")
    picked = {lot.lot_id for lot, _ in picks}
    washers = ledger.recent_acquisitions(trade.symbol, day, exclude=picked)
    bought_in_plan = ledger.settings.identical_to(trade.symbol) & plan_buys
    if not washers and not bought_in_plan:
        return TradeDecision(original=trade, trade=trade, action="keep", reason="loss allowed: no replacement in window")
    why = (f"identical units bought {washers[0].acquired} in {washers[0].account_id}" if washers
           else f"the plan buys {sorted(bought_in_plan)}")
    lots = [lot for lot in ledger.lots(trade.account_id, trade.symbol) if lot.basis_per_unit <= trade.price]
    ordered = order_lots(lots, LotMethod.MIN_TAX, trade.price, day, ledger.settings)
    chosen, left = [], trade.units
    for lot in ordered:
        if left <= EPS:
            break
        chosen.append(lot.lot_id)
        left -= min(lot.units, left)
    if left <= EPS:
        return TradeDecision(original=trade, trade=trade.model_copy(update={"lot_ids": chosen}), action="change_lots",
                             reason=f"a loss sale would be a wash sale ({why}); selling lots without a loss instead")
    return TradeDecision(original=trade, trade=None, action="defer",
                         reason=f"a loss sale would be a wash sale ({why}) and lots without a loss do not cover it")


def _check_buy(ledger: TaxLedger, trade: PlannedTrade, day: date, prices: dict[str, float]) -> TradeDecision:
    loss = ledger.washable_loss(trade.symbol, day)
    if loss is None:
        return TradeDecision(original=trade, trade=trade, action="keep", reason="no loss sale in the window")
    why = f"{loss.symbol} was sold at a loss on {loss.sale_date}"
    substitute = ledger.settings.substitutes.get(trade.symbol)
    if substitute and substitute in prices and ledger.washable_loss(substitute, day) is None:
        units = trade.units * trade.price / prices[substitute]
        replaced = trade.model_copy(update={"symbol": substitute, "units": units, "price": prices[substitute]})
        return TradeDecision(original=trade, trade=replaced, action="substitute",
                             reason=f"buying {trade.symbol} would wash a loss ({why}); buying {substitute} instead")
    return TradeDecision(original=trade, trade=None, action="defer",
                         reason=f"buying {trade.symbol} would wash a loss ({why}); no usable substitute, deferred")


def check_plan(ledger: TaxLedger, trades: list[PlannedTrade], day: date,
               prices: dict[str, float]) -> list[TradeDecision]:
    """Each trade of the plan, kept, changed or deferred so that no wash sale is created."""
    plan_buys = {t.symbol for t in trades if t.side == OrderSide.BUY}
    return [_check_sell(ledger, t, day, plan_buys) if t.side == OrderSide.SELL else _check_buy(ledger, t, day, prices)
            for t in trades]


def route_sell(ledger: TaxLedger, symbol: str, units: float, price: float) -> list[PlannedTrade]:
    """Split a household-level sell across accounts, tax-deferred accounts first (no tax there)."""
    accounts = sorted(ledger.state.accounts.values(), key=lambda a: (a.account_type.taxable, a.account_id))
    out, left = [], units
    for account in accounts:
        held = ledger.units(account.account_id, symbol)
        take = min(held, left)
        if take > EPS:
            out.append(PlannedTrade(account_id=account.account_id, symbol=symbol, side=OrderSide.SELL, units=take,
                                    price=price))
            left -= take
    if left > EPS * max(1.0, units):
        raise ValueError(f"sell units={units} of {symbol} exceeds the {units - left} the household holds")
    return out


def realized_net_gain(ledger: TaxLedger, year: int) -> float:
    """Recognized net gain in taxable accounts so far in ``year``."""
    return sum(r.recognized for r in ledger.state.realizations if r.taxable and r.sale_date.year == year)


def apply_gain_budget(ledger: TaxLedger, trades: list[PlannedTrade], day: date) -> list[TradeDecision]:
    """Scale down taxable sells that realize gains so the year's net gain stays within budget."""
    budget = ledger.settings.annual_gain_budget
    if budget is None:
        return [TradeDecision(original=t, trade=t, action="keep", reason="no tax budget") for t in trades]
    gains = {}
    for i, t in enumerate(trades):
        if t.side == OrderSide.SELL and ledger.account(t.account_id).account_type.taxable:
            picks = ledger.select_lots(account_id=t.account_id, symbol=t.symbol, units=t.units, price=t.price,
                                       trade_date=day, lot_ids=t.lot_ids,
                                       method=LotMethod.SPECIFIC if t.lot_ids else None)
            gains[i] = sum(take * (t.price - lot.basis_per_unit) for lot, take in picks)
    room = budget - realized_net_gain(ledger, day.year) - sum(g for g in gains.values() if g < 0)
    wanted = sum(g for g in gains.values() if g > 0)
    scale = 1.0 if wanted <= room else max(room, 0.0) / wanted
    out = []
    for i, t in enumerate(trades):
        if gains.get(i, 0.0) > 0 and scale < 1.0:
            reduced = t.model_copy(update={"units": t.units * scale}) if scale > 0 else None
            out.append(TradeDecision(original=t, trade=reduced, action="reduce" if reduced else "defer",
                                     reason=f"annual gain budget {budget:.2f}: room {max(room, 0):.2f} for "
                                            f"{wanted:.2f} of gains; sell scaled by {scale:.3f}"))
        else:
            out.append(TradeDecision(original=t, trade=t, action="keep", reason="within the annual gain budget"))
    return out
