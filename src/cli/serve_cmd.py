"""``kit serve``: the HTTP API (``src/api/``) on uvicorn.

The bearer token comes from an environment variable (``--token-env``, default
``KIT_API_TOKEN``), never from the command line, where ``ps`` would show it. The command refuses
to start, in one line with exit 2, without the variable, with a token under 16 characters, or
with a portfolio file that does not load. A host other than loopback gets a one-line warning:
the API sends orders, and the token travels in clear text without TLS in front of it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

import click

from src.cli.common import config_option, data_option, run
from src.errors import ConfigError

DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TOKEN_ENV = "127.0.0.1", 8765, "KIT_API_TOKEN"
LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(variable: str) -> str:
    """The token in environment variable ``variable``.

    Raises
    ------
    ConfigError
        If it is unset, empty or shorter than the API's minimum (the value is never echoed).
    """
    from src.api.auth import MIN_TOKEN_LENGTH, check_token

    token = os.environ.get(variable, "")
    if not token:
        raise ConfigError(f"{variable} is not set: export {variable}=<a secret of at least {MIN_TOKEN_LENGTH} "
                          f"characters> (e.g. from: python -c 'import secrets; print(secrets.token_urlsafe())')")
    if len(token) < MIN_TOKEN_LENGTH:  # the length is named, never the value
        raise ConfigError(f"{variable} holds {len(token)} character(s): the token needs at least {MIN_TOKEN_LENGTH}")
    return check_token(token) and token


@click.command()
@config_option
@data_option
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="address to listen on (loopback by default)")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="port to listen on (0: any free port, printed at start)")
@click.option("--token-env", default=DEFAULT_TOKEN_ENV, show_default=True,
              help="environment variable holding the bearer token (16 characters or more)")
def serve(config: Path, data_dir: Path, host: str, port: int, token_env: str) -> None:
    """Serve the HTTP API (status, preview, execute, harvest, history, models) with a bearer token."""
    def go() -> int:
        import uvicorn

        from src.api import create_app
        from src.utils.config_files import load_portfolio_file

        token = read_token(token_env)
        loaded = load_portfolio_file(config)  # refuse to start on a file that does not load
        if not is_loopback(host):
            click.echo(click.style(f"warning: listening on {host}, not loopback: anyone who can reach it and has the "
                                   f"token can send orders; put TLS in front of it", fg="yellow"), err=True)
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
        app = create_app(config, data_dir, token)
        click.echo(f"serving {loaded.portfolio.name} ({config}) with data in {data_dir}; "
                   f"API docs at /docs, every /api/ request needs 'Authorization: Bearer ${token_env}'", err=True)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False))
        server.run()
        return 0 if server.started else 1
    run(go)
