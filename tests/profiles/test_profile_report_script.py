"""The profile report script, driven through its flags as a user would (in process and as a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from src.scripts.profile_report import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "src/scripts/profile_report.py"
SEED = ROOT / "src/data/portfolios/seed003_holdings.json"


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *argv], cwd=cwd, capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, content: str) -> str:
    path = tmp_path / "holdings.json"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_script_when_seed003_growth_by_alias_then_trade_list_and_exit_0(tmp_path):
    done = run("--profile", "Long Horizon", "--holdings", str(SEED), cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    assert lines[0] == "Risk profile: growth (stocks 75% / bonds 15% / cash 10%)"
    assert lines.index("1 SELL STRIPS-2040 25,000.00 n/a 25.00") + 2 == lines.index("3 BUY INDA 10,000.00 n/a 10.00")


def test_main_when_seed003_balanced_dry_run_then_no_trades_and_tax_section(capsys):
    assert main(["--profile", "moderate", "--holdings", str(SEED), "--dry-run", "--as-of", "2025-06-30"]) == 0
    out = capsys.readouterr().out
    assert "no trades: every position is on its target" in out and "net tax +0.00" in out


def test_main_when_tax_in_file_then_its_rates_and_as_of_used(tmp_path, capsys):
    holdings = json.loads(SEED.read_text())
    holdings["holdings"][2].update(cost_basis=30_000, acquired="2025-01-02")
    holdings.update(tax={"short_term_rate": 0.4}, as_of="2025-06-30")
    assert main(["--profile", "growth", "--holdings", write(tmp_path, json.dumps(holdings)), "--dry-run"]) == 0
    out = capsys.readouterr().out  # 24,975 - 18,750 = 6,225 short-term at 40%
    assert "sold on 2025-06-30" in out and "net tax +2,490.00" in out


@pytest.mark.parametrize("argv, message", [
    (["--profile", "wild", "--holdings", str(SEED)],
     "error: unknown risk profile 'wild': choose balanced, growth, conservative or income (or say e.g. "
     "'moderate', 'aggressive', 'safe', 'retirement income')"),
    (["--profile", "growth", "--holdings", "/nonexistent/h.json"], "error: holdings file /nonexistent/h.json does not exist"),
    (["--profile", "growth"], "error: the following arguments are required: --holdings"),
    (["--profile", "growth", "--holdings", str(SEED), "--as-of", "2025-13-01"],
     "error: argument --as-of: '2025-13-01' is not a date (YYYY-MM-DD)"),
    (["--profile", "growth", "--holdings", str(SEED), "--fee-bps", "-1"],
     "error: FeeModel: bps: Input should be greater than or equal to 0 (got -1.0)"),
])
def test_script_when_input_bad_then_one_line_and_exit_2(argv, message, tmp_path):
    done = run(*argv, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize("content, message", [
    ('{"holdings": []}', "no positions found: the holdings list is empty"),
    ('{"holdings": [{"symbol": "A", "asset_class": "stocks", "value": 5}, '
     '{"symbol": "B", "asset_class": "stocks", "value": 5}]}',
     "all positions are in one asset class (stocks): a risk profile needs holdings in at least two of stocks, "
     "bonds and cash"),
    ('{"holdings": [', "is not valid JSON: Expecting value at line 1"),
    ('{"holdings": [{"symbol": "A", "asset_class": "gold", "value": 5}]}',
     "HoldingsFile: holdings.0.asset_class: Input should be 'stocks', 'bonds' or 'cash' (got 'gold')"),
    ('{"positions": []}', "HoldingsFile: positions: Extra inputs are not permitted; holdings: Field required"),
])
def test_main_when_holdings_file_bad_then_one_line_and_exit_2(content, message, tmp_path, capsys):
    assert main(["--profile", "growth", "--holdings", write(tmp_path, content)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_main_when_holdings_path_is_a_folder_then_exit_2(tmp_path, capsys):
    assert main(["--profile", "growth", "--holdings", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: holdings file {tmp_path} is a folder, not a JSON file\n"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_script_when_file_cannot_be_read_then_one_line_and_exit_1(tmp_path):
    done = run("--profile", "growth", "--holdings", "/proc/self/mem", cwd=tmp_path)  # read() fails with EIO
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "error: Input/output error: /proc/self/mem\n")
