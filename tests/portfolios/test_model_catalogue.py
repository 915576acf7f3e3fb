"""Model portfolios: the built-ins' weights and proxies, the gold substitution, user-defined files."""

from __future__ import annotations

import copy
import json

import pytest

from src.errors import ConfigError
from src.portfolios import ModelPortfolio, builtin_models, get_model, load_model_file, model_catalogue
from src.utils.market_data import available_symbols

USER_MODEL = {
    "name": "golden_butterfly",
    "title": "Golden Butterfly",
    "description": "Five equal parts: total market, small-cap value, long and short Treasuries, gold.",
    "source": "Portfolio Charts (portfoliocharts.com), the Golden Butterfly",
    "holdings": {"VTI": 0.2, "VBR": 0.2, "TLT": 0.2, "SHY": 0.2, "GLD": 0.2},
    "proxies": {"VTI": "SPY", "VBR": "SPY", "TLT": "UST10Y", "SHY": "UST3M"},
    "substitutions": [{"ticker": "GLD", "reason": "no gold price is shipped", "moved_to": "UST3M"}],
}

PROFILE_MODELS = ["profile_balanced", "profile_growth", "profile_conservative", "profile_income"]


def write_models(tmp_path, *models, name="mine.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"models": list(models)}))
    return path


@pytest.mark.parametrize("name, holdings, proxies", [
    ("all_weather", {"VTI": 0.30, "TLT": 0.40, "IEF": 0.15, "GLD": 0.075, "DBC": 0.075},
     {"VTI": "SPY", "TLT": "UST10Y", "IEF": "UST5Y", "DBC": "WTI"}),
    ("sixty_forty", {"VTI": 0.60, "BND": 0.40}, {"VTI": "SPY", "BND": "UST10Y"}),
    ("permanent", {"VTI": 0.25, "TLT": 0.25, "GLD": 0.25, "BIL": 0.25}, {"VTI": "SPY", "TLT": "UST10Y", "BIL": "UST3M"}),
    ("risk_parity", {"VTI": 0.25, "TLT": 0.25, "DBC": 0.25, "GLD": 0.25}, {"VTI": "SPY", "TLT": "UST10Y", "DBC": "WTI"}),
])
def test_builtin_when_listed_then_published_weights_and_shipped_proxies(name, holdings, proxies):
    model = builtin_models()[name]
    assert model.holdings == holdings and model.proxies == proxies
    assert set(model.proxies.values()) <= set(available_symbols())
    assert set(model.proxy_notes) == set(model.proxies)  # every proxy says how it differs from its fund
    assert model.source and model.description


@pytest.mark.parametrize("name, targets", [
    ("all_weather", {"SPY": 0.30 / 0.925, "UST10Y": 0.40 / 0.925, "UST5Y": 0.15 / 0.925, "WTI": 0.075 / 0.925}),
    ("sixty_forty", {"SPY": 0.6, "UST10Y": 0.4}),
    ("permanent", {"SPY": 1 / 3, "UST10Y": 1 / 3, "UST3M": 1 / 3}),
    ("risk_parity", {"SPY": 1 / 3, "UST10Y": 1 / 3, "WTI": 1 / 3}),
])
def test_proxy_targets_when_gold_missing_then_its_weight_spread_pro_rata(name, targets):
    got = builtin_models()[name].proxy_targets()
    assert got == pytest.approx(targets, rel=1e-12) and sum(got.values()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", ["all_weather", "permanent", "risk_parity"])
def test_builtin_when_gold_held_then_substitution_recorded_and_no_gold_unit(name):
    model = builtin_models()[name]
    (sub,) = model.substitutions
    assert sub.ticker == "GLD" and sub.moved_to is None and "no gold price is shipped" in sub.reason
    assert "GLD" not in model.proxies and not {"GLD", "GOLD", "XAU"} & set(available_symbols())


def test_builtin_when_risk_parity_then_weighted_by_equal_risk_and_the_others_static():
    weightings = {name: m.weighting for name, m in builtin_models().items()}
    assert weightings == {"all_weather": "static", "sixty_forty": "static", "permanent": "static",
                          "risk_parity": "equal_risk", **{name: "static" for name in PROFILE_MODELS}}


def test_load_model_file_when_valid_then_user_model_in_catalogue(tmp_path):
    path = write_models(tmp_path, USER_MODEL)
    (model,) = load_model_file(path)
    assert model.proxy_targets() == pytest.approx({"SPY": 0.4, "UST10Y": 0.2, "UST3M": 0.4})  # gold into bills
    catalogue = model_catalogue([path], models_dir=None)
    assert list(catalogue) == ["all_weather", "sixty_forty", "permanent", "risk_parity", *PROFILE_MODELS,
                               "golden_butterfly"]
    assert get_model("golden_butterfly", catalogue) == model


def test_model_catalogue_when_models_dir_has_files_then_read_in_name_order(tmp_path):
    second = {**USER_MODEL, "name": "b_model"}
    write_models(tmp_path, second, name="b.json")
    write_models(tmp_path, USER_MODEL, name="a.json")
    assert list(model_catalogue(models_dir=tmp_path))[8:] == ["golden_butterfly", "b_model"]
    assert list(model_catalogue(models_dir=tmp_path / "absent")) == list(builtin_models())


def test_load_model_file_when_weights_given_to_12_digits_then_accepted(tmp_path):
    thirds = {**USER_MODEL, "holdings": {"VTI": 0.333333333333, "TLT": 0.333333333333, "BIL": 0.333333333334},
              "proxies": {"VTI": "SPY", "TLT": "UST10Y", "BIL": "UST3M"}, "substitutions": []}
    (model,) = load_model_file(write_models(tmp_path, thirds))
    assert sum(model.proxy_targets().values()) == pytest.approx(1.0, abs=1e-9)


def _broken(**changes):
    model = copy.deepcopy(USER_MODEL)
    model.update(changes)
    return model


@pytest.mark.parametrize("model, fragment", [
    (_broken(holdings={"VTI": 0.5, "VBR": 0.2, "TLT": 0.2, "SHY": 0.2, "GLD": 0.2}),
     "models.0.holdings: holdings sum to 1.3, not 1 (within 1e-09)"),
    (_broken(holdings={"VTI": 0.2, "VBR": 0.2, "TLT": 0.2, "SHY": 0.2, "GLD": 0.2000001}),
     "holdings sum to 1.0000001, not 1"),
    (_broken(holdings={"VTI": 0.4, "VBR": 0.2, "TLT": 0.2, "SHY": 0.2, "GLD": 0.0}),
     "holdings['GLD']=0.0 must be a positive weight"),
    (_broken(holdings={"": 0.2, "VBR": 0.2, "TLT": 0.2, "SHY": 0.2, "GLD": 0.2}), "holdings has a blank ticker ''"),
    (_broken(holdings={}), "holdings={} is empty"),
    (_broken(proxies={"VTI": "VTI", "VBR": "SPY", "TLT": "UST10Y", "SHY": "UST3M"}),
     "models.0.proxies: proxies['VTI']='VTI' is not a shipped unit"),
    (_broken(proxies={"VTI": "SPY", "VBR": "SPY", "TLT": "UST10Y"}),
     "holdings['SHY'] has neither a proxy nor a substitution: give it exactly one"),
    (_broken(proxies={"VTI": "SPY", "VBR": "SPY", "TLT": "UST10Y", "SHY": "UST3M", "GLD": "WTI"}),
     "holdings['GLD'] has both a proxy and a substitution"),
    (_broken(proxies={"VTI": "SPY", "VBR": "SPY", "TLT": "UST10Y", "SHY": "UST3M", "QQQ": "SPY"}),
     "proxies: ticker 'QQQ' is not in holdings"),
    (_broken(substitutions=[{"ticker": "GLD", "reason": "none", "moved_to": "GOLD"}]),
     "substitutions['GLD'].moved_to='GOLD' is not a shipped unit"),
    (_broken(substitutions=[{"ticker": "GLD", "reason": ""}]), "models.0.substitutions.0.reason: String should have"),
    (_broken(name="Golden Butterfly"), "name='Golden Butterfly' must be lower-case letters, digits and '_'"),
    (_broken(weighting="equal_risk"), "an equal_risk model leaves a missing holding out of the risk budget"),
    (_broken(colour="gold"), "models.0.colour: Extra inputs are not permitted"),
])
def test_load_model_file_when_invalid_then_one_line_error_names_field_and_value(tmp_path, model, fragment):
    path = write_models(tmp_path, model)
    with pytest.raises(ConfigError) as caught:
        load_model_file(path)
    message = str(caught.value)
    assert fragment in message and message.startswith(f"models file {path}: ") and "\n" not in message


@pytest.mark.parametrize("text, fragment", [
    ("{oops", "is not valid JSON: Expecting property name"),
    ('{"models": []}', "models: List should have at least 1 item"),
    ("[1]", "Input should be a valid dictionary"),
])
def test_load_model_file_when_not_a_models_file_then_one_line_error(tmp_path, text, fragment):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="models file .*m.json") as caught:
        load_model_file(path)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_load_model_file_when_missing_then_error_names_path(tmp_path):
    with pytest.raises(ConfigError, match=r"models file .*nope.json does not exist"):
        load_model_file(tmp_path / "nope.json")


def test_model_catalogue_when_user_model_reuses_a_builtin_name_then_error(tmp_path):
    path = write_models(tmp_path, {**USER_MODEL, "name": "permanent"})
    with pytest.raises(ConfigError, match=r"name='permanent' is already a model \(names must be unique\)"):
        model_catalogue([path], models_dir=None)


def test_get_model_when_unknown_then_error_lists_the_models():
    with pytest.raises(ConfigError, match=r"model='all_seasons' is not one of \['all_weather', 'permanent'"):
        get_model("all_seasons")


def test_model_portfolio_when_built_in_code_then_same_rules_as_files():
    with pytest.raises(ValueError, match="holdings sum to 0.9"):
        ModelPortfolio(name="x", title="X", description="d", source="s", holdings={"VTI": 0.9}, proxies={"VTI": "SPY"})
