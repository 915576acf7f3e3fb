"""``kit rebalance schema [COMMAND]``: the JSON Schema of what ``--json`` prints."""

from __future__ import annotations

import json
from typing import Optional

import click

from src.cli.common import run
from src.errors import ConfigError


@click.command()
@click.argument("command", required=False)
def schema(command: Optional[str]) -> None:
    """The JSON Schema of each command's --json output (all, or COMMAND's, e.g. 'preview' or 'history --household')."""
    def go() -> int:
        from src.service.schemas import SCHEMAS, json_schemas

        schemas = json_schemas()
        if command is not None and command not in schemas:
            raise ConfigError(f"command={command!r} is not one of {sorted(SCHEMAS)}")
        click.echo(json.dumps(schemas if command is None else schemas[command], indent=1, sort_keys=True))
        return 0
    run(go)
