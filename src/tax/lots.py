"""Holding periods and lot-selection methods."""

from __future__ import annotations

from datetime import date
from typing import Optional

from src.errors import ConfigError
from src.tax.models import LotMethod, TaxLot, TaxSettings, Term


def one_year_after(day: date) -> date:
    """The anniversary of ``day`` (Feb 29 -> Mar 1, the later and so the stricter reading)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def holding_term(holding_start: date, sale_date: date) -> Term:
    """'long' if held more than one year (sold after the anniversary), else 'short'."""
    return "long" if sale_date > one_year_after(holding_start) else "short"


def order_lots(lots: list[TaxLot], method: LotMethod, price: float, sale_date: date, settings: TaxSettings,
               lot_ids: Optional[list[str]] = None) -> list[TaxLot]:
    """``lots`` in the order a sale consumes them.

    - FIFO / LIFO: by acquisition date (then id).
    - HIFO: highest basis per unit first.
    - SPECIFIC: exactly ``lot_ids``, in the given order.
    - MIN_TAX: least tax per unit first, ``(price - basis) x rate(term)``: losses (short-term
      ones first, being worth more), then long-term gains, short-term gains last.
    """
    fifo = sorted(lots, key=lambda lot: (lot.acquired, lot.lot_id))
    if method == LotMethod.FIFO:
        return fifo
    if method == LotMethod.LIFO:
        return sorted(lots, key=lambda lot: (lot.acquired, lot.lot_id), reverse=True)
    if method == LotMethod.HIFO:
        return sorted(fifo, key=lambda lot: -lot.basis_per_unit)
    if method == LotMethod.SPECIFIC:
        if not lot_ids:
            raise ConfigError("lot_ids is empty: specific identification needs the lots to sell")
        by_id = {lot.lot_id: lot for lot in lots}
        unknown = [i for i in lot_ids if i not in by_id]
        if unknown:
            raise ConfigError(f"lot_ids {unknown} are not open lots of this symbol and account")
        return [by_id[i] for i in lot_ids]

    def tax_per_unit(lot: TaxLot) -> float:
        return (price - lot.basis_per_unit) * settings.rate(holding_term(lot.holding_start, sale_date))

    return sorted(fifo, key=tax_per_unit)
