"""The short keys of a portfolio file: ``strategy``, ``threshold``, ``schedule`` ...

A portfolio file may say, next to its ``portfolio:`` and ``runtime:`` blocks::

    strategy: threshold        # rebalancing_method: calendar, threshold, tactical, hybrid, adaptive, ...
    threshold: 0.05            # the drift band (rebalancing_params.min_drift)
    schedule: weekly           # how often to look (the method's check or calendar frequency)
    min_trade_size: 0.005      # no trade under 0.5% of the value (rebalancing_params.min_trade_size)
    exclude_assets: [BNB]      # never bought or sold (portfolio.exclude_assets)
    tax_loss_harvest: true     # harvest losses in every cycle (runtime.tax_loss_harvest)
    wash_sale_window: 30       # days before and after a loss sale (runtime.tax.wash_sale_window)

``expand_seed_keys`` moves each into the field it stands for before the one validation of the
whole file, so both spellings end in the same pydantic models. A short key and the long field it
stands for may both be written only if they agree; otherwise the error names both.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, ValidationError

from src.errors import ConfigError, one_line_error
from src.models.base import Frequency, StrictModel
from src.models.portfolio_models import RebalancingMethod
from src.utils.yaml_config import KeyLines

# Where each method keeps its drift band and its schedule.
BAND_FIELD = {"threshold": "min_drift", "adaptive": "min_drift", "tactical": "min_drift", "hybrid": "min_drift"}
SCHEDULE_FIELD = {"threshold": "check_frequency", "calendar": "frequency", "adaptive": "check_frequency",
                  "risk_parity": "rebalance_frequency", "cost_aware": "check_frequency",
                  "tactical": "check_frequency", "hybrid": "frequency"}


class SeedKeys(StrictModel):
    """The short keys, each standing for one field of the portfolio file."""

    strategy: Optional[RebalancingMethod] = Field(None, description="portfolio.rebalancing_method.")
    threshold: Optional[float] = Field(
        None, gt=0.0, le=1.0, description="The drift band, portfolio.rebalancing_params.min_drift (methods "
        "threshold, adaptive, tactical and hybrid).")
    schedule: Optional[Frequency] = Field(
        None, description="How often the method looks: check_frequency (threshold, adaptive, cost_aware, "
        "tactical), frequency (calendar, hybrid) or rebalance_frequency (risk_parity).")
    min_trade_size: Optional[float] = Field(
        None, ge=0.0, lt=1.0, description="portfolio.rebalancing_params.min_trade_size: the smallest trade worth "
        "making, as a fraction of portfolio value (0.005 = 0.5%).")
    exclude_assets: Optional[list[str]] = Field(None, description="portfolio.exclude_assets.")
    tax_loss_harvest: Optional[bool] = Field(None, description="runtime.tax_loss_harvest.")
    wash_sale_window: Optional[int] = Field(
        None, ge=0, le=366, description="runtime.tax.wash_sale_window (days; the IRS rule is 30).")


SEED_KEYS = frozenset(SeedKeys.model_fields)


class _Where:
    """Names the file, and for YAML the line of a short key, in an error."""

    def __init__(self, where: str, key_lines: Optional[KeyLines]) -> None:
        self.where, self.key_lines = where, key_lines

    def __call__(self, short: Optional[str] = None) -> str:
        if short is None or self.key_lines is None:
            return self.where
        return f"{self.where} line {self.key_lines.line_of((short,))}"


def _set(where: _Where, block: dict, key: str, value: Any, path: str, short: str) -> None:
    """``block[key] = value`` unless the file already wrote a different value there."""
    if key in block and block[key] != value and not (isinstance(value, str) and str(block[key]) == value):
        raise ConfigError(f"{where(short)}: {short}={value!r} conflicts with {path}={block[key]!r}; write it once")
    block[key] = value


def _block(raw: dict, key: str, where: _Where, path: str) -> dict:
    block = raw.setdefault(key, {})
    if block is None:
        block = raw[key] = {}
    if not isinstance(block, dict):
        raise ConfigError(f"{where()}: {path} must be a mapping, not {type(block).__name__}")
    return block


def expand_seed_keys(raw: Any, where: str, key_lines: Optional[KeyLines] = None) -> tuple[Any, dict[str, str]]:
    """Move the short keys of ``raw`` (a file's parsed data) into the fields they stand for.

    Returns the expanded data and, for each long field path written from a short key, the short
    key (so an error about ``portfolio.rebalancing_params.min_drift`` can say it came from
    ``threshold``). ``raw`` without short keys is returned unchanged. For a YAML file,
    ``key_lines`` gets the short key's line for each long path, so a later validation error
    about it names that line.

    Raises
    ------
    ConfigError
        A short key's value is invalid (named), a short key does not apply to the strategy, or it
        conflicts with the long field written in the same file.
    """
    if not isinstance(raw, dict) or not SEED_KEYS & set(raw):
        return raw, {}
    where = _Where(where, key_lines)
    raw = dict(raw)
    given = {k: raw.pop(k) for k in list(raw) if k in SEED_KEYS}
    try:
        seed = SeedKeys.model_validate(given)
    except ValidationError as exc:
        first = str(exc.errors()[0]["loc"][0]) if exc.errors() and exc.errors()[0]["loc"] else None
        raise ConfigError(f"{where(first)}: {one_line_error(exc).removeprefix('SeedKeys: ')}") from exc
    portfolio = raw["portfolio"] = dict(_block(raw, "portfolio", where, "portfolio"))
    origin: dict[str, str] = {}
    if seed.strategy is not None:
        _set(where, portfolio, "rebalancing_method", seed.strategy.value, "portfolio.rebalancing_method", "strategy")
        origin["portfolio.rebalancing_method"] = "strategy"
    method = str(portfolio.get("rebalancing_method", RebalancingMethod.THRESHOLD.value))
    method = method if method in SCHEDULE_FIELD else RebalancingMethod.THRESHOLD.value  # pydantic names a bad one
    if {"threshold", "schedule", "min_trade_size"} & seed.model_fields_set:
        params = portfolio["rebalancing_params"] = dict(_block(portfolio, "rebalancing_params", where,
                                                               "portfolio.rebalancing_params"))
        fields = [("min_trade_size", "min_trade_size", seed.min_trade_size)]
        if seed.threshold is not None:
            if method not in BAND_FIELD:
                raise ConfigError(f"{where('threshold')}: threshold={seed.threshold} does not apply to strategy {method!r} "
                                  f"(it has no drift band; use one of {sorted(BAND_FIELD)})")
            fields.append(("threshold", BAND_FIELD[method], seed.threshold))
        if seed.schedule is not None:
            fields.append(("schedule", SCHEDULE_FIELD[method], seed.schedule.value))
        for short, key, value in fields:
            if value is not None:
                path = f"portfolio.rebalancing_params.{key}"
                _set(where, params, key, value, path, short)
                origin[path] = short
    if seed.exclude_assets is not None:
        _set(where, portfolio, "exclude_assets", seed.exclude_assets, "portfolio.exclude_assets", "exclude_assets")
        origin["portfolio.exclude_assets"] = "exclude_assets"
    if seed.tax_loss_harvest is not None or seed.wash_sale_window is not None:
        runtime = raw["runtime"] = dict(_block(raw, "runtime", where, "runtime"))
        if seed.tax_loss_harvest is not None:
            _set(where, runtime, "tax_loss_harvest", seed.tax_loss_harvest, "runtime.tax_loss_harvest",
                 "tax_loss_harvest")
            origin["runtime.tax_loss_harvest"] = "tax_loss_harvest"
        if seed.wash_sale_window is not None:
            tax = runtime["tax"] = dict(_block(runtime, "tax", where, "runtime.tax"))
            _set(where, tax, "wash_sale_window", seed.wash_sale_window, "runtime.tax.wash_sale_window",
                 "wash_sale_window")
            origin["runtime.tax.wash_sale_window"] = "wash_sale_window"
    if key_lines is not None:
        for path, short in origin.items():
            key_lines.lines[tuple(path.split("."))] = key_lines.line_of((short,))
    return raw, origin


def name_short_keys(message: str, origin: dict[str, str]) -> str:
    """``portfolio.rebalancing_params.min_drift: ...`` -> ``threshold (portfolio.rebalancing_params.min_drift): ...``."""
    for path, short in sorted(origin.items(), key=lambda kv: -len(kv[0])):
        message = message.replace(f"{path}:", f"{short} ({path}):")
    return message
