"""Tax impact of realized gains: netting, the annual loss limit and the carryforward.

Netting (IRS Schedule D): short-term gains and losses net to ``net_st``, long-term to
``net_lt`` (each after any carryforward of its own character); a net loss of one character
offsets a net gain of the other. A remaining net loss is deductible against ordinary income up
to $3,000 ($1,500 married filing separately), short-term loss first; the rest carries forward
keeping its character. The estimate taxes net short-term gains and the deduction at the
short-term (ordinary) rate and net long-term gains at the long-term rate.
"""

from __future__ import annotations

from pydantic import Field

from src.models.base import StrictModel
from src.tax.models import Realization, TaxSettings


class TaxImpact(StrictModel):
    """What a set of realizations means for tax."""

    short_term_gains: float = Field(description="Recognized short-term gains.")
    short_term_losses: float = Field(description="Recognized short-term losses (positive number).")
    long_term_gains: float = Field(description="Recognized long-term gains.")
    long_term_losses: float = Field(description="Recognized long-term losses (positive number).")
    disallowed_losses: float = Field(description="Losses disallowed by wash sales.")
    lost_to_ira: float = Field(description="Disallowed losses gone for good (IRA replacements).")
    net_short_term: float = Field(description="Short-term net after carryforward and cross-netting.")
    net_long_term: float = Field(description="Long-term net after carryforward and cross-netting.")
    loss_deduction: float = Field(description="Net capital loss deducted from ordinary income.")
    carryforward_short_term: float = Field(description="Short-term loss carried to next year.")
    carryforward_long_term: float = Field(description="Long-term loss carried to next year.")
    estimated_tax: float = Field(description="Tax at the configured rates (negative = saving).")


def tax_impact(realizations: list[Realization], settings: TaxSettings, *, carryforward_short_term: float = 0.0,
               carryforward_long_term: float = 0.0) -> TaxImpact:
    """The tax impact of ``realizations`` (only taxable accounts count).

    Parameters
    ----------
    carryforward_short_term, carryforward_long_term : float
        Losses carried in from earlier years (positive numbers).
    """
    if carryforward_short_term < 0 or carryforward_long_term < 0:
        raise ValueError(f"carryforwards must be >= 0, got {carryforward_short_term}, {carryforward_long_term}")
    taxed = [r for r in realizations if r.taxable]
    st = [r.recognized for r in taxed if r.term == "short"]
    lt = [r.recognized for r in taxed if r.term == "long"]
    st_gains, st_losses = sum(x for x in st if x > 0), -sum(x for x in st if x < 0)
    lt_gains, lt_losses = sum(x for x in lt if x > 0), -sum(x for x in lt if x < 0)
    net_st = st_gains - st_losses - carryforward_short_term
    net_lt = lt_gains - lt_losses - carryforward_long_term
    if net_st < 0 < net_lt:
        net_lt, net_st = max(net_lt + net_st, 0.0), min(net_lt + net_st, 0.0)
    elif net_lt < 0 < net_st:
        net_st, net_lt = max(net_st + net_lt, 0.0), min(net_st + net_lt, 0.0)
    st_loss_left, lt_loss_left = max(-net_st, 0.0), max(-net_lt, 0.0)
    deduction = min(settings.filing_status.loss_limit, st_loss_left + lt_loss_left)
    from_st = min(st_loss_left, deduction)
    tax = (max(net_st, 0.0) * settings.short_term_rate + max(net_lt, 0.0) * settings.long_term_rate
           - deduction * settings.short_term_rate)
    return TaxImpact(
        short_term_gains=st_gains, short_term_losses=st_losses, long_term_gains=lt_gains, long_term_losses=lt_losses,
        disallowed_losses=sum(r.disallowed_loss for r in taxed), lost_to_ira=sum(r.lost_to_ira for r in taxed),
        net_short_term=net_st, net_long_term=net_lt, loss_deduction=deduction,
        carryforward_short_term=st_loss_left - from_st, carryforward_long_term=lt_loss_left - (deduction - from_st),
        estimated_tax=tax,
    )
