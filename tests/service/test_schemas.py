"""The ``--json`` schemas: documented in docs/kit-json-schemas.json (a change shows in a diff), and
what the installed ``kit`` prints validates against them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from src.service.schemas import SCHEMAS, json_schemas

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"
SAMPLE = ROOT / "src/data/portfolios/sample_portfolio.json"
HOUSEHOLD = ROOT / "src/data/portfolios/household_sample.json"
HOLDINGS = ROOT / "src/data/portfolios/seed003_holdings.json"


def test_schemas_when_models_change_then_the_documented_file_must_change_too():
    documented = json.loads((ROOT / "docs/kit-json-schemas.json").read_text(encoding="utf-8"))
    assert documented == json.loads(json.dumps(json_schemas())), \
        "regenerate it: kit rebalance schema > docs/kit-json-schemas.json (and say so in the change)"


def _kit(*args: str) -> dict:
    done = subprocess.run([str(KIT), "rebalance", *args, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def traded(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("schemas")
    subprocess.run([str(KIT), "rebalance", "execute", "--yes", "--config", str(SAMPLE), "--data-dir", str(data)],
                   cwd=ROOT, capture_output=True, timeout=300, check=True)
    return data


@pytest.mark.parametrize("command, args", [
    ("status", ()), ("preview", ()), ("history", ()), ("report", ()),
    ("model", ("all_weather",)), ("profile", ("growth", "--holdings", str(HOLDINGS))),
])
def test_json_when_printed_then_validates_against_its_documented_model(traded, command, args):
    account = ("--config", str(SAMPLE), "--data-dir", str(traded)) if command not in ("model", "profile") else ()
    SCHEMAS[command].model_validate(_kit(command, *args, *account))


@pytest.mark.slow
@pytest.mark.parametrize("command", ["status", "preview"])
def test_json_when_household_then_validates_against_its_documented_model(command):
    SCHEMAS[f"{command} --household"].model_validate(_kit(command, "--household", str(HOUSEHOLD)))


def test_schema_when_unknown_command_then_one_line_exit_2():
    done = subprocess.run([str(KIT), "rebalance", "schema", "nope"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "command='nope' is not one of" in done.stderr and done.stderr.count("\n") == 1
