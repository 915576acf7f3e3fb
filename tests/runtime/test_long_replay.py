"""Issue 8's acceptance: the sample portfolio replayed from 1990 runs to the end of the data (the
zero-variance and NaN-correlation days of 2001 included), through main.py as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_main_replay_when_sample_from_1990_then_runs_to_the_last_day(tmp_path):
    config = json.loads((ROOT / "src/data/portfolios/sample_portfolio.json").read_text())
    config["runtime"]["replay_start"] = "1990-01-02"
    path = tmp_path / "sample_1990.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "main.py", "--replay", "--quiet", "--config", str(path),
                           "--data-dir", str(tmp_path / "d")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert ".. 2022-12-28" in done.stdout and "engine failures 0" in done.stdout
    state = json.loads((tmp_path / "d" / "state_sample_multi_strategy_portfolio.json").read_text())
    assert state["last_check_at"].startswith("2022-12-28")
