"""A household: several accounts (taxable, IRAs, Roth, 401k; one or two owners) held together to
one set of targets."""

from __future__ import annotations

from datetime import date
from typing import Literal, Optional

from pydantic import Field, model_validator

from src.models.base import StrictModel
from src.models.portfolio_models import PortfolioConfig
from src.models.trading_models import OrderSide
from src.tax.models import AccountType, TaxSettings


class AccountSpec(StrictModel):
    """One account of the household (paper: it starts with ``cash``)."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique account id.")
    owner: str = Field(min_length=1, max_length=60, description="Whose account (e.g. 'alex', 'sam').")
    type: AccountType = Field(description="taxable, traditional_ira, roth_ira or 401k.")
    cash: float = Field(ge=0.0, le=1e12, description="Starting cash of the paper account.")


class ScheduledDeposit(StrictModel):
    """A contribution to one account on a schedule (the first trading day of each month in range)."""

    account: str = Field(description="Account id.")
    monthly: float = Field(gt=0.0, le=1e9, description="Amount deposited each month.")
    start: date = Field(description="First month.")
    end: Optional[date] = Field(None, description="Last month (None: to the end of the run).")


class HouseholdConfig(StrictModel):
    """Several accounts held to one portfolio's targets."""

    name: str = Field(min_length=1, max_length=100, description="Household name (events and files).")
    portfolio: PortfolioConfig = Field(description="The targets, fees, min_trade_size and method of the whole.")
    accounts: list[AccountSpec] = Field(min_length=1, max_length=20, description="The accounts.")
    routing: Literal["household", "each_account"] = Field(
        "household", description="'household': trades go where they cost least (sells in tax-deferred accounts "
        "first, buys where the asset-location rule places the unit, each account within its own cash) and a "
        "deposit buys the household's most underweight units in its account; 'each_account': every account is "
        "rebalanced to the targets on its own (the usual baseline).")
    asset_classes: dict[str, Literal["bond", "stock", "sleeve", "commodity", "crypto"]] = Field(
        default_factory=dict, description="Asset class per unit for asset location (default: UST* bonds, "
        "registry strategies sleeves, everything else stock).")
    tax: TaxSettings = Field(default_factory=TaxSettings, description="Rates and wash-sale window of the household.")
    deposits: list[ScheduledDeposit] = Field(default_factory=list, description="Monthly contributions.")
    withdrawals: list[ScheduledDeposit] = Field(
        default_factory=list, description="Monthly withdrawals (``monthly`` is the amount taken out): the account "
        "sells what the household holds most above target first (in a taxable account, the lots with the least "
        "tax, by the tax settings' lot method), then the money leaves.")
    replay_start: date = Field(date(2015, 1, 2), description="First day of `main.py --household` (paper, real data).")
    replay_end: Optional[date] = Field(None, description="Last day (None: the end of the units' data).")
    band: float = Field(0.05, gt=0.0, le=1.0, description="A household check trades when a unit's weight is this far "
                                                           "from target (absolute), or cash is idle beyond it.")

    @model_validator(mode="after")
    def _accounts_unique_and_known(self) -> "HouseholdConfig":
        ids = [a.id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"accounts: ids must be unique (got {ids})")
        for kind, flows in (("deposits", self.deposits), ("withdrawals", self.withdrawals)):
            for i, flow in enumerate(flows):
                if flow.account not in ids:
                    raise ValueError(f"{kind}[{i}].account={flow.account!r} is not one of the accounts {ids}")
        unknown = sorted(set(self.asset_classes) - set(self.portfolio.units))
        if unknown:
            raise ValueError(f"asset_classes: {unknown} are not units of the portfolio")
        return self


class HouseholdTrade(StrictModel):
    """One trade of a household plan, in one account, with why it is there."""

    account: str = Field(description="Account id.")
    unit: str = Field(description="Unit traded.")
    side: OrderSide = Field(description="buy or sell.")
    units: float = Field(gt=0.0, description="Units.")
    price: float = Field(gt=0.0, description="Reference price.")
    reason: str = Field(description="Why here: routing, location, deposit, wash-sale decision.")
    lot_ids: Optional[list[str]] = Field(None, description="Lots to sell, when the wash-sale check chose them.")

    @property
    def notional(self) -> float:
        return self.units * self.price


class HouseholdPlan(StrictModel):
    """What a household check decided."""

    day: date = Field(description="Decision day.")
    trades: list[HouseholdTrade] = Field(description="Sells first, then buys, each in its account.")
    skipped: list[str] = Field(default_factory=list, description="Trades not made, and why.")
    wash_sale_decisions: list[str] = Field(default_factory=list,
                                           description="Every trade the wash-sale check changed or deferred, "
                                                       "and every wash sale it accepted, with the reason.")
