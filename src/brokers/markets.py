"""Venue rules from ccxt's unified markets: live (``load_markets``) or a shipped snapshot.

A portfolio unit is either an exchange symbol (``"BTC/USDT"``) or a base asset (``"BTC"``, traded
against the exchange block's quote currency). ``unit_symbol`` makes the symbol; the rules are
keyed by the unit as the portfolio names it.
"""

from __future__ import annotations

import json
from functools import lru_cache
import logging
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

import ccxt

from src.errors import ConfigError, DataError
from src.models.venue_models import MarketRules, VenueRules
from src.utils.paths import MARKET_DIR

if TYPE_CHECKING:
    from src.models.execution_models import RuntimeSettings
    from src.models.portfolio_models import PortfolioConfig

log = logging.getLogger(__name__)


def unit_symbol(unit: str, quote: str) -> str:
    """The exchange symbol a unit trades as: ``"BTC"`` -> ``"BTC/USDT"``; a symbol stays as it is."""
    return unit if "/" in unit else f"{unit}/{quote}"


def unit_base(unit: str) -> str:
    """The asset a unit holds: ``"BTC/USDT"`` -> ``"BTC"``, ``"BTC"`` -> ``"BTC"``."""
    return unit.split("/", 1)[0]


def market_rules(market: Mapping[str, Any], precision_mode: int) -> MarketRules:
    """One unified ccxt market as ``MarketRules``."""
    limits = market.get("limits") or {}
    amount = limits.get("amount") or {}
    cost = limits.get("cost") or {}
    return MarketRules(symbol=market["symbol"], base=market["base"], quote=market["quote"],
                       amount_precision=(market.get("precision") or {}).get("amount"), precision_mode=precision_mode,
                       min_amount=amount.get("min") or 0.0, max_amount=amount.get("max") or None,
                       min_cost=cost.get("min") or 0.0)


def rules_for_units(markets: Mapping[str, Mapping[str, Any]], precision_mode: int, units: Iterable[str], *,
                    venue: str, quote: str, source: str) -> VenueRules:
    """Rules per unit from ``markets`` (symbol -> unified market); units with no market are listed
    in ``missing``."""
    found, missing = {}, []
    for unit in units:
        market = markets.get(unit_symbol(unit, quote))
        if market is None:
            missing.append(unit)
        else:
            found[unit] = market_rules(market, precision_mode)
    return VenueRules(venue=venue, source=source, markets=found, missing=missing)


@lru_cache(maxsize=8)
def _snapshot(venue: str) -> dict:
    path = MARKET_DIR / f"exchange_markets_{venue}.json"
    if not path.exists():
        shipped = sorted(p.stem.removeprefix("exchange_markets_") for p in MARKET_DIR.glob("exchange_markets_*.json"))
        raise ConfigError(f"runtime.exchange.id={venue!r}: no market snapshot {path.name} is shipped for paper mode "
                          f"(shipped: {', '.join(shipped)})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"market snapshot {path} cannot be read: {exc}") from exc


def snapshot_rules(venue: str, units: Iterable[str], quote: str) -> VenueRules:
    """The shipped snapshot's rules for ``units`` (paper trading of an exchange's symbols)."""
    snap = _snapshot(venue)
    markets = {m["symbol"]: m for m in snap["markets"]}
    return rules_for_units(markets, int(snap["precision_mode"]), units, venue=venue, quote=quote,
                           source=f"snapshot exchange_markets_{venue}.json ({snap['source'][:60]}...)")


def check_exchange_id(venue: str) -> None:
    """A ccxt exchange id, or a one-line error listing how to find the ids."""
    if venue not in ccxt.exchanges:
        raise ConfigError(f"runtime.exchange.id={venue!r} is not a ccxt exchange (see ccxt.exchanges, e.g. "
                          f"'binance', 'kraken', 'coinbase')")


def paper_venue_rules(config: "PortfolioConfig", settings: "RuntimeSettings", assets: list[str]) -> Optional[VenueRules]:
    """The shipped market rules of the exchange a paper portfolio names (None without one) for its
    plain assets (strategy sleeves are not exchange markets), so a paper run rounds and skips
    exactly as that exchange would."""
    if settings.exchange is None:
        return None
    rules = snapshot_rules(settings.exchange.id, assets, settings.exchange.quote)
    if rules.missing:
        log.warning("%s: no %s market rules shipped for %s; they trade without venue rules in paper mode",
                    config.name, settings.exchange.id, rules.missing)
    return rules
