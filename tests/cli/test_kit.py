"""The installed ``kit`` command in a subprocess: every subcommand, human and --json, and the
refusal paths (stale plan id, no confirmation, bad YAML, unknown model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"
SAMPLE = ROOT / "src/data/portfolios/sample_portfolio.json"
HOLDINGS = ROOT / "src/data/portfolios/seed003_holdings.json"

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")


def kit(*args: str, data: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    extra = ["--data-dir", str(data)] if data is not None else []
    return subprocess.run([str(KIT), "rebalance", *args, *extra], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, timeout=180)


def test_kit_status_when_new_account_then_positions_and_no_event(tmp_path):
    human = kit("status", "--config", str(SAMPLE), data=tmp_path)
    assert human.returncode == 0 and "last event: none" in human.stdout and "drift" in human.stdout
    machine = json.loads(kit("status", "--config", str(SAMPLE), "--json", data=tmp_path).stdout)
    assert machine["last_event"] is None and {p["unit"] for p in machine["positions"]} >= {"JNJ", "XOM"}


def test_kit_preview_then_execute_when_plan_id_matches_then_executed_and_history_shows_it(tmp_path):
    plan = json.loads(kit("preview", "--config", str(SAMPLE), "--json", data=tmp_path).stdout)
    assert plan["status"] == "orders" and plan["orders"] and len(plan["plan_id"]) == 16
    stale = kit("execute", "--config", str(SAMPLE), "--plan-id", "0000000000000000", "--yes", data=tmp_path)
    assert stale.returncode == 1 and "is stale" in stale.stderr and stale.stderr.count("\n") == 1
    unconfirmed = kit("execute", "--config", str(SAMPLE), "--plan-id", plan["plan_id"], data=tmp_path)
    assert unconfirmed.returncode == 1 and "no confirmation" in unconfirmed.stderr
    assert not list(tmp_path.glob("rebalance_*.json"))  # refused: nothing sent, nothing written
    done = kit("execute", "--config", str(SAMPLE), "--plan-id", plan["plan_id"], "--yes", "--json", data=tmp_path)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)["event"]
    assert event["event_id"] == plan["plan_id"] and [o["client_order_id"] for o in event["orders"]] == \
        [o["client_order_id"] for o in plan["orders"]]
    history = json.loads(kit("history", "--config", str(SAMPLE), "--json", data=tmp_path).stdout)
    assert [e["event_id"] for e in history["events"]] == [plan["plan_id"]]
    assert "orders" in kit("history", "--config", str(SAMPLE), data=tmp_path).stdout


def test_kit_model_when_known_or_profile_alias_then_shown_and_unknown_then_exit_2():
    shown = json.loads(kit("model", "all_weather", "--json").stdout)
    assert shown["demo_targets"]["SPY"] == pytest.approx(0.3243, abs=1e-4)
    assert "Growth risk profile" in kit("model", "aggressive").stdout
    unknown = kit("model", "gold_bugs")
    assert unknown.returncode == 2 and "model='gold_bugs' is not one of" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_kit_profile_when_growth_then_trade_list_in_text_and_json_and_unknown_profile_exit_2():
    out = kit("profile", "growth", "--holdings", str(HOLDINGS))
    assert out.returncode == 0 and "SELL  STRIPS-2040  25,000.00" in out.stdout
    report = json.loads(kit("profile", "growth", "--holdings", str(HOLDINGS), "--json").stdout)
    assert [(t["side"], t["symbol"], t["amount"]) for t in report["trades"]] == [
        ("sell", "STRIPS-2040", "25000.00"), ("buy", "CSPX", "15000.00"), ("buy", "INDA", "10000.00")]
    unknown = kit("profile", "growthy", "--holdings", str(HOLDINGS), "--json")
    assert unknown.returncode == 2 and "unknown risk profile 'growthy'" in unknown.stderr and unknown.stdout == ""


def test_kit_when_bad_yaml_config_then_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("portfolio:\n  name: x\n  target_allocations: [1, 2\n")
    out = kit("status", "--config", str(bad), data=tmp_path / "d")
    assert out.returncode == 2 and "not valid YAML" in out.stderr and out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr


def test_kit_harvest_when_tax_off_then_refused_and_when_on_then_candidates_json(tmp_path):
    off = kit("harvest", "--config", str(SAMPLE), data=tmp_path / "a")
    assert off.returncode == 1 and "tax tracking is off" in off.stderr
    crash = {"portfolio": {"name": "Harvest Me", "target_allocations": {"KO": 0.35, "PEP": 0.35, "JNJ": 0.3},
                           "rebalancing_method": "calendar",
                           "risk_limits": {"max_single_strategy": 1.0, "min_single_strategy": 0.0}},
             "runtime": {"replay_start": "2020-02-03", "replay_end": "2020-03-16",
                         "tax": {"substitutes": {"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}}}}
    config = tmp_path / "h.json"
    config.write_text(json.dumps(crash))
    replay = subprocess.run([sys.executable, "main.py", "--replay", "--quiet", "--config", str(config), "--data-dir",
                             str(tmp_path / "b")], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert replay.returncode == 0, replay.stderr
    found = kit("harvest", "--config", str(config), "--json", data=tmp_path / "b")
    assert found.returncode in (0, 1), found.stderr
    payload = json.loads(found.stdout)
    assert "harvest_candidates" in payload and "orders" in payload


def test_kit_when_reader_of_its_output_is_gone_then_no_error_line_and_sigpipe_status():
    import os

    read, write = os.pipe()
    os.close(read)  # `kit ... | head` after head has exited
    done = subprocess.run([str(KIT), "rebalance", "model", "all_weather", "--json"], cwd=ROOT, stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert done.returncode == 141 and done.stderr == ""


@pytest.mark.parametrize("args, says", [
    (["history", "--limit", "0"], "Invalid value for '--limit': 0"),
    (["history", "--limit", "10001"], "Invalid value for '--limit': 10001 is not in the range 1<=x<=10000"),
    (["history", "--since", "yesterday"], "Invalid value for '--since': 'yesterday'"),
    (["histroy"], "No such command 'histroy'"),
    (["status", "--confg", "x.json"], "No such option '--confg'"),
    (["execute", "--plan-id", "64e7a55cce16697", "--yes"], "Invalid value for '--plan-id': '64e7a55cce16697'"),
    (["execute", "--plan-id", "64E7A55CCE166974", "--yes"], "Invalid value for '--plan-id': '64E7A55CCE166974'"),
])
def test_kit_when_usage_error_then_one_red_error_line_exit_2_and_nothing_written(tmp_path, args, says):
    out = kit(*args, data=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "error: kit rebalance" in out.stderr and says in out.stderr
    assert "Usage:" not in out.stderr and "Try " not in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.glob("*"))  # a malformed plan id is not a stale plan: nothing opened


def test_kit_when_help_asked_then_help_on_stdout_exit_0():
    for args in (["--help"], ["rebalance", "--help"], ["rebalance", "history", "--help"]):
        out = subprocess.run([str(KIT), *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and out.stdout.startswith("Usage: kit") and out.stderr == ""
    assert "1<=x<=10000" in out.stdout  # --limit is capped like the API's


def test_kit_when_no_command_then_help_exit_2():
    out = subprocess.run([str(KIT), "rebalance"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Commands:" in out.stdout + out.stderr


def test_kit_when_command_exits_with_its_code_then_that_code(tmp_path):
    empty = kit("history", "--config", str(SAMPLE), data=tmp_path)  # nothing to show: the command's sys.exit(1)
    assert empty.returncode == 1 and empty.stdout == "no events\n"
    assert kit("model", "all_weather").returncode == 0


def test_kit_main_when_ctrl_c_then_stopped_exit_130(monkeypatch, capsys):
    from src.cli import kit as kit_module
    from src.service import rebalance as svc

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(svc, "open_agent", interrupted)
    monkeypatch.setattr(sys, "argv", ["kit", "rebalance", "status", "--config", str(SAMPLE)])
    with pytest.raises(SystemExit) as stopped:
        kit_module.main()
    assert stopped.value.code == 130 and capsys.readouterr().err.splitlines()[-1] == "stopped"
