"""The short keys (strategy, threshold, schedule, min_trade_size, exclude_assets, tax_loss_harvest,
wash_sale_window): the same models as the long fields; errors name the file, the line and the key;
a malformed-input sweep of the YAML loader never raises anything but a one-line ConfigError."""

from __future__ import annotations

import json
import string
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from src.errors import ConfigError
from src.utils.config_files import SAMPLE_PORTFOLIO_YAML, load_portfolio_file

HEAD = """\
portfolio:
  name: Seed
  target_allocations: {JNJ: 0.5, XOM: 0.5}
  risk_limits: {max_single_strategy: 1.0, min_single_strategy: 0.0}
"""


def _load(tmp_path, text: str, name: str = "seed.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_portfolio_file(path)


def _error(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_load_when_every_short_key_then_each_lands_in_its_field(tmp_path):
    loaded = _load(tmp_path, HEAD + "strategy: threshold\nthreshold: 0.04\nschedule: monthly\nmin_trade_size: 0.005\n"
                   "exclude_assets: [KO]\ntax_loss_harvest: true\nwash_sale_window: 31\n")
    p, r = loaded.portfolio, loaded.runtime
    assert p.rebalancing_method.value == "threshold" and p.rebalancing_params.min_drift == 0.04
    assert p.rebalancing_params.check_frequency.value == "monthly" and p.rebalancing_params.min_trade_size == 0.005
    assert p.exclude_assets == ["KO"] and r.tax_loss_harvest is True and r.tax.wash_sale_window == 31


@pytest.mark.parametrize("strategy, field", [("calendar", "frequency"), ("hybrid", "frequency"),
                                             ("risk_parity", "rebalance_frequency"), ("tactical", "check_frequency"),
                                             ("adaptive", "check_frequency"), ("cost_aware", "check_frequency")])
def test_load_when_schedule_then_the_methods_own_frequency_field(tmp_path, strategy, field):
    loaded = _load(tmp_path, HEAD + f"strategy: {strategy}\nschedule: quarterly\n")
    assert loaded.portfolio.rebalancing_method.value == strategy
    assert getattr(loaded.portfolio.rebalancing_params, field).value == "quarterly"


def test_load_when_short_and_long_keys_agree_then_accepted_and_when_not_then_both_named(tmp_path):
    same = HEAD.replace("portfolio:\n", "portfolio:\n  rebalancing_method: calendar\n") + "strategy: calendar\n"
    assert _load(tmp_path, same).portfolio.rebalancing_method.value == "calendar"
    message = _error(tmp_path, same.replace("strategy: calendar", "strategy: hybrid"))
    assert "line 6: strategy='hybrid' conflicts with portfolio.rebalancing_method='calendar'" in message


def test_load_when_threshold_for_a_method_without_band_then_refused_naming_it(tmp_path):
    message = _error(tmp_path, HEAD + "strategy: calendar\nthreshold: 0.05\n")
    assert "line 6: threshold=0.05 does not apply to strategy 'calendar'" in message


@pytest.mark.parametrize("line, fragment", [
    ("threshold: 2", "line 5: threshold: Input should be less than or equal to 1 (got 2)"),
    ("strategy: yolo", "line 5: strategy: Input should be 'threshold', 'calendar'"),
    ("schedule: hourly", "line 5: schedule: Input should be 'daily'"),
    ("min_trade_size: 250", "line 5: min_trade_size: Input should be less than 1 (got 250)"),
    ("wash_sale_window: -1", "line 5: wash_sale_window: Input should be greater than or equal to 0"),
    ("exclude_assets: KO", "line 5: exclude_assets: Input should be a valid list"),
    ("exclude_assets: [JNJ]", "line 5: exclude_assets (portfolio.exclude_assets)"),
])
def test_load_when_short_key_invalid_then_file_line_and_key(tmp_path, line, fragment):
    assert fragment in _error(tmp_path, HEAD + line + "\n")


def test_load_when_json_with_short_keys_then_same_as_yaml(tmp_path):
    data = yaml.safe_load(HEAD) | {"strategy": "hybrid", "threshold": 0.03, "exclude_assets": ["KO"]}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data))
    as_json = load_portfolio_file(path)
    as_yaml = _load(tmp_path, HEAD + "strategy: hybrid\nthreshold: 0.03\nexclude_assets: [KO]\n")
    assert as_json == as_yaml


def test_load_when_harvest_substitute_is_excluded_then_refused(tmp_path):
    message = _error(tmp_path, HEAD + "exclude_assets: [PG]\nruntime:\n  tax: {substitutes: {JNJ: PG}}\n")
    assert "runtime.tax.substitutes['JNJ']='PG' is in portfolio.exclude_assets" in message


# --- malformed-input sweep: whatever the file says, one line naming the file, never another exception ---

SHORT = ["strategy", "threshold", "schedule", "min_trade_size", "exclude_assets", "tax_loss_harvest", "wash_sale_window"]
LONG = ["portfolio", "runtime", "name", "target_allocations", "rebalancing_method", "rebalancing_params",
        "risk_limits", "min_drift", "replay_start", "tax", "substitutes"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(string.printable, max_size=12), st.sampled_from(["monthly", "threshold", "1e309", "~", "KO"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from(LONG + SHORT), inner, max_size=3)),
                      max_leaves=8)


def _one_line_error_or_loaded(tmp_path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_portfolio_file(path)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and f"config file {path}" in message and "Traceback" not in message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(st.sampled_from(SHORT + ["portfolio", "runtime"]), values, min_size=1, max_size=4))
def test_load_when_generated_documents_then_only_one_line_config_errors(tmp_path, extra):
    base = yaml.safe_load(HEAD)
    _one_line_error_or_loaded(tmp_path, yaml.safe_dump(base | extra, allow_unicode=True))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 2000), junk=st.text(max_size=8))
def test_load_when_sample_yaml_cut_or_spliced_then_only_one_line_config_errors(tmp_path, cut, junk):
    text = SAMPLE_PORTFOLIO_YAML.read_text(encoding="utf-8")
    cut %= len(text)
    _one_line_error_or_loaded(tmp_path, text[:cut] + junk + text[cut:])


def test_load_when_shipped_short_key_sample_then_equal_to_sample_json():
    from src.utils.config_files import SAMPLE_PORTFOLIO

    assert load_portfolio_file(SAMPLE_PORTFOLIO.with_name("sample_portfolio_short.yaml")) == \
        load_portfolio_file(SAMPLE_PORTFOLIO)
