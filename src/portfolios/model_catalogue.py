"""Model portfolios: published allocations of real funds, and the shipped units that stand in for them.

A ``ModelPortfolio`` lists real tickers and weights (what an investor would buy) and, for the
embedded demo, a *proxy* for each ticker among the units with shipped real data
(``src.utils.market_data``): ``SPY`` (S&P 500 total return) for US stocks, ``UST10Y`` and
``UST5Y`` (total-return indices derived from the shipped Treasury yields) for long and
intermediate Treasuries, ``UST3M`` (the 3-month bill rolled daily) for cash, ``WTI`` (crude oil
spot) for commodities. A ticker with no shipped proxy (gold: no gold price is shipped) is never
faked: the model records a ``Substitution`` saying where its weight goes in the demo.

Four models are built in (``all_weather``, ``sixty_forty``, ``permanent``, ``risk_parity``).
User-defined ones are JSON files ``{"models": [<ModelPortfolio>, ...]}`` in ``src/data/models/``
(read by default) or at any path; every problem is a one-line ``ConfigError`` naming the file,
the field and the value.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal, Optional

from pydantic import Field, ValidationError, field_validator, model_validator

from src.errors import ConfigError, one_line_error
from src.models.base import StrictModel
from src.portfolios.builtin_models import BUILTIN_MODELS
from src.utils.market_data import available_symbols
from src.utils.paths import DATA_DIR

MODELS_DIR = DATA_DIR / "models"          # user-defined model files (*.json), read if present
MODEL_WEIGHT_TOLERANCE = 1e-9              # holdings must sum to 1 within this
NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")


class Substitution(StrictModel):
    """A holding with no shipped proxy, and what the embedded demo does with its weight."""

    ticker: str = Field(description="The holding without a proxy (e.g. 'GLD').")
    reason: str = Field(min_length=1, description="Why there is no proxy (what data is missing).")
    moved_to: Optional[str] = Field(
        None, description="Where its weight goes in the demo: None spreads it over the model's proxies in proportion "
        "to their weights (as the risk stage redistributes a dropped unit); a shipped unit (e.g. 'UST3M') takes all of it.")


class ModelPortfolio(StrictModel):
    """A model portfolio: real tickers and weights, and the shipped units that stand in for them.

    ``weighting="static"``: the holdings' weights are the targets. ``weighting="equal_risk"``:
    the weights only name the universe (and are held for a unit without a full lookback); the
    project's risk-parity engine (``src/engines/risk_parity.py``) sets weights whose risk
    contributions are equal, from the proxies' trailing returns.
    """

    name: str = Field(description="Identifier: lower-case letters, digits and '_' (e.g. 'all_weather').")
    title: str = Field(min_length=1, description="Display name (e.g. 'All Weather').")
    description: str = Field(min_length=1, description="What the model is and what it aims at.")
    source: str = Field(min_length=1, description="Where the allocation is published (reference).")
    weighting: Literal["static", "equal_risk"] = Field(
        "static", description="'static': the holdings' weights are the targets; 'equal_risk': the risk-parity "
        "engine sets weights of equal risk contribution and the weights only name the universe.")
    holdings: dict[str, float] = Field(description="Real ticker -> weight (positive, summing to 1 within 1e-9).")
    proxies: dict[str, str] = Field(description="Ticker -> the shipped unit that stands in for it in the demo.")
    proxy_notes: dict[str, str] = Field(default_factory=dict,
                                        description="Ticker -> how its proxy differs from the real holding.")
    substitutions: list[Substitution] = Field(
        default_factory=list, description="Holdings with no shipped proxy and where their weight goes in the demo.")

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"name={value!r} must be lower-case letters, digits and '_' (e.g. 'all_weather')")
        return value

    @field_validator("holdings")
    @classmethod
    def _holdings_valid(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("holdings={} is empty: list at least one ticker")
        for ticker, weight in value.items():
            if not ticker.strip():
                raise ValueError(f"holdings has a blank ticker {ticker!r}")
            if not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"holdings[{ticker!r}]={weight} must be a positive weight")
        total = math.fsum(value.values())
        if abs(total - 1.0) > MODEL_WEIGHT_TOLERANCE:
            raise ValueError(f"holdings sum to {total!r}, not 1 (within {MODEL_WEIGHT_TOLERANCE})")
        return value

    @field_validator("proxies")
    @classmethod
    def _proxies_known(cls, value: dict[str, str]) -> dict[str, str]:
        known = set(available_symbols())
        for ticker, unit in value.items():
            if unit not in known:
                raise ValueError(f"proxies[{ticker!r}]={unit!r} is not a shipped unit (known: {sorted(known)})")
        return value

    @model_validator(mode="after")
    def _every_holding_accounted_for(self) -> "ModelPortfolio":
        substituted = [s.ticker for s in self.substitutions]
        for where, tickers in (("proxies", self.proxies), ("proxy_notes", self.proxy_notes),
                               ("substitutions", substituted)):
            for ticker in tickers:
                if ticker not in self.holdings:
                    raise ValueError(f"{where}: ticker {ticker!r} is not in holdings {sorted(self.holdings)}")
        for ticker in self.holdings:
            if (ticker in self.proxies) == (ticker in substituted):
                what = "both a proxy and a substitution" if ticker in self.proxies else "neither a proxy nor a substitution"
                raise ValueError(f"holdings[{ticker!r}] has {what}: give it exactly one")
        if len(set(substituted)) != len(substituted):
            raise ValueError(f"substitutions name a ticker twice ({substituted})")
        if not self.proxies:
            raise ValueError("proxies={} is empty: at least one holding needs a shipped unit")
        known = set(available_symbols())
        for sub in self.substitutions:
            if sub.moved_to is not None and sub.moved_to not in known:
                raise ValueError(f"substitutions[{sub.ticker!r}].moved_to={sub.moved_to!r} is not a shipped unit")
            if self.weighting == "equal_risk" and sub.moved_to is not None:
                raise ValueError(f"substitutions[{sub.ticker!r}].moved_to={sub.moved_to!r}: an equal_risk model "
                                 f"leaves a missing holding out of the risk budget (moved_to must be null)")
        return self

    def proxy_targets(self) -> dict[str, float]:
        """Weights of the shipped units that stand in for the holdings, substitutions applied.

        Returns
        -------
        dict of str to float
            Unit -> weight, summing to 1: each proxied holding's weight on its unit (two tickers
            with one proxy add up); a substituted holding's weight spread over the proxied ones
            in proportion to their weights, or all of it on its ``moved_to`` unit. For an
            ``equal_risk`` model these are nominal (the engine's starting universe).
        """
        targets: dict[str, float] = {}
        for ticker, unit in self.proxies.items():
            targets[unit] = targets.get(unit, 0.0) + self.holdings[ticker]
        proxied = math.fsum(self.holdings[t] for t in self.proxies)
        spread = 0.0
        for sub in self.substitutions:
            weight = self.holdings[sub.ticker]
            if sub.moved_to is None:
                spread += weight
            else:
                targets[sub.moved_to] = targets.get(sub.moved_to, 0.0) + weight
        for ticker, unit in self.proxies.items():
            targets[unit] += self.holdings[ticker] * spread / proxied
        return targets


class ModelFile(StrictModel):
    """A file of user-defined model portfolios."""

    models: list[ModelPortfolio] = Field(min_length=1, description="The models (at least one).")


def _profile_models() -> list[dict]:
    """The seed-003 risk profiles (src/profiles) as models: stocks, bonds and cash held as VTI, BND
    and BIL, with the same proxies as the 60/40 and Permanent models."""
    from src.portfolios.builtin_models import BONDS_NOTE, CASH_NOTE, STOCKS_NOTE
    from src.profiles.risk_profiles import PROFILES

    out = []
    for profile in PROFILES.values():
        weights = {"VTI": float(profile.stocks), "BND": float(profile.bonds), "BIL": float(profile.cash)}
        out.append({
            "name": f"profile_{profile.name}",
            "title": f"{profile.name.title()} risk profile",
            "description": f"The {profile.name} risk profile as a portfolio: "
                           f"{weights['VTI']:.0%} stocks, {weights['BND']:.0%} bonds, {weights['BIL']:.0%} cash.",
            "source": "Seed 003's risk profiles (src/profiles/risk_profiles.py), one fund per asset class.",
            "holdings": {t: w for t, w in weights.items() if w > 0},
            "proxies": {t: u for t, u in {"VTI": "SPY", "BND": "UST10Y", "BIL": "UST3M"}.items() if weights[t] > 0},
            "proxy_notes": {t: n for t, n in {"VTI": STOCKS_NOTE, "BND": BONDS_NOTE, "BIL": CASH_NOTE}.items()
                            if weights[t] > 0},
        })
    return out


@lru_cache(maxsize=None)
def _builtins() -> tuple[ModelPortfolio, ...]:
    return tuple(ModelPortfolio.model_validate(spec) for spec in [*BUILTIN_MODELS, *_profile_models()])


def builtin_models() -> dict[str, ModelPortfolio]:
    """The built-in models by name: all_weather, sixty_forty, permanent, risk_parity, and the four
    risk profiles as profile_balanced, profile_growth, profile_conservative, profile_income."""
    return {m.name: m for m in _builtins()}


def load_model_file(path: Path) -> list[ModelPortfolio]:
    """Read and validate a file of user-defined models (``{"models": [...]}``).

    Raises
    ------
    ConfigError
        One line naming the file, the field and the value (missing file, bad JSON, invalid model).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"models file {path} does not exist")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"models file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"models file {path} is not UTF-8 text (byte {exc.start})") from exc
    try:
        return ModelFile.model_validate(raw).models
    except ValidationError as exc:
        raise ConfigError(f"models file {path}: {one_line_error(exc)}") from exc


def model_catalogue(paths: Optional[Iterable[Path]] = None, *, models_dir: Optional[Path] = MODELS_DIR
                    ) -> dict[str, ModelPortfolio]:
    """Built-in models plus the user-defined ones.

    Parameters
    ----------
    paths : iterable of Path, optional
        Extra model files to read after those of ``models_dir``.
    models_dir : Path or None
        Folder whose ``*.json`` files are read (in name order) when it exists; None reads none.

    Returns
    -------
    dict of str to ModelPortfolio
        By name, built-ins first.

    Raises
    ------
    ConfigError
        As :func:`load_model_file`, or when two models share a name (naming it and the file).
    """
    catalogue = builtin_models()
    files = sorted(models_dir.glob("*.json")) if models_dir is not None and models_dir.is_dir() else []
    for path in [*files, *(Path(p) for p in paths or ())]:
        for model in load_model_file(path):
            if model.name in catalogue:
                raise ConfigError(f"models file {path}: name={model.name!r} is already a model (names must be unique)")
            catalogue[model.name] = model
    return catalogue


def get_model(name: str, catalogue: Optional[dict[str, ModelPortfolio]] = None) -> ModelPortfolio:
    """The model called ``name`` (built-ins and ``src/data/models/`` by default).

    Raises
    ------
    ConfigError
        If there is no such model (naming it and the known ones).
    """
    catalogue = model_catalogue() if catalogue is None else catalogue
    return catalogue[model_name(name, catalogue)]


def model_name(text: str, catalogue: dict[str, ModelPortfolio]) -> str:
    """The catalogue name ``text`` means: a model's name, or a risk profile or one of its aliases
    ('growth', 'aggressive', 'retirement income', ...) meaning ``profile_<name>``.

    Raises
    ------
    ConfigError
        If it is neither (naming it and the known models).
    """
    if text in catalogue:
        return text
    from src.profiles.risk_profiles import resolve_profile

    try:
        profile = f"profile_{resolve_profile(text).name}"
    except ConfigError:
        profile = ""
    if profile in catalogue:
        return profile
    raise ConfigError(f"model={text!r} is not one of {sorted(catalogue)} (or a risk profile such as 'growth', "
                      f"'moderate', 'retirement income')")
