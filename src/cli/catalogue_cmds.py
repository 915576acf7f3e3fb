"""``kit rebalance model NAME`` and ``kit rebalance profile NAME``: the model portfolios and the
risk profiles (``src/portfolios/``, ``src/profiles/``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from src.cli.common import emit, json_option, run


@click.command()
@click.argument("name")
@json_option
def model(name: str, as_json: bool) -> None:
    """A model portfolio or risk profile: real holdings, proxies, demo targets."""
    def go() -> int:
        from src.portfolios.model_catalogue import get_model

        found = get_model(name)
        payload = found.model_dump(mode="json") | {"demo_targets": found.proxy_targets()}
        lines = [f"{found.title}: {found.description}",
                 "  holdings: " + ", ".join(f"{t} {w:.2%}" for t, w in found.holdings.items()),
                 "  demo targets: " + ", ".join(f"{u} {w:.2%}" for u, w in found.proxy_targets().items())]
        emit(as_json, payload, lines)
        return 0
    run(go)


@click.command()
@click.argument("name")
@click.option("--holdings", type=click.Path(path_type=Path), required=True, help="holdings file")
@click.option("--dry-run", is_flag=True, help="add the estimated tax of the sells")
def profile(name: str, holdings: Path, dry_run: bool) -> None:
    """The seed-003 risk-profile report (asset-class drift, trade list, summary)."""
    from src.scripts.profile_report import main as profile_main

    sys.exit(profile_main(["--profile", name, "--holdings", str(holdings), *(["--dry-run"] if dry_run else [])]))
