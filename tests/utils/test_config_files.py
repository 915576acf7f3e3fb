"""Portfolio files: the shipped sample loads; broken files fail in one line."""

from __future__ import annotations

import pytest

from src.errors import ConfigError
from src.utils.config_files import SAMPLE_PORTFOLIO, PortfolioFile, load_portfolio_file, save_portfolio_file
from tests.conftest import guide_config


def test_load_when_sample_then_valid():
    loaded = load_portfolio_file(SAMPLE_PORTFOLIO)
    assert loaded.portfolio.rebalancing_method.value == "threshold" and loaded.runtime.initial_cash > 0


def test_save_then_load_when_round_trip_then_equal(tmp_path):
    original = PortfolioFile(portfolio=guide_config())
    save_portfolio_file(tmp_path / "p.json", original)
    assert load_portfolio_file(tmp_path / "p.json") == original


@pytest.mark.parametrize("text, fragment", [
    ('{"portfolio": ', "is not valid JSON: Expecting value at line 1"),
    ('{"portfolio": {"name": "x", "target_allocations": {"a": 0.5}}}', "portfolio.target_allocations"),
    ('{"portfolio": {"name": "x", "target_allocations": {"a": 0.4, "b": 0.3, "c": 0.3}}, "runtime": {"initial_cash": -1}}',
     "runtime.initial_cash"),
    ('{"portfolio": {"name": "x", "target_allocations": {"a": 0.4, "b": 0.3, "c": 0.3}}, "extra": 1}', "extra"),
])
def test_load_when_broken_then_one_line_error_naming_field(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_portfolio_file(path)
    assert fragment in str(info.value) and "\n" not in str(info.value) and "bad.json" in str(info.value)


def test_load_when_field_misspelt_then_unknown_key_first_and_its_value_not_echoed(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"portfolio": {"name": "x", "target_alocations": {%s}}}'
                    % ", ".join(f'"U{i}": 0.01' for i in range(100)))
    with pytest.raises(ConfigError) as info:
        load_portfolio_file(path)
    text = str(info.value)
    assert text.index("target_alocations: Extra inputs are not permitted") < text.index("target_allocations: Field required")
    assert len(text) < 300 and "U99" not in text


def test_load_when_unknown_key_holds_a_secret_then_value_never_in_message(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"portfolio": {"name": "x", "target_allocations": {"KO": 0.5, "PG": 0.5}, '
                    '"risk_limits": {"max_single_strategy": 0.5}}, "runtime": {"api_key": "SECRET123"}}')
    with pytest.raises(ConfigError) as info:
        load_portfolio_file(path)
    assert "runtime.api_key" in str(info.value) and "SECRET123" not in str(info.value)


def test_long_value_when_reported_then_cut_short():
    from pydantic import ValidationError

    from src.errors import one_line_error
    from src.models.trading_models import FeeModel

    with pytest.raises(ValidationError) as info:
        FeeModel(bps="x" * 500)
    text = one_line_error(info.value)
    assert "..." in text and len(text) < 200


def test_load_when_path_is_a_folder_then_says_so(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a portfolio file"):
        load_portfolio_file(tmp_path)


def test_load_when_missing_then_error():
    with pytest.raises(ConfigError, match="does not exist"):
        load_portfolio_file(SAMPLE_PORTFOLIO.with_name("nope.json"))


def test_load_when_runtime_has_tax_settings_then_typed(tmp_path):
    path = tmp_path / "taxed.json"
    path.write_text('{"portfolio": {"name": "x", "target_allocations": {"KO": 0.4, "PEP": 0.3, "JNJ": 0.3}}, '
                    '"runtime": {"tax_loss_harvest": true, "account_type": "taxable", "tax": {"short_term_rate": 0.35, '
                    '"long_term_rate": 0.15, "lot_method": "min_tax", "substitutes": {"KO": "PG", "PEP": "WMT"}, '
                    '"identical": [["SPY", "IVV"]], "annual_gain_budget": 10000}}}')
    loaded = load_portfolio_file(path)
    assert loaded.runtime.tax.substitutes == {"KO": "PG", "PEP": "WMT"} and loaded.runtime.tax_loss_harvest


def test_load_when_substitute_is_identical_then_error_names_it(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"portfolio": {"name": "x", "target_allocations": {"KO": 0.4, "PEP": 0.3, "JNJ": 0.3}}, '
                    '"runtime": {"tax": {"identical": [["SPY", "IVV"]], "substitutes": {"SPY": "IVV"}}}}')
    with pytest.raises(ConfigError, match=r"substitutes\['SPY'\]='IVV' is substantially identical"):
        load_portfolio_file(path)
