"""The seed-003 risk profiles offered as model portfolios (builder and follow_model), by name or alias."""

from __future__ import annotations

import json

import pytest

from src.errors import ConfigError
from src.portfolios import follow_model, model_catalogue
from src.portfolios.model_catalogue import get_model


@pytest.mark.parametrize("name, targets", [
    ("profile_balanced", {"SPY": 0.5, "UST10Y": 0.4, "UST3M": 0.1}),
    ("profile_growth", {"SPY": 0.75, "UST10Y": 0.15, "UST3M": 0.1}),
    ("profile_conservative", {"SPY": 0.25, "UST10Y": 0.6, "UST3M": 0.15}),
    ("profile_income", {"SPY": 0.4, "UST10Y": 0.5, "UST3M": 0.1}),
])
def test_catalogue_when_profiles_then_stocks_bonds_cash_on_their_proxies(name, targets):
    assert model_catalogue()[name].proxy_targets() == pytest.approx(targets)


@pytest.mark.parametrize("text, name", [("growth", "profile_growth"), ("Aggressive", "profile_growth"),
                                        ("retirement income", "profile_income"), ("all_weather", "all_weather")])
def test_get_model_when_profile_name_or_alias_then_its_model(text, name):
    assert get_model(text).name == name


def test_get_model_when_unknown_then_one_line_listing_models_and_profile_hint():
    with pytest.raises(ConfigError, match="model='nope' is not one of .* \\(or a risk profile such as 'growth'"):
        get_model("nope")


def test_builder_when_model_is_a_profile_alias_then_portfolio_file_on_its_targets(tmp_path):
    from src.utils.portfolio_builder import main as builder_main

    out = tmp_path / "p.json"
    assert builder_main(["--model", "moderate", "--name", "Mine", "--output", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["portfolio"]["target_allocations"] == pytest.approx({"SPY": 0.5, "UST10Y": 0.4, "UST3M": 0.1})
    assert follow_model("moderate", portfolio_name="X").portfolio.target_allocations == \
        saved["portfolio"]["target_allocations"]
