"""The trade list that brings holdings to a risk profile's targets.

Rules (pure: nothing is sent, read or written):

- Each non-cash position trades ``total value x target - value`` (to the cent): a sell when it
  is above its target, a buy below. Cash lines (the cash class, e.g. ``USD.CASH``) are never
  traded: cash absorbs the difference (sells add to it, buys and commissions come out of it).
- Estimated shares are ``amount / price`` when the price is known (``price``, or ``value /
  quantity``). Where the venue needs whole shares, buys are rounded down (never spend more than
  planned) and sells up (raise at least what was planned) unless that would sell more than is
  held, then down; the amount becomes ``shares x price``. A trade of 0 whole shares, or smaller
  than ``min_trade``, is skipped with its reason. Rounding leftovers stay in cash.
- Order: sells first, largest drift first; then buys, most underweight first. Drift is
  ``current weight - target weight`` in points of the portfolio (so "largest" and "most
  underweight" are in absolute points, which is also the order of the amounts before share
  rounding); ties go by symbol. Priority numbers the list from 1.
- Commission: ``fee_model.fee(amount)`` per trade, to the cent.
- Tax (with ``tax`` settings): each sell of a holding with ``cost_basis`` and ``acquired``
  realizes ``proceeds - basis``, where proceeds are the amount less the commission and the
  basis is the cost basis times the share of the position sold; held more than a year
  (``src.tax.lots.holding_term``) is long-term. Gains and losses are netted and taxed by
  ``src.tax.impact.tax_impact`` at the settings' rates (a net loss deducts up to $3,000 at the
  short-term rate, as if nothing else were realized that year).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Literal, Optional, Sequence, Union

from pydantic import Field

from src.errors import ConfigError
from src.models.base import StrictModel
from src.models.trading_models import FeeModel, OrderSide
from src.profiles.risk_profiles import AssetClass, Holding, RiskProfile, allocate
from src.tax.impact import TaxImpact, tax_impact
from src.tax.lots import holding_term
from src.tax.models import Realization, TaxSettings, Term

CENT = Decimal("0.01")
WEIGHT = Decimal("0.0001")  # a basis point: weights and drifts are shown as percent with two decimals
Status = Literal["UNDERWEIGHT", "OVERWEIGHT", "on target"]


class ClassDrift(StrictModel):
    """One asset class: where it is against where the profile wants it."""

    asset_class: AssetClass = Field(description="stocks, bonds or cash.")
    value: Decimal = Field(description="Current value of the class.")
    weight: Decimal = Field(description="Current fraction of the portfolio (four decimals).")
    target: Decimal = Field(description="Target fraction (four decimals).")
    target_value: Decimal = Field(description="Target value (total x target, to the cent).")
    drift: Decimal = Field(description="weight - target (four decimals; > 0 overweight).")
    status: Status = Field(description="UNDERWEIGHT, OVERWEIGHT, or on target when the drift rounds to 0.00%.")


class PositionTarget(StrictModel):
    """One position's current and target weight."""

    symbol: str = Field(description="Symbol.")
    asset_class: AssetClass = Field(description="Its class.")
    value: Decimal = Field(description="Current value.")
    weight: Decimal = Field(description="Current fraction of the portfolio (four decimals).")
    target: Decimal = Field(description="Target fraction (four decimals; all targets sum to exactly 1).")
    target_value: Decimal = Field(description="Target value (total x target, to the cent).")


class Trade(StrictModel):
    """One line of the trade list."""

    priority: int = Field(ge=1, description="Place in the list (1 = first).")
    side: OrderSide = Field(description="sell or buy.")
    symbol: str = Field(description="What to trade.")
    asset_class: AssetClass = Field(description="Its class.")
    amount: Decimal = Field(gt=0, description="Value to trade (after whole-share rounding), to the cent.")
    shares: Optional[Decimal] = Field(None, description="Estimated shares (whole where the venue needs them); "
                                      "None when no price is known.")
    price: Optional[Decimal] = Field(None, description="Price the shares were estimated at.")
    commission: Decimal = Field(ge=0, description="Estimated commission, to the cent.")
    drift: Decimal = Field(description="Position's weight - target before the trade (four decimals).")
    reason: str = Field(description="From which weight to which target.")


class SkippedTrade(StrictModel):
    """A trade the targets call for that is not made, and why."""

    symbol: str = Field(description="Symbol.")
    side: OrderSide = Field(description="sell or buy.")
    amount: Decimal = Field(description="Amount the target called for.")
    reason: str = Field(description="Why it is skipped (less than one share, below the minimum trade).")


class TradeSummary(StrictModel):
    """Totals of the trade list."""

    total_sells: Decimal = Field(description="Sum of the sell amounts.")
    total_buys: Decimal = Field(description="Sum of the buy amounts.")
    commissions: Decimal = Field(description="Sum of the commissions.")
    net_cash: Decimal = Field(description="Change in cash: sells - buys - commissions.")
    cash_before: Decimal = Field(description="Cash lines' value now.")
    cash_after: Decimal = Field(description="Cash lines' value after the trades.")


class SellTax(StrictModel):
    """The realization one sell would make."""

    symbol: str = Field(description="Symbol sold.")
    term: Term = Field(description="short (held one year or less) or long.")
    proceeds: Decimal = Field(description="Amount less commission.")
    basis: Decimal = Field(description="Cost basis of the part sold.")
    gain: Decimal = Field(description="proceeds - basis (< 0 is a loss).")
    taxable: bool = Field(description="False in a tax-deferred account (not taxed).")


class TaxEstimate(StrictModel):
    """Estimated tax of the sells."""

    as_of: date = Field(description="Sale date the holding periods are counted to.")
    sells: list[SellTax] = Field(description="One line per sell with a cost basis.")
    not_estimated: list[str] = Field(description="Sold symbols without a cost basis (left out).")
    impact: TaxImpact = Field(description="Gains, losses and net tax after netting (src.tax.impact).")


class TradeListReport(StrictModel):
    """Everything the profile report shows."""

    profile: RiskProfile = Field(description="The profile applied.")
    total_value: Decimal = Field(description="Value of all holdings, cash included.")
    classes: list[ClassDrift] = Field(description="Drift per asset class (stocks, bonds, cash).")
    positions: list[PositionTarget] = Field(description="Current and target weight per position.")
    trades: list[Trade] = Field(description="Sells first (largest drift first), then buys (most underweight first).")
    skipped: list[SkippedTrade] = Field(description="Trades not made and why.")
    summary: TradeSummary = Field(description="Totals.")
    tax: Optional[TaxEstimate] = Field(None, description="Tax of the sells (when tax settings were given).")
    warnings: list[str] = Field(description="Classes with no holding, cash going negative, and the like.")


def _status(drift: Decimal) -> Status:
    return "on target" if drift == 0 else ("OVERWEIGHT" if drift > 0 else "UNDERWEIGHT")


def _sized(holding: Holding, amount: Decimal, side: OrderSide) -> tuple[Decimal, Optional[Decimal], Optional[Decimal]]:
    """``(amount, shares, price)`` after share rounding (see the module docstring)."""
    price = holding.unit_price
    if price is None:
        return amount, None, None
    raw = amount / price
    if not holding.whole_shares:
        return amount, raw.quantize(WEIGHT, rounding=ROUND_DOWN), price
    shares = math.floor(raw)
    if side is OrderSide.SELL and math.ceil(raw) <= holding.held_quantity:
        shares = math.ceil(raw)
    return (shares * price).quantize(CENT), Decimal(shares), price


def _tax(trades: list[Trade], holdings: dict[str, Holding], settings: TaxSettings, as_of: date) -> TaxEstimate:
    """The realizations the sells make and their tax impact."""
    lines, missing, realizations = [], [], []
    for t in (t for t in trades if t.side is OrderSide.SELL):
        h = holdings[t.symbol]
        if h.cost_basis is None or h.acquired is None:
            missing.append(t.symbol)
            continue
        if h.acquired > as_of:
            raise ConfigError(f"{t.symbol}: acquired {h.acquired} is after the sale date {as_of}")
        term = holding_term(h.acquired, as_of)
        proceeds = max(t.amount - t.commission, Decimal(0))
        basis = (h.cost_basis * min(t.amount / h.value, Decimal(1))).quantize(CENT)
        lines.append(SellTax(symbol=t.symbol, term=term, proceeds=proceeds, basis=basis, gain=proceeds - basis,
                             taxable=h.taxable))
        realizations.append(Realization(
            sale_id="profile-trade-list", lot_id=t.symbol, account_id="holdings", symbol=t.symbol,
            units=float(t.shares or t.amount),  # shares when known, else currency units (only labels the lot)
            sale_date=as_of, proceeds=float(proceeds), basis=float(basis), cost=float(basis),
            holding_start=h.acquired, term=term, taxable=h.taxable))
    return TaxEstimate(as_of=as_of, sells=lines, not_estimated=missing, impact=tax_impact(realizations, settings))


def build_trade_list(holdings: Sequence[Holding], profile: Union[str, RiskProfile], *, fee_model: FeeModel,
                     min_trade: Union[float, Decimal] = 0, tax: Optional[TaxSettings] = None,
                     as_of: Optional[date] = None) -> TradeListReport:
    """The drift table, trade list, summary and (with ``tax``) tax estimate for ``profile``.

    Parameters
    ----------
    holdings : sequence of Holding
        The positions (see ``allocate`` for what is required of them).
    profile : RiskProfile or str
        A profile, its name or an alias.
    fee_model : FeeModel
        Commission per trade.
    min_trade : float or Decimal, default 0
        Trades smaller than this amount are skipped (with the reason).
    tax : TaxSettings, optional
        Rates for the tax estimate of the sells; None for no estimate.
    as_of : date, optional
        Sale date for the holding periods (default: today).

    Returns
    -------
    TradeListReport

    Raises
    ------
    ConfigError
        Unknown profile, no positions, all positions in one class, a symbol twice, a negative
        ``min_trade``, an acquisition date after ``as_of``.
    """
    minimum = Decimal(str(min_trade))
    if not (minimum.is_finite() and minimum >= 0):
        raise ConfigError(f"min_trade={min_trade} must be >= 0")
    allocation = allocate(holdings, profile)
    book = allocation.holdings
    total = sum((h.value for h in book), Decimal(0))
    weight = {h.symbol: h.value / total for h in book}
    target_value = {h.symbol: (total * allocation.targets[h.symbol]).quantize(CENT) for h in book}
    positions = [PositionTarget(symbol=h.symbol, asset_class=h.asset_class, value=h.value,
                                weight=weight[h.symbol].quantize(WEIGHT), target=allocation.targets[h.symbol],
                                target_value=target_value[h.symbol])
                 for c in AssetClass for h in book if h.asset_class is c]
    classes = []
    for c, target in allocation.class_targets.items():
        value = sum((h.value for h in book if h.asset_class is c), Decimal(0))
        drift = (value / total - target).quantize(WEIGHT)
        classes.append(ClassDrift(asset_class=c, value=value, weight=(value / total).quantize(WEIGHT), target=target,
                                  target_value=(total * target).quantize(CENT), drift=drift, status=_status(drift)))

    planned, skipped = [], []
    for h in (h for h in book if h.asset_class is not AssetClass.CASH):
        delta = target_value[h.symbol] - h.value
        if delta == 0:
            continue
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        amount, shares, price = _sized(h, abs(delta), side)
        if amount == 0:
            skipped.append(SkippedTrade(symbol=h.symbol, side=side, amount=abs(delta),
                                        reason=f"less than one whole share at {price:,.2f}"))
        elif amount < minimum:
            skipped.append(SkippedTrade(symbol=h.symbol, side=side, amount=amount,
                                        reason=f"below the minimum trade of {minimum:,.2f}"))
        else:
            drift = weight[h.symbol] - allocation.targets[h.symbol]
            planned.append((side, drift, h, amount, shares, price))
    # Sells (drift > 0) by drift descending, then buys (drift < 0) by drift ascending: both are
    # "largest |drift| first"; ties by symbol.
    planned.sort(key=lambda p: (p[0] is OrderSide.BUY, -abs(p[1]), p[2].symbol))
    trades = [Trade(priority=i, side=side, symbol=h.symbol, asset_class=h.asset_class, amount=amount, shares=shares,
                    price=price, commission=Decimal(str(fee_model.fee(float(amount)))).quantize(CENT),
                    drift=drift.quantize(WEIGHT),
                    reason=f"{weight[h.symbol] * 100:.2f}% -> target {allocation.targets[h.symbol] * 100:.2f}%")
              for i, (side, drift, h, amount, shares, price) in enumerate(planned, start=1)]

    sells = sum((t.amount for t in trades if t.side is OrderSide.SELL), Decimal(0))
    buys = sum((t.amount for t in trades if t.side is OrderSide.BUY), Decimal(0))
    fees = sum((t.commission for t in trades), Decimal(0))
    cash_before = sum((h.value for h in book if h.asset_class is AssetClass.CASH), Decimal(0))
    summary = TradeSummary(total_sells=sells, total_buys=buys, commissions=fees, net_cash=sells - buys - fees,
                           cash_before=cash_before, cash_after=cash_before + sells - buys - fees)
    warnings = list(allocation.warnings)
    if summary.cash_after < 0:
        warnings.append(f"cash after the trades would be {summary.cash_after:,.2f}: trim the last buys")
    estimate = None
    if tax is not None:
        estimate = _tax(trades, {h.symbol: h for h in book}, tax, as_of or date.today())
    return TradeListReport(profile=allocation.profile, total_value=total, classes=classes, positions=positions,
                           trades=trades, skipped=skipped, summary=summary, tax=estimate, warnings=warnings)
