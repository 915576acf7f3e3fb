"""``kit rebalance model NAME [--apply --config FILE]`` and ``kit rebalance profile NAME``: the model
portfolios and the risk profiles (``src/portfolios/``, ``src/profiles/``); ``--apply`` makes a
model's demo targets a portfolio file's targets (``src/service/catalogue.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from src.cli.common import NOTHING, emit, json_option, run
from src.errors import ConfigError


def _fmt(weight) -> str:
    return "-" if weight is None else f"{weight:.2%}"


def _apply(name: str, config: Path, as_json: bool) -> int:
    from src.service.catalogue import apply_model

    done = apply_model(name, config)
    lines = [done.message] + [f"  {c.unit:20} {_fmt(c.old):>7} -> {_fmt(c.new):>7}" for c in done.changes]
    emit(as_json, done, lines)
    return 0 if done.changed else NOTHING


@click.command()
@click.argument("name")
@json_option
@click.option("--apply", "apply_", is_flag=True,
              help="make the model's demo targets the target_allocations of --config FILE (rewritten)")
@click.option("--config", type=click.Path(path_type=Path), help="with --apply: the portfolio file (JSON or YAML)")
def model(name: str, as_json: bool, apply_: bool, config: Path | None) -> None:
    """A model portfolio or risk profile: real holdings, proxies, demo targets (--apply: into a portfolio file)."""
    def go() -> int:
        from src.portfolios.model_catalogue import get_model

        if apply_ != (config is not None):
            raise ConfigError("--apply and --config FILE go together: --apply needs the file to change, "
                              "--config is only used with --apply")
        if apply_:
            return _apply(name, config, as_json)

        found = get_model(name)
        from src.service.catalogue import CatalogueEntry

        payload = CatalogueEntry.of(found)
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
@json_option
def profile(name: str, holdings: Path, dry_run: bool, as_json: bool) -> None:
    """The seed-003 risk-profile report (asset-class drift, trade list, summary)."""
    from src.scripts.profile_report import main as profile_main

    sys.exit(profile_main(["--profile", name, "--holdings", str(holdings), *(["--dry-run"] if dry_run else []),
                           *(["--json"] if as_json else [])]))
