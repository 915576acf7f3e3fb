"""The household's tax ledger: lots, sales, and the wash-sale rule across every account.

Wash sales (IRS Publication 550; IRC §1091; Treas. Reg. §1.1091-1 and -2; Rev. Rul. 2008-5):

- A loss on a sale in a taxable account is a wash sale to the extent substantially identical
  units (the same symbol, or one declared identical) are acquired in any account of the
  household within ``wash_sale_window`` (30) days before or after the sale. The units sold
  themselves are never their own replacement.
- Replacement units are matched in order of acquisition, each unit at most once. If fewer units
  are acquired than were sold at a loss, only the loss on that many units is disallowed.
- Losses are matched in the order of their sales; the loss lots one sale closes, in the order
  they were acquired (earliest first), whatever lot method chose them (``matching_order``).
- The disallowed loss is added to the basis of the replacement units, and the holding period
  of the units sold is added to theirs (``holding_start`` moves back by that many days). A
  replacement lot that is only partly matched is split in two.
- If the replacement is in a traditional or Roth IRA (or a 401k), the loss is disallowed and
  the replacement's basis is *not* increased: the loss is lost for good (Rev. Rul. 2008-5).

Every call validates first and changes nothing when it raises.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Optional

from pydantic import Field

from src.errors import ConfigError
from src.models.base import StrictModel
from src.tax.lots import holding_term, order_lots
from src.tax.models import Account, LotMethod, Realization, TaxLot, TaxSettings

EPS = 1e-9


def matching_order(sale: Realization) -> tuple[date, str, date, str]:
    """Sort key: the order in which loss realizations take replacement units.

    Treas. Reg. §1.1091-1(b): losses are taken in the order of disposition, earliest first, and
    units disposed of together (one sale, so no order of disposition among them) in the order
    they were originally acquired. §1.1091-1(c) and (d) then match the replacement units, in
    their own order of acquisition, with that many of the units sold. So a HIFO or specific-lot
    sale decides which lots are sold, not which of them a partial replacement washes.

    Parameters
    ----------
    sale : Realization
        One lot's part of a sale.

    Returns
    -------
    tuple
        ``(sale date, sale id, acquisition date of the units sold, lot id)``; the acquisition
        date is ``holding_start`` for realizations saved before it was recorded.
    """
    return sale.sale_date, sale.sale_id, sale.acquired or sale.holding_start, sale.lot_id


class LedgerState(StrictModel):
    """Everything the ledger persists."""

    accounts: dict[str, Account] = Field(description="Accounts by id.")
    lots: list[TaxLot] = Field(default_factory=list, description="Open lots.")
    realizations: list[Realization] = Field(default_factory=list, description="Every lot sale.")
    last_trade_date: Optional[date] = Field(None, description="Trades must not go back in time.")
    next_id: int = Field(1, description="Counter for lot and sale ids.")


class TaxLedger:
    """Lots and realized gains of one household, with the wash-sale rule applied as trades happen.

    Parameters
    ----------
    accounts : list of Account
        All accounts of one household.
    settings : TaxSettings
        Window, identical symbols, rates (for the minimum-tax lot method).
    """

    def __init__(self, accounts: list[Account], settings: TaxSettings, state: Optional[LedgerState] = None) -> None:
        households = {a.household for a in accounts}
        if len(households) != 1:
            raise ConfigError(f"accounts span households {sorted(households)}: a ledger is one household")
        self.settings = settings
        self.state = state or LedgerState(accounts={a.account_id: a for a in accounts})

    # --- queries -----------------------------------------------------------------------

    def lots(self, account_id: Optional[str] = None, symbol: Optional[str] = None) -> list[TaxLot]:
        """Open lots, optionally of one account and/or symbol."""
        return [lot for lot in self.state.lots if (account_id is None or lot.account_id == account_id)
                and (symbol is None or lot.symbol == symbol)]

    def units(self, account_id: str, symbol: str) -> float:
        """Units of ``symbol`` held in ``account_id``."""
        return sum(lot.units for lot in self.lots(account_id, symbol))

    def descendants(self, lot_ids: list[str]) -> list[TaxLot]:
        """Open lots that are ``lot_ids`` or were split off them (wash-sale matching splits lots)."""
        return [lot for lot in self.state.lots
                if any(lot.lot_id == i or lot.lot_id.startswith(i + ".") for i in lot_ids)]

    def recent_acquisitions(self, symbol: str, day: date, exclude: set[str] = frozenset()) -> list[TaxLot]:
        """Open lots of ``symbol`` or an identical symbol, in any account, acquired in the window
        up to ``day`` (excluding ``exclude`` lot ids): the units that would wash a loss sale."""
        start = day - timedelta(days=self.settings.wash_sale_window)
        identical = self.settings.identical_to(symbol)
        return [lot for lot in sorted(self.state.lots, key=lambda x: (x.acquired, x.lot_id))
                if lot.symbol in identical and start <= lot.acquired <= day and lot.lot_id not in exclude]

    def washable_loss(self, symbol: str, day: date) -> Optional[Realization]:
        """A taxable loss sale of ``symbol`` (or an identical symbol) in the window up to ``day``
        not yet fully matched: buying ``symbol`` on ``day`` would wash it."""
        start = day - timedelta(days=self.settings.wash_sale_window)
        identical = self.settings.identical_to(symbol)
        return next((r for r in self.state.realizations if r.taxable and r.symbol in identical
                     and r.unmatched_units > EPS and start <= r.sale_date <= day), None)

    def account(self, account_id: str) -> Account:
        """The account, or a ``ConfigError`` naming the unknown id."""
        if account_id not in self.state.accounts:
            raise ConfigError(f"account_id={account_id!r} is not an account of this household "
                              f"(known: {sorted(self.state.accounts)})")
        return self.state.accounts[account_id]

    # --- validation --------------------------------------------------------------------

    def _check_trade(self, account_id: str, symbol: str, units: float, price: float, trade_date: date) -> Account:
        account = self.account(account_id)
        if not symbol:
            raise ConfigError("symbol='' must not be empty")
        if not (math.isfinite(units) and units > 0):
            raise ConfigError(f"units={units} must be a finite number > 0")
        if not (math.isfinite(price) and price > 0):
            raise ConfigError(f"price={price} must be a finite number > 0")
        last = self.state.last_trade_date
        if last is not None and trade_date < last:
            raise ConfigError(f"trade_date={trade_date} is before the last recorded trade {last}")
        return account

    def _new_id(self, prefix: str) -> str:
        value = f"{prefix}{self.state.next_id:06d}"
        self.state.next_id += 1
        return value

    # --- trades ------------------------------------------------------------------------

    def add_lot(self, *, account_id: str, symbol: str, units: float, cost_per_unit: float, acquired: date,
                as_of: date) -> TaxLot:
        """Record a lot already held (importing holdings); no wash-sale matching."""
        self.account(account_id)
        if acquired > as_of:
            raise ConfigError(f"acquired={acquired} is in the future (as of {as_of})")
        if not (math.isfinite(units) and units > 0) or not (math.isfinite(cost_per_unit) and cost_per_unit >= 0):
            raise ConfigError(f"units={units} and cost_per_unit={cost_per_unit} must be finite, units > 0, cost >= 0")
        lot = TaxLot(lot_id=self._new_id("L"), account_id=account_id, symbol=symbol, units=units,
                     cost_per_unit=cost_per_unit, acquired=acquired, adjusted_basis=units * cost_per_unit,
                     holding_start=acquired, original_units=units)
        self.state.lots.append(lot)
        return lot

    def buy(self, *, account_id: str, symbol: str, units: float, price: float, trade_date: date,
            fee: float = 0.0) -> list[TaxLot]:
        """Open a lot; if it replaces units sold at a loss in the window, apply the wash-sale rule.

        Returns the lot(s) opened (two when part of it became a wash-sale replacement).
        """
        self._check_trade(account_id, symbol, units, price, trade_date)
        if not (math.isfinite(fee) and fee >= 0):
            raise ConfigError(f"fee={fee} must be a finite number >= 0")
        cost = (units * price + fee) / units
        lot = TaxLot(lot_id=self._new_id("L"), account_id=account_id, symbol=symbol, units=units, cost_per_unit=cost,
                     acquired=trade_date, adjusted_basis=units * cost, holding_start=trade_date, original_units=units)
        self.state.lots.append(lot)
        self.state.last_trade_date = trade_date
        window_start = trade_date - timedelta(days=self.settings.wash_sale_window)
        identical = self.settings.identical_to(symbol)
        created: list[TaxLot] = []
        current: Optional[TaxLot] = lot
        for sale in sorted(self.state.realizations, key=matching_order):
            if current is None:
                break
            if (sale.taxable and sale.unmatched_units > EPS and sale.symbol in identical
                    and window_start <= sale.sale_date <= trade_date):
                matched, current = self._match(sale, current)
                created += [matched] if matched is not None else []
        return created + ([current] if current is not None else [])

    def select_lots(self, *, account_id: str, symbol: str, units: float, price: float, trade_date: date,
                    method: Optional[LotMethod] = None, lot_ids: Optional[list[str]] = None) -> list[tuple[TaxLot, float]]:
        """Which lots (and how many units of each) a sale would use; changes nothing."""
        account = self._check_trade(account_id, symbol, units, price, trade_date)
        held = self.units(account_id, symbol)
        if units > held * (1 + 1e-12) + EPS:
            raise ConfigError(f"sell units={units} of {symbol} in {account_id} exceeds the {held} held")
        method = method or (self.settings.lot_method if account.account_type.taxable else LotMethod.FIFO)
        ordered = order_lots(self.lots(account_id, symbol), method, price, trade_date, self.settings, lot_ids)
        picks, left = [], units
        for lot in ordered:
            if left <= EPS:
                break
            take = min(lot.units, left)
            picks.append((lot, take))
            left -= take
        if left > EPS * max(1.0, units):
            raise ConfigError(f"lot_ids={lot_ids} hold fewer than the {units} units to sell")
        return picks

    def sell(self, *, account_id: str, symbol: str, units: float, price: float, trade_date: date,
             method: Optional[LotMethod] = None, lot_ids: Optional[list[str]] = None,
             fee: float = 0.0) -> list[Realization]:
        """Close lots (by ``method``, or ``lot_ids`` for specific identification) and realize gains.

        A loss in a taxable account is matched at once against identical units acquired in the
        window before the sale (in any account); units bought later are matched when bought.
        """
        picks = self.select_lots(account_id=account_id, symbol=symbol, units=units, price=price,
                                 trade_date=trade_date, method=method, lot_ids=lot_ids)
        if not (math.isfinite(fee) and fee >= 0):
            raise ConfigError(f"fee={fee} must be a finite number >= 0")
        account = self.account(account_id)
        sale_id = self._new_id("S")
        sold_ids = {lot.lot_id for lot, _ in picks}
        out = []
        for lot, take in picks:
            basis = lot.basis_per_unit * take
            proceeds = take * price - fee * take / units
            real = Realization(sale_id=sale_id, lot_id=lot.lot_id, account_id=account_id, symbol=symbol, units=take,
                               sale_date=trade_date, proceeds=max(proceeds, 0.0), basis=basis,
                               cost=lot.cost_per_unit * take,
                               holding_start=lot.holding_start, acquired=lot.acquired,
                               term=holding_term(lot.holding_start, trade_date),
                               taxable=account.account_type.taxable)
            if real.taxable and real.gain < 0 and self.settings.apply_wash_sale_rule:
                real = real.model_copy(update={"unmatched_units": take})
            self._reduce(lot, take)
            self.state.realizations.append(real)
            out.append(real)
        self.state.last_trade_date = trade_date
        # replacements bought in the window before the sale, earliest first (§1.1091-1(c)/(d)),
        # go to the sold lots in the order those were acquired, not the order the method sold them
        candidates = [lot.lot_id for lot in self.recent_acquisitions(symbol, trade_date, exclude=sold_ids)]
        for real in sorted(out, key=matching_order):
            for lot_id in list(candidates):
                sale = self._realization(real.sale_id, real.lot_id)
                lot = next((x for x in self.state.lots if x.lot_id == lot_id), None)
                if sale.unmatched_units <= EPS:
                    break
                if lot is None:
                    continue
                matched, rest = self._match(sale, lot)
                if rest is None:
                    candidates.remove(lot_id)
                elif rest.lot_id != lot_id:
                    candidates[candidates.index(lot_id)] = rest.lot_id
        return [r for r in self.state.realizations if r.sale_id == sale_id]

    def _realization(self, sale_id: str, lot_id: str) -> Realization:
        return next(r for r in self.state.realizations if r.sale_id == sale_id and r.lot_id == lot_id)

    # --- internals ---------------------------------------------------------------------

    def _reduce(self, lot: TaxLot, units: float) -> None:
        index = self.state.lots.index(lot)
        remaining = lot.units - units
        if remaining <= EPS * max(1.0, lot.units):
            del self.state.lots[index]
            return
        share = remaining / lot.units
        self.state.lots[index] = lot.model_copy(update={
            "units": remaining, "adjusted_basis": lot.adjusted_basis * share,
            "replacement_units": min(lot.replacement_units, remaining)})

    def _match(self, sale: Realization, lot: TaxLot) -> tuple[Optional[TaxLot], Optional[TaxLot]]:
        """Use up to ``sale.unmatched_units`` of ``lot`` as the sale's replacement.

        Returns ``(matched part or None, rest of the lot or None)``; the matched part carries
        the disallowed loss in its basis (taxable account) and the tacked holding period.
        """
        capacity = lot.units - lot.replacement_units
        m = min(capacity, sale.unmatched_units)
        if m <= EPS:
            return None, lot
        disallowed = m * sale.loss_per_unit
        taxable_replacement = self.account(lot.account_id).account_type.taxable
        tacked = sale.sale_date - sale.holding_start
        matched = lot.model_copy(update={
            "lot_id": f"{lot.lot_id}.w{self._new_id('')}", "units": m, "original_units": m, "replacement_units": m,
            "adjusted_basis": lot.basis_per_unit * m + (disallowed if taxable_replacement else 0.0),
            "holding_start": lot.holding_start - tacked if taxable_replacement else lot.holding_start,
        })
        index = self.state.lots.index(lot)
        rest_units = lot.units - m
        rest = None
        if rest_units > EPS:
            rest = lot.model_copy(update={"units": rest_units, "original_units": rest_units,
                                          "adjusted_basis": lot.basis_per_unit * rest_units})
        self.state.lots[index:index + 1] = [matched] + ([rest] if rest is not None else [])
        s_index = self.state.realizations.index(sale)
        self.state.realizations[s_index] = sale.model_copy(update={
            "disallowed_loss": sale.disallowed_loss + disallowed,
            "lost_to_ira": sale.lost_to_ira + (0.0 if taxable_replacement else disallowed),
            "unmatched_units": sale.unmatched_units - m,
            "replacement_lots": [*sale.replacement_lots, matched.lot_id],
        })
        return matched, rest
