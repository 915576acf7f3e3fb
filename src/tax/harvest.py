"""Tax-loss harvesting: find losses worth taking, take them into a substitute, swap back later.

A candidate is a (taxable account, symbol) with lots below basis. It is harvested when

- a substitute is declared for the symbol (correlated, not substantially identical) and priced;
- no identical units were bought in the window before (in any account of the household) that
  would stay held, since they would wash the loss; and buying the substitute would not wash a
  recent loss on the substitute itself;
- the loss is at least ``min_harvest_loss_fraction`` of the position's value; and
- the estimated benefit (short-term loss x short rate + long-term loss x long rate) exceeds the
  trading cost (selling and buying the same value) by ``min_harvest_benefit``.

Every candidate is reported with its loss, term split, benefit, cost, substitute and the reason
it was taken or skipped.
"""

from __future__ import annotations

from datetime import date
from typing import Callable, Literal, Optional

from pydantic import Field

from src.models.base import StrictModel
from src.models.trading_models import FeeModel
from src.tax.ledger import TaxLedger
from src.tax.lots import holding_term
from src.tax.models import LotMethod, Realization, TaxLot


class HarvestCandidate(StrictModel):
    """One possible harvest and the decision about it."""

    account_id: str = Field(description="Taxable account.")
    symbol: str = Field(description="Symbol with unrealized losses.")
    lot_ids: list[str] = Field(description="Lots below basis (the ones a harvest sells).")
    units: float = Field(description="Units in those lots.")
    value: float = Field(description="Their market value.")
    loss: float = Field(description="Unrealized loss in those lots (positive).")
    short_term_loss: float = Field(description="Part of the loss that is short-term.")
    long_term_loss: float = Field(description="Part of the loss that is long-term.")
    estimated_benefit: float = Field(description="Tax the loss offsets this year at the configured rates (loss x "
                                     "rate). Mostly a deferral: the substitute's lower basis gives much of it back "
                                     "when it is sold, so the lasting gain is the time value and any rate difference.")
    trading_cost: float = Field(description="Fees to sell and buy the substitute.")
    substitute: Optional[str] = Field(description="Declared substitute.")
    action: Literal["harvest", "skip"] = Field(description="What was decided.")
    reason: str = Field(description="Why.")


class OpenSwap(StrictModel):
    """A harvest whose substitute is held, waiting to be swapped back."""

    account_id: str = Field(description="Account.")
    original: str = Field(description="Symbol harvested.")
    substitute: str = Field(description="Symbol bought instead.")
    substitute_lot_ids: list[str] = Field(description="Lots of the substitute bought by the harvest.")
    harvested_on: date = Field(description="Date of the harvest.")


class HarvestResult(StrictModel):
    """What executing one harvest did in the ledger."""

    candidate: HarvestCandidate = Field(description="The harvest taken.")
    realizations: list[Realization] = Field(description="Lots sold.")
    substitute_lots: list[TaxLot] = Field(description="Lots bought.")
    swap: OpenSwap = Field(description="The swap to undo after the window.")


def scan_harvest(ledger: TaxLedger, prices: dict[str, float], day: date, fee_model: FeeModel,
                 exclude_lots: frozenset[str] = frozenset()) -> list[HarvestCandidate]:
    """Every taxable position with a loss, with the decision to harvest it or not.

    ``exclude_lots`` are never harvested (e.g. substitute lots of an open swap, which are
    waiting to be swapped back).
    """
    s = ledger.settings
    out = []
    for account in ledger.state.accounts.values():
        if not account.account_type.taxable:
            continue
        for symbol in sorted({lot.symbol for lot in ledger.lots(account.account_id)}):
            if symbol not in prices:
                continue
            price = prices[symbol]
            lots = ledger.lots(account.account_id, symbol)
            losing = [lot for lot in lots if lot.basis_per_unit > price and lot.lot_id not in exclude_lots]
            if not losing:
                continue
            units = sum(lot.units for lot in losing)
            value = units * price
            terms = {lot.lot_id: holding_term(lot.holding_start, day) for lot in losing}
            loss_of = {lot.lot_id: lot.adjusted_basis - lot.units * price for lot in losing}
            st = sum(v for k, v in loss_of.items() if terms[k] == "short")
            lt = sum(v for k, v in loss_of.items() if terms[k] == "long")
            benefit = st * s.short_term_rate + lt * s.long_term_rate
            cost = 2 * fee_model.fee(value)
            substitute = s.substitutes.get(symbol)
            position_value = sum(lot.units for lot in lots) * price
            reason = None
            washers = ledger.recent_acquisitions(symbol, day, exclude={lot.lot_id for lot in losing})
            washer = washers[0] if washers and s.apply_wash_sale_rule else None
            if substitute is None:
                reason = "no substitute declared"
            elif substitute not in prices:
                reason = f"no price for substitute {substitute}"
            elif washer is not None:
                reason = (f"purchase of {washer.units:g} {washer.symbol} on {washer.acquired} in {washer.account_id} "
                          f"would wash the loss")
            elif s.apply_wash_sale_rule and (sub_loss := ledger.washable_loss(substitute, day)) is not None:
                reason = f"buying {substitute} would wash the loss on {sub_loss.symbol} sold {sub_loss.sale_date}"
            elif st + lt < s.min_harvest_loss_fraction * position_value:
                reason = f"loss {st + lt:.2f} is below {s.min_harvest_loss_fraction:.0%} of the position"
            elif benefit < cost + s.min_harvest_benefit:
                reason = f"benefit {benefit:.2f} < cost {cost:.2f} + minimum {s.min_harvest_benefit:.2f}"
            out.append(HarvestCandidate(
                account_id=account.account_id, symbol=symbol, lot_ids=[lot.lot_id for lot in losing], units=units,
                value=value, loss=st + lt, short_term_loss=st, long_term_loss=lt, estimated_benefit=benefit,
                trading_cost=cost, substitute=substitute, action="skip" if reason else "harvest",
                reason=reason or f"defers {benefit:.2f} of tax for {cost:.2f} of fees"))
    return out


def execute_harvest(ledger: TaxLedger, candidate: HarvestCandidate, prices: dict[str, float], day: date,
                    fee_model: FeeModel) -> HarvestResult:
    """Sell the candidate's losing lots and buy its substitute with the proceeds, in the ledger."""
    if candidate.action != "harvest" or candidate.substitute is None:
        raise ValueError(f"candidate {candidate.symbol} in {candidate.account_id} is not to be harvested")
    price = prices[candidate.symbol]
    sell_fee = fee_model.fee(candidate.units * price)
    sold = ledger.sell(account_id=candidate.account_id, symbol=candidate.symbol, units=candidate.units, price=price,
                       trade_date=day, method=LotMethod.SPECIFIC, lot_ids=candidate.lot_ids, fee=sell_fee)
    cash = sum(r.proceeds for r in sold)
    sub_price = prices[candidate.substitute]
    notional = (cash - fee_model.fixed) / (1 + fee_model.bps / 10_000.0)
    bought = ledger.buy(account_id=candidate.account_id, symbol=candidate.substitute, units=notional / sub_price,
                        price=sub_price, trade_date=day, fee=fee_model.fee(notional))
    swap = OpenSwap(account_id=candidate.account_id, original=candidate.symbol, substitute=candidate.substitute,
                    substitute_lot_ids=[lot.lot_id for lot in bought], harvested_on=day)
    return HarvestResult(candidate=candidate, realizations=sold, substitute_lots=bought, swap=swap)


def swap_back(ledger: TaxLedger, swap: OpenSwap, prices: dict[str, float], day: date,
              fee_model: FeeModel, allow_short_term_gain: bool = False) -> Optional[str]:
    """Sell the substitute and buy the original back once the window has passed.

    Returns None when done, else why not (window not over, or it would realize a short-term
    gain on the substitute and ``allow_short_term_gain`` is false). The original bought back
    cannot wash the harvested loss: the window has passed.
    """
    if (day - swap.harvested_on).days <= ledger.settings.wash_sale_window:
        return "wash-sale window not over"
    lots = [lot for lot in ledger.descendants(swap.substitute_lot_ids)
            if lot.account_id == swap.account_id and lot.symbol == swap.substitute]
    if not lots:
        return "substitute no longer held"
    price = prices[swap.substitute]
    gain = sum(lot.units * price - lot.adjusted_basis for lot in lots)
    if gain < 0:
        washers = ledger.recent_acquisitions(swap.substitute, day, exclude={lot.lot_id for lot in lots})
        if washers:
            return (f"selling {swap.substitute} at a loss now would be a wash sale "
                    f"({washers[0].symbol} bought {washers[0].acquired} in {washers[0].account_id})")
    if gain > 0 and not allow_short_term_gain and any(holding_term(lot.holding_start, day) == "short" for lot in lots):
        return f"would realize a short-term gain of {gain:.2f} on {swap.substitute}"
    units = sum(lot.units for lot in lots)
    sold = ledger.sell(account_id=swap.account_id, symbol=swap.substitute, units=units, price=price, trade_date=day,
                       method=LotMethod.SPECIFIC, lot_ids=[lot.lot_id for lot in lots],
                       fee=fee_model.fee(units * price))
    cash = sum(r.proceeds for r in sold)
    notional = (cash - fee_model.fixed) / (1 + fee_model.bps / 10_000.0)
    ledger.buy(account_id=swap.account_id, symbol=swap.original, units=notional / prices[swap.original],
               price=prices[swap.original], trade_date=day, fee=fee_model.fee(notional))
    return None


def harvest_all(ledger: TaxLedger, prices: dict[str, float], day: date, fee_model: FeeModel, *,
                exclude_lots: frozenset[str] = frozenset(),
                refresh_substitutes: Optional[Callable[[TaxLedger, date], dict[str, str]]] = None,
                ) -> tuple[list[HarvestResult], list[HarvestCandidate]]:
    """Harvest one candidate at a time, rescanning after each, so the plan is checked against
    itself: a substitute bought by one harvest never washes a loss taken by another.

    Returns the harvests made and the final scan (the candidates skipped, with reasons).
    """
    done: list[HarvestResult] = []
    while True:
        if refresh_substitutes is not None:
            ledger.settings = ledger.settings.model_copy(update={"substitutes": refresh_substitutes(ledger, day)})
        excluded = exclude_lots | {lot.lot_id for r in done for lot in ledger.descendants(r.swap.substitute_lot_ids)}
        scan = scan_harvest(ledger, prices, day, fee_model, exclude_lots=frozenset(excluded))
        todo = [c for c in scan if c.action == "harvest"]
        if not todo:
            return done, scan
        done.append(execute_harvest(ledger, todo[0], prices, day, fee_model))
