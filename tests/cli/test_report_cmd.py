"""``kit rebalance status`` with drift alerts, ``kit rebalance history`` listing them, and
``kit rebalance report`` (human, --json, --png, refusals): the installed kit in a subprocess, on
a data folder written by a replay of the shipped prices."""

from __future__ import annotations

import json
from datetime import date

import pytest

from src.models.execution_models import RuntimeSettings
from src.runtime.replay import run_replay
from tests.agents.test_alerts import CONFIG
from tests.cli.test_kit import kit

pytestmark = pytest.mark.usefixtures("replayed")
END = date(2020, 3, 20)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    config = folder / "alerting.json"
    config.write_text(json.dumps({"portfolio": json.loads(CONFIG.model_dump_json()),
                                  "runtime": {"replay_start": "2020-01-02", "replay_end": str(END)}}))
    agent, _ = run_replay(CONFIG, RuntimeSettings(replay_start=date(2020, 1, 2), replay_end=END),
                          data_dir=folder / "data")
    agent.close()
    return config, folder / "data"


def _kit(replayed, *args):
    config, data = replayed
    return kit(*args, "--config", str(config), data=data)


def test_status_when_drift_past_warning_then_level_units_and_last_alert_shown(replayed):
    human = _kit(replayed, "status")
    assert human.returncode == 0, human.stderr
    assert "drift alert: warning (XOM +7.64%)" in human.stdout  # the clock is the data's last day, 2022-12-28
    assert "last alert: 2020-03-17 drift alert critical: max drift 10.02% >= 10% (XOM -10.02%)" in human.stdout
    machine = json.loads(_kit(replayed, "status", "--json").stdout)
    assert machine["alert_level"] == "warning" and list(machine["alert_units"]) == ["XOM"]
    assert machine["last_alert"]["status"] == "alert" and machine["last_alert"]["timestamp"] == "2020-03-17T00:00:00"


def test_history_when_alerts_journaled_then_listed_with_their_level(replayed):
    out = _kit(replayed, "history", "--since", "2020-03-01").stdout
    assert "2020-03-17 alert" in out and "drift alert critical: max drift 10.02% >= 10% (XOM -10.02%)" in out
    assert len(out.splitlines()) == 1  # the warning of 2020-02-19 held through the hovering (hysteresis)


def test_report_when_week_has_the_critical_alert_then_figures_and_alert(replayed):
    human = _kit(replayed, "report", "--week-ending", "2020-03-20")
    assert human.returncode == 0, human.stderr
    assert "week 2020-03-14 .. 2020-03-20 (5 cycle(s))" in human.stdout
    assert "value 80,097.72 -> 71,209.57  return -11.10%" in human.stdout
    assert "max 11.13% on 2020-03-18" in human.stdout and "alerts: 1" in human.stdout
    report = json.loads(_kit(replayed, "report", "--week-ending", "2020-03-20", "--json").stdout)
    assert [a["level"] for a in report["alerts"]] == ["critical"] and report["trades"] == 0
    assert report["drift_max"] == pytest.approx(0.1113, abs=1e-4) and len(report["points"]) == 5
    assert report["value_end"] / report["value_start"] - 1 == pytest.approx(report["time_weighted_return"])


def test_report_when_week_has_the_first_rebalance_then_trades_turnover_and_fees(replayed):
    report = json.loads(_kit(replayed, "report", "--week-ending", "2020-01-03", "--json").stdout)
    assert report["trades"] == 3 and report["fees"] == pytest.approx(99.90, abs=0.01)
    assert report["turnover"] == pytest.approx(0.5, abs=0.01)  # all cash invested once: one-way, as backtests count
    assert report["tax_tracked"] is False and report["risk_verdicts"] == [] and report["engine_failures"] == []


def test_report_when_png_asked_then_a_valid_png_written(replayed, tmp_path):
    target = tmp_path / "week.png"
    done = _kit(replayed, "report", "--week-ending", "2020-03-20", "--png", str(target))
    assert done.returncode == 0, done.stderr
    assert f"chart: {target}" in done.stdout
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 10_000


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--week-ending", "2019-03-20"), 1, "no history in the week ending 2019-03-20"),
    (("--week-ending", "2020-13-01"), 2, "is not a date"),
    (("--week-ending", "2020-03-20", "--png", "/nonexistent/dir/x.png"), 2, "does not exist"),
    (("--week-ending", "2020-03-20", "--png", "/tmp"), 2, "--png /tmp is a folder: give the PNG file's name"),
])
def test_report_when_no_data_or_bad_input_then_one_line_and_exit_code(replayed, args, code, says):
    refused = _kit(replayed, "report", *args)
    assert refused.returncode == code and says in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr and not refused.stdout
