"""Accounts, tax lots, realizations and tax settings."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from src.models.base import StrictModel

Term = Literal["short", "long"]


class AccountType(str, Enum):
    """Tax treatment of an account."""

    TAXABLE = "taxable"
    TRADITIONAL_IRA = "traditional_ira"
    ROTH_IRA = "roth_ira"
    K401 = "401k"

    @property
    def taxable(self) -> bool:
        """True if gains and losses in this account are taxed when realized."""
        return self == AccountType.TAXABLE


class LotMethod(str, Enum):
    """How the lots to sell are chosen."""

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    SPECIFIC = "specific"
    MIN_TAX = "min_tax"


class FilingStatus(str, Enum):
    """Filing status (sets the annual limit on net capital losses against ordinary income)."""

    SINGLE = "single"
    MARRIED_JOINT = "married_joint"
    MARRIED_SEPARATE = "married_separate"

    @property
    def loss_limit(self) -> float:
        """$3,000, or $1,500 married filing separately (IRC §1211(b))."""
        return 1_500.0 if self == FilingStatus.MARRIED_SEPARATE else 3_000.0


class Account(StrictModel):
    """One account of a household."""

    account_id: str = Field(min_length=1, description="Unique id.")
    account_type: AccountType = Field(description="taxable, traditional_ira, roth_ira or 401k.")
    household: str = Field(min_length=1, description="Wash sales are checked across the household.")


class TaxLot(StrictModel):
    """Units of one symbol bought together, with their (adjusted) basis."""

    lot_id: str = Field(description="Unique id.")
    account_id: str = Field(description="Account holding the lot.")
    symbol: str = Field(description="What was bought.")
    units: float = Field(gt=0.0, description="Units still held.")
    cost_per_unit: float = Field(ge=0.0, description="Price paid per unit (with fees).")
    acquired: date = Field(description="Acquisition date.")
    adjusted_basis: float = Field(ge=0.0, description="Basis of the units held, incl. wash-sale additions.")
    holding_start: date = Field(description="Start of the holding period (earlier than acquired after a wash sale).")
    replacement_units: float = Field(
        0.0, ge=0.0, description="Units of this lot already used as wash-sale replacements."
    )
    original_units: float = Field(gt=0.0, description="Units when the lot was opened (or split off).")

    @property
    def basis_per_unit(self) -> float:
        """Adjusted basis per unit."""
        return self.adjusted_basis / self.units


class Realization(StrictModel):
    """The sale of (part of) one lot."""

    sale_id: str = Field(description="Id of the sale this belongs to.")
    lot_id: str = Field(description="Lot sold from.")
    account_id: str = Field(description="Account.")
    symbol: str = Field(description="Symbol.")
    units: float = Field(gt=0.0, description="Units sold from the lot.")
    sale_date: date = Field(description="Trade date.")
    proceeds: float = Field(ge=0.0, description="Net proceeds.")
    basis: float = Field(ge=0.0, description="Adjusted basis of the units sold.")
    cost: float = Field(ge=0.0, description="What the units sold cost (basis before wash-sale additions).")
    holding_start: date = Field(description="Holding period start of the units sold.")
    acquired: Optional[date] = Field(
        None, description="When the units sold were acquired: orders wash-sale matching within a sale "
                          "(None in ledgers saved before it was recorded: holding_start stands in).")
    term: Term = Field(description="short: held one year or less; long: more than one year.")
    taxable: bool = Field(description="False in tax-deferred accounts (no tax either way).")
    disallowed_loss: float = Field(0.0, ge=0.0, description="Loss disallowed by the wash-sale rule.")
    lost_to_ira: float = Field(
        0.0, ge=0.0, description="Part of the disallowed loss whose replacement is in a tax-advantaged account (gone)."
    )
    unmatched_units: float = Field(0.0, ge=0.0, description="Loss units not yet matched to a replacement.")
    replacement_lots: list[str] = Field(default_factory=list, description="Lots that received the disallowed loss.")

    @property
    def gain(self) -> float:
        """Proceeds minus basis, before the wash-sale rule."""
        return self.proceeds - self.basis

    @property
    def recognized(self) -> float:
        """Gain or loss that counts for tax (a disallowed loss is added back)."""
        return self.gain + self.disallowed_loss

    @property
    def loss_per_unit(self) -> float:
        """Loss per unit sold (0 for a gain)."""
        return max(0.0, -self.gain) / self.units


class TaxSettings(StrictModel):
    """Rates and rules used for tax estimates, harvesting and lot choice."""

    short_term_rate: float = Field(0.35, ge=0.0, le=1.0, description="Rate on short-term gains (ordinary income).")
    long_term_rate: float = Field(0.15, ge=0.0, le=1.0, description="Rate on long-term gains.")
    filing_status: FilingStatus = Field(FilingStatus.SINGLE, description="Sets the $3,000 / $1,500 loss limit.")
    wash_sale_window: int = Field(30, ge=0, le=366, description="Days before and after a loss sale.")
    apply_wash_sale_rule: bool = Field(
        True, description="Switch the wash-sale rule off only for counterfactual studies (the law applies it)."
    )
    lot_method: LotMethod = Field(LotMethod.MIN_TAX, description="Default lot choice in taxable accounts.")
    identical: list[list[str]] = Field(
        default_factory=list, description="Groups of symbols the user declares substantially identical."
    )
    substitutes: dict[str, str] = Field(
        default_factory=dict, description="Harvest substitute per symbol (correlated, not identical)."
    )
    min_harvest_benefit: float = Field(50.0, ge=0.0, description="Benefit must exceed costs by at least this much.")
    min_harvest_loss_fraction: float = Field(
        0.05, ge=0.0, le=1.0, description="Loss must be at least this fraction of the position's value."
    )
    swap_back: bool = Field(True, description="Swap the substitute back after the window.")
    annual_gain_budget: Optional[float] = Field(
        None, ge=0.0, description="Cap on realized net gains per calendar year (None = no cap)."
    )

    @model_validator(mode="after")
    def _substitutes_not_identical(self) -> "TaxSettings":
        for symbol, substitute in self.substitutes.items():
            if substitute == symbol or any(symbol in g and substitute in g for g in self.identical):
                raise ValueError(f"substitutes[{symbol!r}]={substitute!r} is substantially identical to it")
        return self

    @field_validator("identical")
    @classmethod
    def _groups_have_two(cls, value: list[list[str]]) -> list[list[str]]:
        for group in value:
            if len(set(group)) < 2:
                raise ValueError(f"identical group {group} needs at least two different symbols")
        return value

    def identical_to(self, symbol: str) -> set[str]:
        """``symbol`` and every symbol declared substantially identical to it."""
        out = {symbol}
        for group in self.identical:
            if symbol in group:
                out |= set(group)
        return out

    def rate(self, term: Term) -> float:
        """The rate for a term."""
        return self.short_term_rate if term == "short" else self.long_term_rate
