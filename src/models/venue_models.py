"""A venue's market rules: amount step, minimum amount and minimum cost per traded unit.

They come from ccxt's unified markets (``exchange.load_markets()`` live, or the shipped snapshot
``src/data/market/exchange_markets_<id>.json`` in paper mode), so a paper run rounds exactly as
the exchange would (``src/orders/venue.py``).
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from src.models.base import StrictModel


class MarketRules(StrictModel):
    """The rules of one market (e.g. ``BTC/USDT``) for the unit it trades."""

    symbol: str = Field(description="The exchange's unified symbol, e.g. 'BTC/USDT'.")
    base: str = Field(description="Asset bought and sold (e.g. 'BTC').")
    quote: str = Field(description="Currency paid (the portfolio's cash, e.g. 'USDT').")
    amount_precision: Optional[float] = Field(
        None, description="ccxt's precision.amount: the step (TICK_SIZE mode) or the number of decimals or "
        "significant digits (other modes); None = any amount.")
    precision_mode: int = Field(4, description="ccxt's precisionMode of the exchange (2 decimal places, "
                                               "3 significant digits, 4 tick size).")
    min_amount: float = Field(0.0, ge=0.0, description="limits.amount.min (0 = none).")
    max_amount: Optional[float] = Field(None, gt=0.0, description="limits.amount.max (None = none).")
    min_cost: float = Field(0.0, ge=0.0, description="limits.cost.min: amount x price at least this (0 = none).")


class VenueRules(StrictModel):
    """Market rules per portfolio unit on one venue."""

    venue: str = Field(description="ccxt exchange id, e.g. 'binance'.")
    source: str = Field(description="Where the rules came from (live load_markets, or a snapshot file).")
    markets: dict[str, MarketRules] = Field(description="Rules per portfolio unit (e.g. 'BTC' -> BTC/USDT).")
    missing: list[str] = Field(default_factory=list,
                               description="Units with no market in the source: traded without venue rules "
                                           "(paper), recorded in every plan's skipped-trade notes.")
