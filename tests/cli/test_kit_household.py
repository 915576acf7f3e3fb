"""``kit rebalance ... --household FILE``: the shipped two-person household (a paper backtest on
real data) in every command, human and --json, and --household with --config refused."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_kit import KIT, ROOT, SAMPLE, kit

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")
HOUSEHOLD = ROOT / "src/data/portfolios/household_sample.json"
ACCOUNTS = {"alex_taxable", "sam_taxable", "alex_ira", "sam_ira", "alex_roth"}


def test_status_when_household_then_each_account_and_weights_vs_targets(tmp_path):
    human = kit("status", "--household", str(HOUSEHOLD), data=tmp_path)
    assert human.returncode == 0, human.stderr
    assert "Two Person Household (household routing) at 2022-12-28" in human.stdout
    assert "alex_roth        roth_ira        owner alex" in human.stdout and "paper backtest" in human.stdout
    view = json.loads(kit("status", "--household", str(HOUSEHOLD), "--json", data=tmp_path).stdout)
    assert {a["id"] for a in view["accounts"]} == ACCOUNTS
    assert view["value"] == pytest.approx(sum(a["value"] for a in view["accounts"]))
    assert sum(w["weight"] for w in view["weights"]) + view["cash"] / view["value"] == pytest.approx(1.0)
    assert {w["unit"] for w in view["weights"]} == {"AAPL", "JNJ", "XOM", "KO", "momentum_strategy",
                                                    "low_vol_strategy"}
    assert view["max_abs_drift"] == pytest.approx(max(abs(w["drift"]) for w in view["weights"]))
    for account in view["accounts"]:
        assert account["value"] == pytest.approx(account["cash"] + sum(h["value"] for h in account["holdings"]))


def test_preview_when_household_then_last_plan_with_accounts_reasons_and_skips(tmp_path):
    human = kit("preview", "--household", str(HOUSEHOLD), data=tmp_path)
    assert human.returncode == 0 and "the router's last plan, 2022-10-03" in human.stdout
    assert "skipped low_vol_strategy" in human.stdout
    plan = json.loads(kit("preview", "--household", str(HOUSEHOLD), "--json", data=tmp_path).stdout)
    assert plan["day"] == "2022-10-03" and plan["as_of"] == "2022-12-28"
    assert plan["trades"] and all(t["account"] in ACCOUNTS and t["reason"] for t in plan["trades"])
    assert "wash_sale_decisions" in plan and plan["skipped"]


def test_execute_then_history_when_household_then_plan_files_written_and_listed(tmp_path):
    assert kit("history", "--household", str(HOUSEHOLD), data=tmp_path).stdout.strip() == "no events"
    empty = kit("history", "--household", str(HOUSEHOLD), "--json", data=tmp_path)
    assert empty.returncode == 1 and json.loads(empty.stdout) == {"plans": []}
    refused = kit("execute", "--household", str(HOUSEHOLD), data=tmp_path)
    assert refused.returncode == 1 and "no confirmation" in refused.stderr
    assert not list(tmp_path.glob("household_*.json"))
    done = kit("execute", "--household", str(HOUSEHOLD), "--yes", data=tmp_path)
    assert done.returncode == 0 and "52 household plan(s) written" in done.stdout
    assert "paper backtest" in done.stdout and len(list(tmp_path.glob("household_two_person_household_*.json"))) == 52
    result = json.loads(kit("execute", "--household", str(HOUSEHOLD), "--yes", "--json", data=tmp_path).stdout)
    assert result["plans_written"] == 52 and result["end"] == "2022-12-28"
    listed = json.loads(kit("history", "--household", str(HOUSEHOLD), "--json", "--limit", "3", data=tmp_path).stdout)
    assert [p["day"] for p in listed["plans"]] == ["2022-02-01", "2022-06-01", "2022-10-03"]
    human = kit("history", "--household", str(HOUSEHOLD), "--since", "2022-01-01", data=tmp_path)
    assert human.returncode == 0 and "household_two_person_household_20221003.json" in human.stdout


def test_harvest_when_household_then_refused_exit_1(tmp_path):
    out = kit("harvest", "--household", str(HOUSEHOLD), "--json", data=tmp_path)
    assert out.returncode == 1 and "households harvest inside the backtest's router" in out.stderr
    assert out.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["status", "preview", "history", "execute", "harvest"])
def test_household_when_config_given_too_then_one_line_exit_2(tmp_path, command):
    out = kit(command, "--household", str(HOUSEHOLD), "--config", str(SAMPLE), data=tmp_path)
    assert out.returncode == 2 and "cannot be used together" in out.stderr and out.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())
