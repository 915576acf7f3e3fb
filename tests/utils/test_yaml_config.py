"""YAML portfolio files: the same models as JSON; every error names the file, the line and the key."""

from __future__ import annotations

import textwrap

import pytest

import main as main_module
from src.errors import ConfigError
from src.utils.config_files import (SAMPLE_PORTFOLIO, SAMPLE_PORTFOLIO_YAML, PortfolioFile, load_portfolio_file,
                                    save_portfolio_file)
from tests.conftest import guide_config

GOOD = """\
portfolio:
  name: x
  target_allocations:
    KO: 0.5
    PG: 0.5
  risk_limits:
    max_single_strategy: 0.5
"""


def _error(tmp_path, text: str, name: str = "bad.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_portfolio_file(path)
    message = str(info.value)
    assert "\n" not in message and f"config file {path}" in message
    return message


def test_load_when_sample_yaml_then_equal_to_sample_json():
    assert load_portfolio_file(SAMPLE_PORTFOLIO_YAML) == load_portfolio_file(SAMPLE_PORTFOLIO)


@pytest.mark.parametrize("suffix", [".yml", ".YAML"])
def test_load_when_other_yaml_suffix_then_read_as_yaml(tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    path.write_text(GOOD)
    assert load_portfolio_file(path).portfolio.target_allocations == {"KO": 0.5, "PG": 0.5}


def test_load_when_value_has_wrong_type_then_file_line_key_and_value(tmp_path):
    message = _error(tmp_path, GOOD.replace("PG: 0.5", "PG: abc"))
    assert message.startswith(f"config file {tmp_path / 'bad.yaml'} line 5: portfolio.target_allocations.PG: "
                              "Input should be a valid number")
    assert message.endswith("(got 'abc')")


def test_load_when_two_fields_wrong_then_each_with_its_line(tmp_path):
    message = _error(tmp_path, GOOD + "runtime:\n  initial_cash: -5\n  interval_minutes: soon\n")
    assert "line 9: runtime.initial_cash: Input should be greater than 0 (got -5)" in message
    assert "; line 10: runtime.interval_minutes: " in message


def test_load_when_field_missing_then_line_of_its_parent(tmp_path):
    message = _error(tmp_path, "runtime: {}\nportfolio:\n  name: x\n")
    assert "line 2: portfolio.target_allocations: Field required" in message


def test_load_when_unknown_key_holds_a_secret_then_line_named_and_value_never_echoed(tmp_path):
    message = _error(tmp_path, GOOD + "runtime:\n  api_key: SECRET123\n")
    assert "line 9: runtime.api_key: Extra inputs are not permitted" in message and "SECRET123" not in message


def test_load_when_syntax_error_then_file_and_line(tmp_path):
    message = _error(tmp_path, "portfolio:\n  name: [x\n  other: 1\n")
    assert " line 3 column " in message and "not valid YAML: expected ',' or ']'" in message


def test_load_when_tab_indentation_then_file_and_line(tmp_path):
    assert " line 2 column 1: not valid YAML: " in _error(tmp_path, "portfolio:\n\tname: x\n")


def test_load_when_control_character_then_file_and_line(tmp_path):
    assert "line 2: not valid YAML: character U+0001 is not allowed" in _error(tmp_path, 'portfolio:\n  name: "\x01"\n')


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!include", "!!set", "!!binary"])
def test_load_when_custom_tag_then_refused_with_line(tmp_path, tag):
    message = _error(tmp_path, GOOD.replace("name: x", f"name: {tag} x"))
    assert "line 2: tag " in message and "is not allowed in a portfolio file" in message


def test_load_when_key_written_twice_then_both_lines_named(tmp_path):
    message = _error(tmp_path, GOOD + "  name: y\n")
    assert message.endswith("line 8: key 'portfolio.name' written twice (lines 2 and 8)")


def test_load_when_unit_written_twice_then_both_lines_named(tmp_path):
    message = _error(tmp_path, GOOD.replace("    PG: 0.5", "    PG: 0.25\n    PG: 0.25"))
    assert "line 6: key 'portfolio.target_allocations.PG' written twice (lines 5 and 6)" in message


def test_load_when_anchors_and_merge_keys_then_accepted(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent("""\
        portfolio:
          name: x
          target_allocations: &weights {KO: 0.5, PG: 0.5}
          risk_limits: &limits
            max_single_strategy: 0.5
          rebalancing_params:
            <<: {min_drift: 0.04, check_frequency: weekly}
            min_drift: 0.03
        """))
    loaded = load_portfolio_file(path).portfolio
    assert loaded.rebalancing_params["min_drift"] == 0.03 and loaded.rebalancing_params["check_frequency"] == "weekly"


def test_load_when_bad_value_comes_from_a_merge_then_line_of_the_merged_key(tmp_path):
    message = _error(tmp_path, GOOD + "runtime:\n  <<: {initial_cash: -1}\n  slippage_bps: 5\n")
    assert "line 9: runtime.initial_cash: Input should be greater than 0" in message


def test_load_when_alias_bomb_then_refused(tmp_path):
    rows = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    assert "expands to more than 100000 values (aliases?)" in _error(tmp_path, "\n".join(rows) + "\n")


def test_load_when_unit_named_like_a_yaml_bool_then_kept_as_text(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("KO:", "ON:").replace("PG:", "NO:"))
    assert load_portfolio_file(path).portfolio.target_allocations == {"ON": 0.5, "NO": 0.5}


@pytest.mark.parametrize("text, fragment", [
    ("", "is empty (no YAML document)"),
    ("- a\n- b\n", "line 1: Input should be a valid dictionary"),
    ("portfolio:\n  name: x\n---\nportfolio: {}\n", "line 3 column 1: not valid YAML: expected a single document"),
])
def test_load_when_not_one_mapping_then_one_line_error(tmp_path, text, fragment):
    assert fragment in _error(tmp_path, text)


def test_load_when_json_file_then_unchanged(tmp_path):
    original = PortfolioFile(portfolio=guide_config())
    save_portfolio_file(tmp_path / "p.json", original)
    assert load_portfolio_file(tmp_path / "p.json") == original
    (tmp_path / "bad.json").write_text('{"portfolio": ')
    with pytest.raises(ConfigError, match="bad.json is not valid JSON: Expecting value at line 1"):
        load_portfolio_file(tmp_path / "bad.json")


def test_main_when_yaml_config_broken_then_exit_2_one_line_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("PG: 0.5", "PG: abc"))
    assert main_module.main(["--replay", "--config", str(bad), "--data-dir", str(tmp_path / "d"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "bad.yaml line 5: portfolio.target_allocations.PG" in err
    assert not (tmp_path / "d").exists()


def test_load_when_date_does_not_exist_then_file_line_field_and_value(tmp_path):
    message = _error(tmp_path, GOOD + "runtime:\n  replay_start: 2015-02-30\n")
    assert message == (f"config file {tmp_path / 'bad.yaml'} line 9: runtime.replay_start: Input should be a valid "
                       "date or datetime, day value is outside expected range (got '2015-02-30')")


def test_load_when_plain_or_tagged_date_then_same_day(tmp_path):
    days = []
    for value in ("2015-02-27", "'2015-02-27'", "!!timestamp 2015-02-27"):
        path = tmp_path / "p.yaml"
        path.write_text(GOOD + f"runtime:\n  replay_start: {value}\n")
        days.append(load_portfolio_file(path).runtime.replay_start)
    assert days[0] == days[1] == days[2] and str(days[0]) == "2015-02-27"


@pytest.mark.parametrize("value, fragment", [
    ("!!timestamp 2015-02-30", "line 9 column 17: not valid YAML: '2015-02-30' is not a valid !!timestamp: "
                               "day is out of range for month"),
    ("!!timestamp soon", "line 9 column 17: not valid YAML: 'soon' is not a valid !!timestamp"),
    ("!!int abc", "line 9 column 17: not valid YAML: 'abc' is not a valid !!int"),
    ("!!bool maybe", "line 9 column 17: not valid YAML: 'maybe' is not a valid !!bool"),
])
def test_load_when_tagged_value_cannot_be_made_then_file_and_line(tmp_path, value, fragment):
    assert fragment in _error(tmp_path, GOOD + f"runtime:\n  replay_start: {value}\n")


def test_kit_when_yaml_date_does_not_exist_then_one_line_naming_file_line_and_field(tmp_path):
    from tests.cli.test_kit import KIT, kit

    if not KIT.exists():
        pytest.skip("kit is installed by the Makefile's set-up (pip install -e .)")
    path = tmp_path / "p.yaml"
    path.write_text(GOOD + "runtime:\n  replay_start: 2015-02-30\n")
    out = kit("status", "--config", str(path), data=tmp_path / "d")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert f"{path} line 9: runtime.replay_start: " in out.stderr and "(got '2015-02-30')" in out.stderr
