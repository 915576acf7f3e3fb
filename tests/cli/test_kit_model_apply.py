"""``kit rebalance model NAME --apply --config FILE``: the model's demo targets become the file's
targets, JSON as JSON, YAML as YAML (with FILE.bak), or one line and the file untouched."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.cli.test_kit import KIT, ROOT, SAMPLE, kit

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")
SAMPLE_YAML = ROOT / "src/data/portfolios/sample_portfolio.yaml"
PERMANENT = {"SPY": 1 / 3, "UST10Y": 1 / 3, "UST3M": 1 / 3}


def test_model_apply_when_json_file_then_targets_replaced_as_json_and_changes_shown(tmp_path):
    config = tmp_path / "p.json"
    config.write_bytes(SAMPLE.read_bytes())
    out = kit("model", "permanent", "--apply", "--config", str(config))
    assert out.returncode == 0, out.stderr
    assert "JNJ                   15.00% ->       -" in out.stdout and "SPY                        - ->  33.33%" in out.stdout
    saved = json.loads(config.read_text())
    assert saved["portfolio"]["target_allocations"] == pytest.approx(PERMANENT)
    assert saved["portfolio"]["risk_limits"] == json.loads(SAMPLE.read_text())["portfolio"]["risk_limits"]
    assert not (tmp_path / "p.json.bak").exists()
    again = kit("model", "permanent", "--apply", "--config", str(config), "--json")
    assert again.returncode == 1 and json.loads(again.stdout)["changed"] is False
    assert kit("status", "--config", str(config), data=tmp_path / "d").returncode == 0  # loads and runs


def test_model_apply_when_yaml_file_then_yaml_written_backup_kept_and_comments_said_lost(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_bytes(SAMPLE_YAML.read_bytes())
    out = kit("model", "permanent", "--apply", "--config", str(config), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["format"] == "yaml" and "comments" in result["message"] and result["backup"].endswith("p.yaml.bak")
    assert {c["unit"]: c["new"] for c in result["changes"] if c["new"]} == pytest.approx(PERMANENT)
    assert (tmp_path / "p.yaml.bak").read_bytes() == SAMPLE_YAML.read_bytes()
    saved = yaml.safe_load(config.read_text())
    assert saved["portfolio"]["target_allocations"] == pytest.approx(PERMANENT)
    assert saved["portfolio"]["rebalancing_method"] == "threshold"


@pytest.mark.parametrize("name", ["p.json", "p.yaml"])
def test_model_apply_when_risk_limit_does_not_fit_then_one_line_exit_2_and_file_unchanged(tmp_path, name):
    config = tmp_path / name
    original = (SAMPLE if name.endswith("json") else SAMPLE_YAML).read_bytes()
    config.write_bytes(original)
    out = kit("model", "all_weather", "--apply", "--config", str(config))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "risk_limits.max_single_strategy=0.4" in out.stderr and "UST10Y" in out.stderr
    assert config.read_bytes() == original and not (tmp_path / f"{name}.bak").exists()


def test_model_apply_when_no_config_then_one_line_exit_2():
    out = kit("model", "permanent", "--apply")
    assert out.returncode == 2 and "--apply and --config FILE go together" in out.stderr
