"""What every ``kit`` command shares: the options, the output and the exit codes.

Exit codes: 0 done, 1 nothing to do or refused (a stale plan id, no confirmation, tax tracking
off), 2 bad input (a config that does not validate, an unknown model). Every failure is one line
on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from termcolor import colored

from src.errors import RebalancerError, one_line_error
from src.service.rebalance import RefusedError
from src.utils.config_files import SAMPLE_PORTFOLIO
from src.utils.paths import PORTFOLIO_DIR

DONE, NOTHING, REFUSED, BAD_INPUT = 0, 1, 1, 2


class Refused(Exception):
    """A refusal (exit 1) with its one line."""


def emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    """Print ``payload`` as JSON (a pydantic model or plain data) or ``lines`` as text."""
    if as_json:
        data = payload.model_dump(mode="json") if hasattr(payload, "model_dump") else payload
        click.echo(json.dumps(data, indent=1, default=str))
    else:
        for line in lines:
            click.echo(line)


def run(fn: Callable[[], int | None]) -> None:
    """Call ``fn`` and turn every failure into one line and an exit code."""
    try:
        code = fn()
    except (Refused, RefusedError) as exc:
        click.echo(colored(f"refused: {exc}", "yellow"), err=True)
        sys.exit(REFUSED)
    except (RebalancerError, ValueError) as exc:
        click.echo(colored(f"error: {one_line_error(exc)}", "red"), err=True)
        sys.exit(BAD_INPUT)
    except BrokenPipeError:
        # The reader went away (`kit ... | head`): not an error of ours. Point stdout at /dev/null so
        # the interpreter's final flush does not fail again, and end as a process killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(128 + signal.SIGPIPE)
    except OSError as exc:
        click.echo(colored(f"error: {one_line_error(exc)}", "red"), err=True)
        sys.exit(REFUSED)
    sys.exit(code or DONE)


config_option = click.option("--config", "config", type=click.Path(path_type=Path), default=SAMPLE_PORTFOLIO,
                             show_default=True, help="portfolio file (JSON or YAML)")
data_option = click.option("--data-dir", type=click.Path(path_type=Path), default=PORTFOLIO_DIR, show_default=True,
                           help="events, state and paper account")
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output (stable schema)")


def account_options(fn):
    """--config, --data-dir and --json, shared by the commands that open the account."""
    return config_option(data_option(json_option(fn)))
