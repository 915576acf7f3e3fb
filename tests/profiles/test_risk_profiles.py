"""Risk profiles, their aliases, and the targets a profile sets for holdings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from src.errors import ConfigError
from src.profiles import (ALIASES, CASH_SYMBOL, PROFILES, AssetClass, Holding, allocate, profile_targets,
                          resolve_profile)

UNKNOWN = ("unknown risk profile {!r}: choose balanced, growth, conservative or income "
           "(or say e.g. 'moderate', 'aggressive', 'safe', 'retirement income')")


def seed003() -> list[Holding]:
    """The worked example: CSPX 30,000 and INDA 20,000 (stocks), STRIPS-2040 40,000, USD.CASH 10,000."""
    return [Holding(symbol="CSPX", asset_class="stocks", value=30_000),
            Holding(symbol="INDA", asset_class="stocks", value=20_000),
            Holding(symbol="STRIPS-2040", asset_class="bonds", value=40_000),
            Holding(symbol="USD.CASH", asset_class="cash", value=10_000)]


@pytest.mark.parametrize("name, stocks, bonds, cash", [
    ("balanced", "0.50", "0.40", "0.10"), ("growth", "0.75", "0.15", "0.10"),
    ("conservative", "0.25", "0.60", "0.15"), ("income", "0.40", "0.50", "0.10"),
])
def test_profiles_when_read_then_mix_as_specified(name, stocks, bonds, cash):
    p = PROFILES[name]
    assert (p.stocks, p.bonds, p.cash) == (Decimal(stocks), Decimal(bonds), Decimal(cash))
    assert p.stocks + p.bonds + p.cash == 1


@pytest.mark.parametrize("phrase, name", [
    ("balanced", "balanced"), ("  Growth ", "growth"), ("CONSERVATIVE", "conservative"), ("income", "income"),
    ("moderate", "balanced"), ("Middle of the Road", "balanced"), ("middle-of-the-road", "balanced"),
    ("middle   of\tthe road", "balanced"), ("medium risk", "balanced"),
    ("aggressive", "growth"), ("Long Horizon", "growth"), ("long-term", "growth"), ("high_risk", "growth"),
    ("safe", "conservative"), ("Low Risk", "conservative"), ("low-risk", "conservative"),
    ("capital preservation", "conservative"), ("cautious", "conservative"),
    ("retirement income", "income"), ("YIELD", "income"), ("steady income", "income"),
])
def test_resolve_profile_when_name_or_alias_then_that_profile(phrase, name):
    assert resolve_profile(phrase) is PROFILES[name]


def test_alias_table_when_read_then_every_alias_normalised_and_names_a_profile():
    for alias, name in ALIASES.items():
        assert name in PROFILES and alias == " ".join(alias.split()).casefold() and alias not in PROFILES


@pytest.mark.parametrize("text", ["wild", "", "60/40", "moderately"])
def test_resolve_profile_when_unknown_then_one_line_listing_profiles(text):
    with pytest.raises(ConfigError) as err:
        resolve_profile(text)
    assert str(err.value) == UNKNOWN.format(text)


def test_profile_targets_when_seed003_balanced_then_exactly_30_20_40_10_and_no_warning():
    targets, warnings = profile_targets(seed003(), "balanced")
    assert targets == {"CSPX": Decimal("0.30"), "INDA": Decimal("0.20"), "STRIPS-2040": Decimal("0.40"),
                       "USD.CASH": Decimal("0.10")}
    assert warnings == []


@pytest.mark.parametrize("profile, expected", [
    ("growth", {"CSPX": "0.45", "INDA": "0.30", "STRIPS-2040": "0.15", "USD.CASH": "0.10"}),
    ("conservative", {"CSPX": "0.15", "INDA": "0.10", "STRIPS-2040": "0.60", "USD.CASH": "0.15"}),
    ("income", {"CSPX": "0.24", "INDA": "0.16", "STRIPS-2040": "0.50", "USD.CASH": "0.10"}),
])
def test_profile_targets_when_seed003_other_profiles_then_class_target_times_share_of_class(profile, expected):
    targets, _ = profile_targets(seed003(), profile)
    assert targets == {s: Decimal(v) for s, v in expected.items()}  # stocks split 60/40 by current value


def test_profile_targets_when_thirds_round_up_then_largest_gives_back_the_basis_point():
    # Stocks 50% over three equal holdings: 16.6667% each rounds to 16.67% (sum 50.01%); the
    # correction goes to the largest (a tie: the first symbol), so stocks sum to exactly 50%.
    holdings = [Holding(symbol=s, asset_class="stocks", value=1_000) for s in ("C", "A", "B")]
    holdings += [Holding(symbol="BND", asset_class="bonds", value=1_000), Holding(symbol="USD", asset_class="cash", value=1)]
    targets, _ = profile_targets(holdings, "balanced")
    assert (targets["A"], targets["B"], targets["C"]) == (Decimal("0.1666"), Decimal("0.1667"), Decimal("0.1667"))
    assert sum(targets.values()) == 1


def test_profile_targets_when_thirds_round_down_then_largest_takes_the_basis_point():
    # Cash 10% over three equal lines: 3.3333% each rounds to 3.33% (sum 9.99%): +0.01% to the first.
    holdings = [Holding(symbol=s, asset_class="cash", value=500) for s in ("EUR", "GBP", "USD")]
    holdings += [Holding(symbol="CSPX", asset_class="stocks", value=10_000),
                 Holding(symbol="BND", asset_class="bonds", value=10_000)]
    targets, _ = profile_targets(holdings, "growth")
    assert (targets["EUR"], targets["GBP"], targets["USD"]) == (Decimal("0.0334"), Decimal("0.0333"), Decimal("0.0333"))
    assert targets["CSPX"] == Decimal("0.75") and sum(targets.values()) == 1


def test_profile_targets_when_many_small_lines_round_up_then_floor_keeps_weights_non_negative():
    # 60 equal cash lines share 10%: 16.67 bp each rounds to 17 (sum 10.20%), more than the
    # largest line could give back; every line is then rounded down (16 bp) and the first takes the rest.
    holdings = [Holding(symbol=f"C{i:02d}", asset_class="cash", value=1) for i in range(60)]
    holdings += [Holding(symbol="CSPX", asset_class="stocks", value=100), Holding(symbol="B", asset_class="bonds", value=1)]
    targets, _ = profile_targets(holdings, "balanced")
    assert targets["C00"] == Decimal("0.0056") and targets["C59"] == Decimal("0.0016")
    assert sum(targets.values()) == 1 and min(targets.values()) >= 0


def test_profile_targets_when_class_has_no_holding_then_warned_and_its_target_held_in_cash():
    holdings = [Holding(symbol="CSPX", asset_class="stocks", value=60_000),
                Holding(symbol="USD.CASH", asset_class="cash", value=40_000)]
    allocation = allocate(holdings, "balanced")
    assert allocation.targets == {"CSPX": Decimal("0.50"), "USD.CASH": Decimal("0.50")}
    assert AssetClass.BONDS not in allocation.class_targets
    assert allocation.warnings == ["no bonds holding: the bonds target of 40% is held in cash until you add one "
                                   "(a holding of value 0 names what to buy)"]


def test_profile_targets_when_no_cash_holding_then_cash_line_added_and_warned():
    holdings = [Holding(symbol="CSPX", asset_class="stocks", value=60_000),
                Holding(symbol="STRIPS-2040", asset_class="bonds", value=40_000)]
    targets, warnings = profile_targets(holdings, "growth")
    assert targets == {"CSPX": Decimal("0.75"), "STRIPS-2040": Decimal("0.15"), CASH_SYMBOL: Decimal("0.10")}
    assert warnings == [f"no cash holding: the cash target is kept as uninvested cash ({CASH_SYMBOL})"]


def test_profile_targets_when_class_holds_only_value_0_lines_then_split_equally():
    holdings = [Holding(symbol="CSPX", asset_class="stocks", value=90_000),
                Holding(symbol="AGG", asset_class="bonds", value=0), Holding(symbol="BND", asset_class="bonds", value=0),
                Holding(symbol="USD.CASH", asset_class="cash", value=10_000)]
    targets, warnings = profile_targets(holdings, "conservative")
    assert (targets["AGG"], targets["BND"], targets["CSPX"]) == (Decimal("0.30"), Decimal("0.30"), Decimal("0.25"))
    assert warnings == []


def test_profile_targets_when_value_0_line_beside_held_ones_then_target_0_and_warned():
    holdings = seed003() + [Holding(symbol="VWRA", asset_class="stocks", value=0)]
    targets, warnings = profile_targets(holdings, "balanced")
    assert targets["VWRA"] == 0 and targets["CSPX"] == Decimal("0.30")
    assert warnings == ["VWRA is worth 0 and its class holds other positions: its target is 0"]


@pytest.mark.parametrize("holdings, message", [
    ([], "no positions found: the holdings list is empty"),
    ([Holding(symbol="A", asset_class="stocks", value=0), Holding(symbol="C", asset_class="cash", value=0)],
     "no positions found: every holding has value 0"),
    ([Holding(symbol="A", asset_class="stocks", value=1), Holding(symbol="B", asset_class="stocks", value=2)],
     "all positions are in one asset class (stocks): a risk profile needs holdings in at least two of stocks, "
     "bonds and cash"),
    ([Holding(symbol="A", asset_class="stocks", value=1), Holding(symbol="A", asset_class="bonds", value=2)],
     "holding 'A' is listed twice: list each symbol once"),
])
def test_profile_targets_when_holdings_unusable_then_one_line_error(holdings, message):
    with pytest.raises(ConfigError) as err:
        profile_targets(holdings, "balanced")
    assert str(err.value) == message


@pytest.mark.parametrize("fields, fragment", [
    ({"value": -1}, "greater than or equal to 0"),
    ({"asset_class": "gold"}, "'stocks', 'bonds' or 'cash'"),
    ({"cost_basis": 100}, "cost_basis and acquired go together"),
    ({"quantity": 10, "price": 7}, "value 100 is not quantity 10 x price 7 = 70"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
])
def test_holding_when_field_invalid_then_validation_error_names_it(fields, fragment):
    with pytest.raises(ValidationError) as err:
        Holding(**{"symbol": "X", "asset_class": "stocks", "value": 100, **fields})
    assert fragment in str(err.value)


def test_holding_when_whole_shares_not_given_then_true_for_stocks_and_bonds_false_for_cash():
    assert [Holding(symbol="X", asset_class=c, value=1).whole_shares for c in ("stocks", "bonds", "cash")] == [
        True, True, False]
    assert Holding(symbol="X", asset_class="stocks", value=1, whole_shares=False).whole_shares is False
    assert Holding(symbol="X", asset_class="stocks", value=300, quantity=4).unit_price == 75


holding_sets = st.lists(
    st.tuples(st.sampled_from(list(AssetClass)), st.decimals(min_value=0, max_value=10**9, places=2)),
    min_size=2, max_size=12,
).filter(lambda hs: len({c for c, _ in hs}) >= 2 and any(v > 0 for _, v in hs))


@settings(max_examples=300, deadline=None)
@given(holding_sets, st.sampled_from(sorted(PROFILES)))
def test_profile_targets_when_random_holdings_then_sum_exactly_1_non_negative_and_classes_exact(rows, name):
    holdings = [Holding(symbol=f"S{i}", asset_class=c, value=v) for i, (c, v) in enumerate(rows)]
    allocation = allocate(holdings, name)
    assert sum(allocation.targets.values()) == 1
    assert all(t >= 0 and t == t.quantize(Decimal("0.0001")) for t in allocation.targets.values())
    for c, target in allocation.class_targets.items():
        assert sum(allocation.targets[h.symbol] for h in allocation.holdings if h.asset_class is c) == target
