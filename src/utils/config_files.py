"""Portfolio files: what the builder saves and the agent and ``main.py`` load.

A file is JSON or YAML (``.yaml``/``.yml``, see ``src/utils/yaml_config.py``):
``{"portfolio": <PortfolioConfig>, "runtime": <RuntimeSettings>}``, optionally with the short
keys ``strategy``, ``threshold``, ``schedule``, ``min_trade_size``, ``exclude_assets``,
``tax_loss_harvest`` and ``wash_sale_window`` beside them (``src/utils/seed_keys.py``). Loading validates everything
once; any problem is a ``ConfigError`` with one line naming the file, the field and the value (and,
for YAML, the line).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from src.errors import ConfigError, one_line_error
from src.models.base import StrictModel
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.utils.atomic_io import atomic_write_text
from src.utils.paths import PORTFOLIOS_DIR
from src.utils.seed_keys import expand_seed_keys, name_short_keys
from src.utils.yaml_config import read_yaml, yaml_validation_error

SAMPLE_PORTFOLIO = PORTFOLIOS_DIR / "sample_portfolio.json"
SAMPLE_PORTFOLIO_YAML = PORTFOLIOS_DIR / "sample_portfolio.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


class PortfolioFile(StrictModel):
    """A saved portfolio and how to run it."""

    portfolio: PortfolioConfig = Field(description="The portfolio.")
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings, description="How the agent runs it.")

    @model_validator(mode="after")
    def _substitutes_tradable(self) -> "PortfolioFile":
        excluded = set(self.portfolio.exclude_assets)
        for original, substitute in (self.runtime.tax.substitutes.items() if self.runtime.tax else []):
            if substitute in excluded:
                raise ValueError(f"runtime.tax.substitutes[{original!r}]={substitute!r} is in "
                                 f"portfolio.exclude_assets, which are never bought")
        return self


def load_portfolio_file(path: Path) -> PortfolioFile:
    """Read and validate a portfolio file.

    Raises
    ------
    ConfigError
        If the file is missing, is not JSON (YAML for a ``.yaml``/``.yml`` file), or does not
        validate (one line, names the field; for YAML also the line).
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder, not a portfolio file")
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    key_lines = None  # for YAML: the line of each key, to name it in a validation error
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in YAML_SUFFIXES:
            raw, key_lines = read_yaml(path, text)
        else:
            raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start})") from exc
    except RecursionError as exc:
        raise ConfigError(f"config file {path} is nested too deeply to be a portfolio file") from exc
    raw, origin = expand_seed_keys(raw, f"config file {path}", key_lines)
    try:
        return PortfolioFile.model_validate(raw)
    except ValidationError as exc:
        if key_lines is not None:
            raise ConfigError(name_short_keys(str(yaml_validation_error(f"config file {path}", exc, key_lines)),
                                              origin)) from exc
        raise ConfigError(name_short_keys(f"config file {path}: {one_line_error(exc)}", origin)) from exc


def save_portfolio_file(path: Path, portfolio_file: PortfolioFile) -> Path:
    """Write a portfolio file atomically; returns its path."""
    atomic_write_text(Path(path), portfolio_file.model_dump_json(indent=2) + "\n")
    return Path(path)


def parse_allocations(text: str) -> dict[str, float]:
    """``"a=0.4,b=0.6"`` -> ``{"a": 0.4, "b": 0.6}`` (the CLIs' ``--allocations`` flag).

    Raises
    ------
    ConfigError
        Naming the malformed part or the weight that is not a number.
    """
    out: dict[str, float] = {}
    for part in text.split(","):
        unit, sep, weight = part.partition("=")
        if not sep or not unit.strip():
            raise ConfigError(f"--allocations part {part!r} is not unit=weight")
        try:
            out[unit.strip()] = float(weight)
        except ValueError as exc:
            raise ConfigError(f"--allocations weight {weight!r} of {unit.strip()!r} is not a number") from exc
    return out
