"""Tax impact: netting, the annual loss limit and the carryforward with its character."""

from __future__ import annotations

from datetime import date

import pytest

from src.tax.impact import tax_impact
from src.tax.models import Realization, TaxSettings

SETTINGS = TaxSettings(short_term_rate=0.35, long_term_rate=0.15)


def real(gain: float, term: str, *, taxable: bool = True, disallowed: float = 0.0, lost: float = 0.0) -> Realization:
    basis = 10_000.0
    return Realization(sale_id="S", lot_id="L", account_id="a", symbol="X", units=1.0, sale_date=date(2022, 6, 1),
                       proceeds=basis + gain, basis=basis, cost=basis, holding_start=date(2021, 1, 1), term=term,
                       taxable=taxable, disallowed_loss=disallowed, lost_to_ira=lost)


def test_impact_when_st_gain_and_lt_loss_then_netted_and_taxed_short():
    t = tax_impact([real(5_000, "short"), real(-2_000, "long")], SETTINGS)
    assert (t.net_short_term, t.net_long_term) == (3_000, 0)
    assert t.estimated_tax == pytest.approx(3_000 * 0.35) and t.loss_deduction == 0


def test_impact_when_net_loss_above_limit_then_3000_deducted_and_rest_carried_short():
    t = tax_impact([real(-10_000, "short"), real(2_000, "long")], SETTINGS)
    assert t.loss_deduction == 3_000 and t.carryforward_short_term == 5_000 and t.carryforward_long_term == 0
    assert t.estimated_tax == pytest.approx(-3_000 * 0.35)


def test_impact_when_both_characters_lost_then_deduction_takes_short_first():
    t = tax_impact([real(-1_000, "short"), real(-5_000, "long")], SETTINGS)
    assert t.loss_deduction == 3_000
    assert (t.carryforward_short_term, t.carryforward_long_term) == (0, 3_000)


def test_impact_when_married_filing_separately_then_1500_limit():
    t = tax_impact([real(-10_000, "long")], TaxSettings(filing_status="married_separate"))
    assert t.loss_deduction == 1_500 and t.carryforward_long_term == 8_500


def test_impact_when_carryforward_given_then_used_against_gains():
    t = tax_impact([real(4_000, "long")], SETTINGS, carryforward_long_term=2_500)
    assert t.net_long_term == 1_500 and t.estimated_tax == pytest.approx(1_500 * 0.15)


def test_impact_when_wash_sale_and_ira_then_disallowed_counted_and_ira_untaxed():
    t = tax_impact([real(-1_000, "short", disallowed=1_000, lost=400), real(9_999, "short", taxable=False)], SETTINGS)
    assert t.short_term_losses == 0 and t.disallowed_losses == 1_000 and t.lost_to_ira == 400
    assert t.estimated_tax == 0


def test_impact_when_carryforward_negative_then_error():
    with pytest.raises(ValueError, match="carryforwards must be >= 0"):
        tax_impact([], SETTINGS, carryforward_short_term=-1.0)
