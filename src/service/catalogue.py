"""``kit rebalance model NAME --apply --config FILE``: a model portfolio's demo targets become a
portfolio file's ``target_allocations`` (the CLI and the HTTP API render the same view).

The new targets are validated with the file's other settings through ``PortfolioConfig`` before
anything is written, so a risk limit the model does not fit (``max_single_strategy`` below its
largest weight, an ``exclude_assets`` unit it targets) is one line naming the limit and the file
is left as it was. The file is rewritten atomically in its own format: JSON as JSON (2-space
indent, keys in their order); YAML with ``yaml.safe_dump`` (keys in their order), which does not
keep comments, anchors or layout, so the previous YAML file is kept as ``FILE.bak``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import yaml
from pydantic import Field, ValidationError

from src.errors import ConfigError, one_line_error
from src.models.base import StrictModel
from src.models.portfolio_models import PortfolioConfig
from src.portfolios.model_catalogue import ModelPortfolio
from src.utils.atomic_io import atomic_write_text
from src.utils.config_files import YAML_SUFFIXES, load_portfolio_file
from src.utils.yaml_config import read_yaml


class CatalogueEntry(ModelPortfolio):
    """A model portfolio with the shipped units' weights that stand in for it
    (``kit rebalance model NAME --json``; an item of ``GET /api/rebalance/models``)."""

    demo_targets: dict[str, float] = Field(description="Shipped unit -> weight (``ModelPortfolio.proxy_targets``).")

    @classmethod
    def of(cls, model: ModelPortfolio) -> "CatalogueEntry":
        """The entry of ``model``."""
        return cls(**model.model_dump(), demo_targets=model.proxy_targets())


class ModelsView(StrictModel):
    """Every model portfolio: the built-in ones and those of ``src/data/models/``."""

    models: list[CatalogueEntry] = Field(description="By name, built-ins first.")


class WeightChange(StrictModel):
    """One unit's target before and after."""

    unit: str = Field(description="Unit.")
    old: Optional[float] = Field(description="Target weight before (None: not a target).")
    new: Optional[float] = Field(description="Target weight after (None: no longer a target).")


class ModelApplied(StrictModel):
    """What applying a model to a portfolio file did."""

    model: str = Field(description="The model's catalogue name.")
    file: str = Field(description="The portfolio file.")
    format: str = Field(description="json or yaml: the format the file was rewritten in.")
    changed: bool = Field(description="The targets changed and the file was rewritten.")
    changes: list[WeightChange] = Field(description="Every unit of the old or the new targets.")
    backup: Optional[str] = Field(None, description="The previous file (YAML only: comments are not kept).")
    message: str = Field(description="What happened, in a sentence.")


def _read_raw(path: Path, text: str, is_yaml: bool) -> dict:
    raw = read_yaml(path, text)[0] if is_yaml else json.loads(text)
    if not isinstance(raw, dict) or not isinstance(raw.get("portfolio"), dict):
        raise ConfigError(f"config file {path}: no 'portfolio' mapping to put the targets in")
    return raw


def apply_model(name: str, path: Path) -> ModelApplied:
    """Make model ``name``'s demo targets (``proxy_targets``) the ``target_allocations`` of ``path``.

    Parameters
    ----------
    name : str
        A model's catalogue name, or a risk profile or one of its aliases.
    path : pathlib.Path
        A JSON or YAML portfolio file (it must load as it is).

    Returns
    -------
    ModelApplied
        The old and new weight of every unit; ``changed`` is False (nothing written) when the
        file already has these targets.

    Raises
    ------
    ConfigError
        If the model is unknown, the file does not load, or the model's targets do not fit the
        file's other settings (one line naming the limit; the file is not touched).
    """
    from src.portfolios.model_catalogue import get_model

    path = Path(path)
    model = get_model(name)
    targets = model.proxy_targets()
    loaded = load_portfolio_file(path)
    try:
        PortfolioConfig.model_validate(loaded.portfolio.model_dump(mode="json") | {"target_allocations": targets})
    except ValidationError as exc:
        raise ConfigError(f"model {model.name} does not fit {path}: {one_line_error(exc)}; the file is unchanged") \
            from exc
    is_yaml = path.suffix.lower() in YAML_SUFFIXES
    text = path.read_text(encoding="utf-8")
    raw = _read_raw(path, text, is_yaml)
    old = dict(loaded.portfolio.target_allocations)
    changes = [WeightChange(unit=u, old=old.get(u), new=targets.get(u)) for u in dict.fromkeys([*old, *targets])]
    fmt = "yaml" if is_yaml else "json"
    if old.keys() == targets.keys() and all(math.isclose(old[u], targets[u], abs_tol=1e-12) for u in old):
        return ModelApplied(model=model.name, file=str(path), format=fmt, changed=False, changes=changes,
                            message=f"{path} already has model {model.name}'s targets: nothing written")
    raw["portfolio"]["target_allocations"] = targets
    backup = None
    if is_yaml:
        backup = path.with_name(path.name + ".bak")
        atomic_write_text(backup, text)
        atomic_write_text(path, yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    else:
        atomic_write_text(path, json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
    load_portfolio_file(path)  # what was written loads (a failure here names the file)
    note = f"; YAML comments and layout are not kept, the previous file is {backup}" if backup else ""
    return ModelApplied(model=model.name, file=str(path), format=fmt, changed=True, changes=changes,
                        backup=None if backup is None else str(backup),
                        message=f"{path}: target_allocations are now model {model.name}'s demo targets{note}")
