"""Report how far holdings are from a risk profile and the trades that bring them to it.

Nothing is traded: the script reads a holdings file and prints the asset-class drift table, the
targets, the trade list and its summary; ``--dry-run`` adds the estimated tax of the sells.

Usage::

    python src/scripts/profile_report.py --profile growth --holdings src/data/portfolios/seed003_holdings.json
        [--dry-run] [--fee-bps 10] [--fee-fixed 0] [--min-trade 0] [--as-of 2025-06-30] [--json]

The holdings file is JSON: ``{"holdings": [{"symbol": "CSPX", "asset_class": "stocks", "value":
30000}, ...], "tax": {...}, "as_of": "YYYY-MM-DD"}`` (each holding may add ``quantity``,
``price``, ``cost_basis``, ``acquired``, ``taxable``, ``whole_shares``; ``tax`` is
``src.tax.models.TaxSettings``, default 35% short-term / 15% long-term). Exit codes: 0, 2 for
bad input (one line on stderr), 1 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from pydantic import Field, ValidationError  # noqa: E402
from termcolor import colored  # noqa: E402

from src.errors import ConfigError, RebalancerError, one_line_error  # noqa: E402
from src.models.base import StrictModel  # noqa: E402
from src.models.trading_models import FeeModel  # noqa: E402
from src.profiles import Holding, build_trade_list, resolve_profile  # noqa: E402
from src.profiles.report import format_report  # noqa: E402
from src.tax.models import TaxSettings  # noqa: E402


class HoldingsFile(StrictModel):
    """What a holdings file holds."""

    holdings: list[Holding] = Field(description="The positions, cash lines included.")
    tax: TaxSettings = Field(default_factory=TaxSettings, description="Rates for the dry run's tax estimate.")
    as_of: Optional[date] = Field(None, description="Sale date for holding periods (default: today; --as-of wins).")


def load_holdings(path: Path) -> HoldingsFile:
    """Read and validate a holdings file.

    Raises
    ------
    ConfigError
        Missing file, a folder, not JSON or not UTF-8, or a field that does not validate (one line).
    OSError
        The file exists but cannot be read (e.g. permission denied).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"holdings file {path} does not exist")
    if path.is_dir():
        raise ConfigError(f"holdings file {path} is a folder, not a JSON file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:  # name the file: a failed read() carries no file name
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"holdings file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(f"holdings file {path} is not a JSON text file ({type(exc).__name__})") from exc
    try:
        return HoldingsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"holdings file {path}: {one_line_error(exc)}") from exc


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2), not usage plus error."""

    def error(self, message: str) -> NoReturn:
        print(colored(f"error: {message}", "red"), file=sys.stderr)
        raise SystemExit(2)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 for bad input, 1 for OS errors)."""
    parser = _OneLineParser(description="Trade list that brings holdings to a risk profile.")
    parser.add_argument("--profile", required=True,
                        help="balanced, growth, conservative or income, or e.g. 'moderate', 'aggressive', 'safe'")
    parser.add_argument("--holdings", required=True, type=Path, help="holdings JSON file")
    parser.add_argument("--dry-run", action="store_true", help="also estimate the tax of the sells")
    parser.add_argument("--fee-bps", type=float, default=10.0, help="commission in basis points (default 10)")
    parser.add_argument("--fee-fixed", type=float, default=0.0, help="fixed commission per trade (default 0)")
    parser.add_argument("--min-trade", type=float, default=0.0, help="skip trades smaller than this amount")
    parser.add_argument("--as-of", type=_day, default=None, help="sale date for holding periods (YYYY-MM-DD)")
    parser.add_argument("--json", action="store_true",
                        help="print the report as one JSON document (TradeListReport; amounts as exact decimal strings)")
    args = parser.parse_args(argv)
    try:
        profile = resolve_profile(args.profile)
        fee_model = FeeModel(bps=args.fee_bps, fixed=args.fee_fixed)
        loaded = load_holdings(args.holdings)
        report = build_trade_list(loaded.holdings, profile, fee_model=fee_model, min_trade=args.min_trade,
                                  tax=loaded.tax if args.dry_run else None, as_of=args.as_of or loaded.as_of)
        print(report.model_dump_json(indent=1) if args.json else format_report(report, dry_run=args.dry_run),
              end="\n" if args.json else "")
    except (ValidationError, RebalancerError, ValueError) as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    except OSError as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
