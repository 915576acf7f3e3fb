"""src/runtime/household.py ``load_household``: a household file that is missing, a folder, not
UTF-8 or not JSON is one line naming ``household file <path>``, exit 2, in kit and main.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.runtime.household import load_household

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"
SAMPLE = ROOT / "src/data/portfolios/household_sample.json"


def unusable(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A household path that cannot be read as one, and what the error says about it."""
    if kind == "missing":
        return tmp_path / "nowhere.json", "does not exist"
    if kind == "folder":
        return tmp_path, "is a folder, not a household file"
    if kind == "not utf-8":
        path = tmp_path / "latin1.json"
        path.write_bytes('{"name": "Müller"}'.encode("latin-1"))
        return path, "is not UTF-8 text (byte 11)"
    path = tmp_path / "broken.json"
    path.write_text('{"name": ')
    return path, "is not valid JSON: Expecting value at line 1 column 10"


KINDS = ["missing", "folder", "not utf-8", "not json"]


@pytest.mark.parametrize("kind", KINDS)
def test_load_household_when_file_unusable_then_config_error_naming_the_file(tmp_path, kind):
    path, says = unusable(tmp_path, kind)
    with pytest.raises(ConfigError) as caught:
        load_household(path)
    assert str(caught.value) == f"household file {path} {says}"


def test_load_household_when_sample_then_loaded():
    assert load_household(SAMPLE).accounts


@pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")
@pytest.mark.parametrize("kind", KINDS)
def test_kit_status_when_household_file_unusable_then_one_line_exit_2(tmp_path, kind):
    path, says = unusable(tmp_path, kind)
    out = subprocess.run([str(KIT), "rebalance", "status", "--household", str(path), "--data-dir",
                          str(tmp_path / "d")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and f"household file {path} {says}" in out.stderr


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_main_household_when_file_unusable_then_one_line_exit_2_and_nothing_written(tmp_path, kind):
    path, says = unusable(tmp_path, kind)
    out = subprocess.run([sys.executable, "main.py", "--household", str(path), "--data-dir", str(tmp_path / "d")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and f"household file {path} {says}" in out.stderr
    assert not (tmp_path / "d").exists()
