"""``kit serve``: the HTTP API (``src/api/``) on uvicorn.

The bearer token comes from an environment variable (``--token-env``, default
``KIT_API_TOKEN``), never from the command line, where ``ps`` would show it. The command refuses
to start, in one line with exit 2, without the variable, with a token under 16 characters (blanks
at its ends left out), with a portfolio file that does not load, or on an address it cannot listen
on (a --host that does not resolve, a --port in use): the socket is bound before uvicorn starts. A host other than loopback gets a one-line warning:
the API sends orders, and the token travels in clear text without TLS in front of it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
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
        If it is unset, empty, only blanks, or shorter than the API's minimum once the blanks at
        its ends are left out (the value is never echoed). Those blanks are dropped: an HTTP
        header cannot carry them, so a request could never match a token that has them.
    """
    from src.api.auth import MIN_TOKEN_LENGTH, check_token

    raw = os.environ.get(variable, "")
    token = raw.strip()
    if not token:
        state = "holds only blanks" if raw else "is not set"
        raise ConfigError(f"{variable} {state}: export {variable}=<a secret of at least {MIN_TOKEN_LENGTH} "
                          f"characters> (e.g. from: python -c 'import secrets; print(secrets.token_urlsafe())')")
    if len(token) < MIN_TOKEN_LENGTH:  # the length is named, never the value
        raise ConfigError(f"{variable} holds {len(token)} character(s) besides blanks: the token needs at least "
                          f"{MIN_TOKEN_LENGTH}")
    return check_token(token) and token


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0: any free port), not yet listening, as uvicorn binds it.

    Raises
    ------
    ConfigError
        One line naming --host (a name that does not resolve) or --host and --port (the address
        is in use, not this machine's, or not allowed), with the reason.
    """
    name = host.strip("[]")  # [::1] as in a URL
    try:
        family, kind, proto, _, address = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        raise ConfigError(f"--host {host}: cannot resolve it ({reason})") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart reuses the port at once
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from exc
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (its real port when --port 0)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


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
        sock = bind(host, port)  # here, not in uvicorn: a port in use is one line and exit 2, not its log and 3

        class Server(uvicorn.Server):
            async def startup(self, sockets=None) -> None:
                await super().startup(sockets=sockets)
                if self.started:  # uvicorn says where it listens only for the sockets it bound itself
                    logging.getLogger("uvicorn.error").info("Uvicorn running on %s (Press CTRL+C to quit)",
                                                            url_of(sock))

        server = Server(uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False))
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
        return 0 if server.started else 1
    run(go)
