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
    """Console entry point (``kit``)."""
    try:
        kit(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        sys.exit(130)
