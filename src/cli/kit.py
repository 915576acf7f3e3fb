"""``kit``: the trading-bot framework's command line (``kit rebalance ...``).

Every command takes ``--config FILE`` (JSON or YAML portfolio file) and ``--data-dir``, prints
tables by default or a stable JSON document with ``--json``, and exits 0 (done), 1 (nothing to
do, or refused: a stale plan id, no confirmation) or 2 (bad input), with one line on stderr and
never a traceback (``src/cli/common.py``). It drives the same agent as ``main.py`` and the Python
API through ``src/service/rebalance.py``: no second implementation of any decision.
"""

from __future__ import annotations

import sys

import click

from src.cli import catalogue_cmds, rebalance_cmds, report_cmd, schema_cmd, serve_cmd
from src.cli.common import BAD_INPUT


@click.group()
def kit() -> None:
    """The trading-bot framework's command line."""


@kit.group()
def rebalance() -> None:
    """Portfolio rebalancing: look before you act."""


for command in (rebalance_cmds.status, rebalance_cmds.preview, rebalance_cmds.execute, rebalance_cmds.harvest,
                rebalance_cmds.history, report_cmd.report, catalogue_cmds.model, catalogue_cmds.profile,
                schema_cmd.schema):
    rebalance.add_command(command)
kit.add_command(serve_cmd.serve)  # kit serve: the HTTP API


def main() -> None:
    """Console entry point (``kit``): every usage error is one line, ``error: <message>``, exit 2.

    Click runs with ``standalone_mode=False`` so that its usage errors (an unknown command or
    option, ``--limit 0``, ``--since yesterday``) reach us instead of its three-line Usage / Try /
    Error block. ``--help`` still prints the help (exit 0); a command's own ``sys.exit(code)``
    propagates as it is; ``kit`` alone (no command) still prints the help, exit 2.
    """
    try:
        code = kit(standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # `kit` / `kit rebalance` alone: the help is the answer
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # UsageError, BadParameter, NoSuchOption ... and FileError
        ctx = getattr(exc, "ctx", None)  # a usage error knows its command: `kit rebalance history: ...`
        where = f"{ctx.command_path}: " if ctx is not None else ""
        click.echo(click.style(f"error: {where}{' '.join(exc.format_message().split())}", fg="red"), err=True)
        sys.exit(BAD_INPUT)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("stopped", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)  # `--help`: 0; ctx.exit(n): n
