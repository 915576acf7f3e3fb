"""Risk profiles, their natural-language aliases, and the targets a profile sets for holdings.

A risk profile is a mix of three asset classes (stocks / bonds / cash):

============  ======  =====  ====
profile       stocks  bonds  cash
============  ======  =====  ====
balanced       50%     40%    10%
growth         75%     15%    10%
conservative   25%     60%    15%
income         40%     50%    10%
============  ======  =====  ====

A profile is chosen by its name or by an alias (``ALIASES``), matched case-insensitively after
``-`` and ``_`` become spaces and runs of whitespace become one space ("Middle-of-the-Road" is
"middle of the road").

Targets (``allocate``) are fractions with four decimals (percent with two), held as ``Decimal``
so that they sum to exactly 1:

- within a class, each position's target is the class target times its share of the class's
  current value (a class whose holdings are all worth 0 is split equally among them, so a
  value-0 holding names what to buy);
- a stocks or bonds class with no holding is warned about and its target is held in cash until
  a holding of that class is added; with no cash holding a ``CASH`` line of value 0 is added;
- each position is rounded to a basis point (half to even) and the rounding residual goes to
  the largest position of its class (ties: the first symbol in sort order), so every class sums
  exactly to its target and the whole to exactly 100%. Should that ever make the largest weight
  negative (only possible with dozens of positions in a class), every position is rounded down
  instead and the (then non-negative) residual goes to the largest.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any, Optional, Sequence, Union

from pydantic import Field, model_validator

from src.errors import ConfigError
from src.models.base import StrictModel

BASIS_POINTS = 10_000  # 100% in basis points: the resolution of every target
CASH_SYMBOL = "CASH"   # the line added when no cash holding is listed


def _pct(fraction: Decimal) -> str:
    """``Decimal("0.75")`` -> ``"75%"``; ``Decimal("0.1234")`` -> ``"12.34%"``."""
    return f"{float(fraction) * 100:g}%"


class AssetClass(str, Enum):
    """The three asset classes a risk profile mixes."""

    STOCKS = "stocks"
    BONDS = "bonds"
    CASH = "cash"


class RiskProfile(StrictModel):
    """A target mix of stocks, bonds and cash (fractions with at most four decimals, summing to 1)."""

    name: str = Field(min_length=1, description="Profile name (balanced, growth, conservative, income).")
    description: str = Field(description="Who the profile is for, in a few words.")
    stocks: Decimal = Field(ge=0, le=1, decimal_places=4, description="Target fraction of stocks.")
    bonds: Decimal = Field(ge=0, le=1, decimal_places=4, description="Target fraction of bonds.")
    cash: Decimal = Field(ge=0, le=1, decimal_places=4, description="Target fraction of cash.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> "RiskProfile":
        total = self.stocks + self.bonds + self.cash
        if total != 1:
            raise ValueError(f"stocks + bonds + cash = {total} must be exactly 1")
        return self

    def target(self, asset_class: AssetClass) -> Decimal:
        """The profile's target fraction of ``asset_class``."""
        return getattr(self, AssetClass(asset_class).value)

    def label(self) -> str:
        """``"growth (stocks 75% / bonds 15% / cash 10%)"``."""
        mix = " / ".join(f"{c.value} {_pct(self.target(c))}" for c in AssetClass)
        return f"{self.name} ({mix})"


PROFILES: dict[str, RiskProfile] = {p.name: p for p in (
    RiskProfile(name="balanced", description="middle of the road: growth and stability in equal measure",
                stocks=Decimal("0.50"), bonds=Decimal("0.40"), cash=Decimal("0.10")),
    RiskProfile(name="growth", description="long horizon, can ride out deep falls",
                stocks=Decimal("0.75"), bonds=Decimal("0.15"), cash=Decimal("0.10")),
    RiskProfile(name="conservative", description="capital preservation, low risk",
                stocks=Decimal("0.25"), bonds=Decimal("0.60"), cash=Decimal("0.15")),
    RiskProfile(name="income", description="steady income, e.g. in retirement",
                stocks=Decimal("0.40"), bonds=Decimal("0.50"), cash=Decimal("0.10")),
)}

# Natural-language aliases (already normalised, see normalise_phrase) -> profile name.
ALIASES: dict[str, str] = {
    "moderate": "balanced", "moderate risk": "balanced", "medium": "balanced", "medium risk": "balanced",
    "middle of the road": "balanced",
    "aggressive": "growth", "long horizon": "growth", "long term": "growth", "high risk": "growth",
    "safe": "conservative", "low risk": "conservative", "capital preservation": "conservative",
    "cautious": "conservative", "defensive": "conservative",
    "retirement income": "income", "yield": "income", "steady income": "income",
}


def normalise_phrase(text: str) -> str:
    """Lower case (casefold), ``-`` and ``_`` as spaces, whitespace runs as one space, trimmed."""
    return " ".join(text.replace("-", " ").replace("_", " ").casefold().split())


def resolve_profile(text: Union[str, RiskProfile]) -> RiskProfile:
    """The profile named by ``text``: a profile name or an alias (``ALIASES``).

    Raises
    ------
    ConfigError
        ``unknown risk profile 'x': choose balanced, growth, conservative or income (or say e.g.
        'moderate', 'aggressive', 'safe', 'retirement income')``.
    """
    if isinstance(text, RiskProfile):
        return text
    key = normalise_phrase(str(text))
    name = key if key in PROFILES else ALIASES.get(key)
    if name is None:
        names = list(PROFILES)
        raise ConfigError(f"unknown risk profile {text!r}: choose {', '.join(names[:-1])} or {names[-1]} "
                          f"(or say e.g. 'moderate', 'aggressive', 'safe', 'retirement income')")
    return PROFILES[name]


class Holding(StrictModel):
    """One position: what it is, what it is worth, and (optionally) its price and tax basis."""

    symbol: str = Field(min_length=1, description="Ticker or cash line, e.g. CSPX or USD.CASH.")
    asset_class: AssetClass = Field(description="stocks, bonds or cash.")
    value: Decimal = Field(ge=0, description="Market value now, in account currency.")
    quantity: Optional[Decimal] = Field(None, gt=0, description="Shares held (sets the price as value / quantity).")
    price: Optional[Decimal] = Field(None, gt=0, description="Price per share (estimated shares = amount / price).")
    cost_basis: Optional[Decimal] = Field(None, ge=0, description="What the whole position cost (for the tax estimate).")
    acquired: Optional[date] = Field(None, description="When it was bought: short or long term (with cost_basis).")
    taxable: bool = Field(True, description="False in a tax-deferred account: its sells are not taxed.")
    whole_shares: bool = Field(description="The venue trades whole shares only; default True for stocks and "
                               "bonds, False for cash.")

    @model_validator(mode="before")
    @classmethod
    def _default_whole_shares(cls, data: Any) -> Any:
        if isinstance(data, dict) and "whole_shares" not in data:
            data = {**data, "whole_shares": data.get("asset_class") not in ("cash", AssetClass.CASH)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Holding":
        if (self.cost_basis is None) != (self.acquired is None):
            raise ValueError(f"{self.symbol}: cost_basis and acquired go together (give both or neither)")
        if self.quantity is not None and self.price is not None:
            if abs(self.quantity * self.price - self.value) > Decimal("0.01"):
                raise ValueError(f"{self.symbol}: value {self.value} is not quantity {self.quantity} x price "
                                 f"{self.price} = {self.quantity * self.price}")
        return self

    @property
    def unit_price(self) -> Optional[Decimal]:
        """The price per share: ``price``, else ``value / quantity`` (None when unknown)."""
        if self.price is not None:
            return self.price
        if self.quantity is not None and self.value > 0:
            return self.value / self.quantity
        return None

    @property
    def held_quantity(self) -> Optional[Decimal]:
        """Shares held: ``quantity``, else ``value / price`` (None when unknown)."""
        if self.quantity is not None:
            return self.quantity
        return self.value / self.price if self.price is not None else None


class Allocation(StrictModel):
    """What a profile sets for a list of holdings."""

    profile: RiskProfile = Field(description="The profile applied.")
    holdings: list[Holding] = Field(description="The holdings, plus a CASH line of value 0 if none was cash.")
    class_targets: dict[AssetClass, Decimal] = Field(
        description="Target fraction per class (a class with no holding moved to cash).")
    targets: dict[str, Decimal] = Field(description="Target fraction per symbol, four decimals, summing to exactly 1.")
    warnings: list[str] = Field(default_factory=list, description="Classes with no holding, holdings set to 0.")


def _checked(holdings: Sequence[Holding]) -> list[Holding]:
    """The holdings, or a ConfigError: none, all worth 0, a symbol twice, or a single class."""
    book = list(holdings)
    if not book:
        raise ConfigError("no positions found: the holdings list is empty")
    if not any(h.value > 0 for h in book):
        raise ConfigError("no positions found: every holding has value 0")
    seen: set[str] = set()
    for h in book:
        if h.symbol in seen:
            raise ConfigError(f"holding {h.symbol!r} is listed twice: list each symbol once")
        seen.add(h.symbol)
    classes = {h.asset_class for h in book}
    if len(classes) == 1:
        only = next(iter(classes)).value
        raise ConfigError(f"all positions are in one asset class ({only}): a risk profile needs holdings in at "
                          f"least two of stocks, bonds and cash")
    return book


def _split(members: list[Holding], class_bp: int) -> dict[str, int]:
    """``class_bp`` basis points split over ``members`` pro rata to value (equally if all are 0)."""
    members = sorted(members, key=lambda h: h.symbol)
    values = [Fraction(h.value) for h in members]
    shares = values if sum(values) > 0 else [Fraction(1)] * len(members)
    exact = [class_bp * s / sum(shares) for s in shares]
    largest = max(range(len(members)), key=exact.__getitem__)  # first maximum: earliest symbol
    for rounding in (round, math.floor):
        bps = [int(rounding(x)) for x in exact]
        bps[largest] += class_bp - sum(bps)
        if bps[largest] >= 0:
            break
    return {h.symbol: bp for h, bp in zip(members, bps)}


def allocate(holdings: Sequence[Holding], profile: Union[str, RiskProfile]) -> Allocation:
    """Targets per class and per symbol that ``profile`` sets for ``holdings``.

    Parameters
    ----------
    holdings : sequence of Holding
        At least two asset classes listed, at least one holding worth more than 0.
    profile : RiskProfile or str
        A profile, its name or an alias.

    Returns
    -------
    Allocation
        Targets summing to exactly 1 (see the module docstring for the rules) and the warnings.

    Raises
    ------
    ConfigError
        Unknown profile; no positions; a symbol listed twice; all positions in one class.
    """
    profile = resolve_profile(profile)
    book = _checked(holdings)
    class_bp = {c: int(profile.target(c) * BASIS_POINTS) for c in AssetClass}
    present = {h.asset_class for h in book}
    warnings: list[str] = []
    for c in (AssetClass.STOCKS, AssetClass.BONDS):
        if c not in present:
            if class_bp[c]:
                warnings.append(f"no {c.value} holding: the {c.value} target of {_pct(profile.target(c))} is held in "
                                f"cash until you add one (a holding of value 0 names what to buy)")
            class_bp[AssetClass.CASH] += class_bp.pop(c)
    if AssetClass.CASH not in present:
        book.append(Holding(symbol=CASH_SYMBOL, asset_class=AssetClass.CASH, value=Decimal(0)))
        warnings.append(f"no cash holding: the cash target is kept as uninvested cash ({CASH_SYMBOL})")
    targets_bp: dict[str, int] = {}
    for c, bp in class_bp.items():
        targets_bp.update(_split([h for h in book if h.asset_class == c], bp))
    for h in book:
        if h.value == 0 and h.symbol != CASH_SYMBOL and targets_bp[h.symbol] == 0:
            warnings.append(f"{h.symbol} is worth 0 and its class holds other positions: its target is 0")
    return Allocation(profile=profile, holdings=book,
                      class_targets={c: Decimal(bp).scaleb(-4) for c, bp in class_bp.items()},
                      targets={h.symbol: Decimal(targets_bp[h.symbol]).scaleb(-4) for h in book},
                      warnings=warnings)


def profile_targets(holdings: Sequence[Holding], profile: Union[str, RiskProfile]) -> tuple[dict[str, Decimal], list[str]]:
    """Target fraction per symbol (summing to exactly 1) and the warnings; see ``allocate``."""
    allocation = allocate(holdings, profile)
    return allocation.targets, allocation.warnings
