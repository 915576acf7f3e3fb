"""``main.py --household FILE``: a household backtest on real data, printed (presentation layer)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError
from termcolor import colored

from src.errors import ConfigError, one_line_error
from src.household.backtest import HouseholdResult, run_household_backtest
from src.household.models import HouseholdConfig
from src.utils.account_lock import AccountLock
from src.utils.atomic_io import atomic_write_text
from src.utils.paths import slug


def load_household(path: Path) -> HouseholdConfig:
    """A household file, validated; a bad one is one line naming the file (and the field).

    Raises
    ------
    ConfigError
        ``household file <path> ...``: missing, a folder, not UTF-8, not JSON, or not valid.
    """
    path = Path(path)
    where = f"household file {path}"
    if path.is_dir():
        raise ConfigError(f"{where} is a folder, not a household file")
    if not path.is_file():
        raise ConfigError(f"{where} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:  # unreadable (permissions): bad input, named
        raise ConfigError(f"{where}: {one_line_error(exc)}") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{where} is nested too deeply to be a household file") from exc
    try:
        return HouseholdConfig.model_validate(payload)
    except (ValueError, ValidationError) as exc:  # validation errors (and a validator's ValueError)
        raise ConfigError(f"{where}: {one_line_error(exc)}") from exc


def print_result(name: str, routing: str, result: HouseholdResult) -> None:
    print(colored(f"\n=== {name}: {routing} routing, {result.start} .. {result.end} ===", attrs=["bold"]))
    print(f"value         {result.start_value:,.2f} -> {result.end_value:,.2f} (deposits {result.deposits:,.2f})")
    print(f"turnover      {result.turnover:.2%} a year   fees {result.fees:,.2f}   checks that traded {len(result.plans)}")
    print(f"taxes         realised taxable gains {result.realized_taxable_gain:,.2f}   wash-sale disallowed "
          f"{result.disallowed_losses:,.2f}   lost to IRA purchases {result.lost_to_ira:,.2f}")
    drag = result.location.drag_tax_aware if routing == "household" else result.location.drag_pro_rata
    print(f"location      first investment {'tax-aware' if routing == 'household' else 'pro rata'}: estimated tax "
          f"drag {drag:,.2f} a year (pro rata {result.location.drag_pro_rata:,.2f}, tax-aware "
          f"{result.location.drag_tax_aware:,.2f})")
    for account, units in result.placement.items():
        held = ", ".join(f"{u} {v:,.0f}" for u, v in units.items() if v >= 1)
        print(f"  {account:16} {held}")


def write_plans(result: HouseholdResult, name: str, data_dir: Path) -> int:
    """Each check that traded as one JSON file, ``household_<name>_YYYYMMDD.json`` (every trade
    with its account and reason, every wash-sale decision and skip), written atomically."""
    seen: dict[str, int] = {}
    for plan in result.plans:
        stem = f"household_{slug(name)}_{plan.day:%Y%m%d}"
        seen[stem] = seen.get(stem, 0) + 1  # a withdrawal's sales and the day's check: _2 keeps them apart
        suffix = "" if seen[stem] == 1 else f"_{seen[stem]}"
        atomic_write_text(Path(data_dir) / f"{stem}{suffix}.json", plan.model_dump_json(indent=1) + "\n")
    return len(result.plans)


def run_household(path: Path, data_dir: Path) -> int:
    config = load_household(path)
    for routing in ("household", "each_account"):
        result = run_household_backtest(config.model_copy(update={"routing": routing}), config.replay_start,
                                        config.replay_end)
        print_result(config.name, routing, result)
        if routing == "household":
            with AccountLock(data_dir):
                written = write_plans(result, config.name, data_dir)
            print(f"{written} household plan(s) written to {data_dir}/household_{slug(config.name)}_*.json")
    return 0
