"""Follow a model portfolio: a portfolio file whose targets are the model's proxy weights.

The file is an ordinary ``PortfolioFile`` (``main.py --replay --config`` runs it): its units are
the model's shipped proxies, its targets the model's weights with its substitutions applied
(``ModelPortfolio.proxy_targets``), its rebalancing keeps the portfolio on those targets, and
its replay starts on the first day every proxy has a price.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from pydantic import ValidationError

from src.errors import ConfigError, one_line_error
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod
from src.models.risk_models import DEFAULT_RISK_LIMITS
from src.portfolios.model_catalogue import ModelPortfolio, get_model
from src.utils.config_files import PortfolioFile
from src.utils.market_data import asset_prices

# A model's weights are the policy: the per-unit caps must not rewrite them (40% TLT, 60% VTI),
# so they are opened; every other limit keeps its default (plain assets are not dropped for a
# bad trailing year, portfolio-level breaches are recorded as warnings).
MODEL_RISK_LIMITS: dict[str, float] = {**DEFAULT_RISK_LIMITS, "max_single_strategy": 1.0, "min_single_strategy": 0.0}
# Static models: the 5/25 band (a unit is traded back once it drifts 5 points, or 25% of its target).
STATIC_METHOD, STATIC_PARAMS = RebalancingMethod.THRESHOLD, {"min_drift": 0.05, "relative_drift": 0.25}


def first_common_day(units: list[str]) -> date:
    """The first day on which every one of ``units`` has a shipped price."""
    return asset_prices(units).index[0].date()


def _method_for(model: ModelPortfolio, method: Optional[str], params: Optional[dict[str, Any]]
                ) -> tuple[RebalancingMethod, dict[str, Any]]:
    try:
        chosen = RebalancingMethod(method) if method is not None else None
    except ValueError as exc:
        raise ConfigError(f"method={method!r} is not one of {[m.value for m in RebalancingMethod]}") from exc
    if model.weighting == "equal_risk":
        if chosen not in (None, RebalancingMethod.RISK_PARITY):
            raise ConfigError(f"method={method!r}: model {model.name!r} is weighted by equal risk contribution, "
                              f"which only the 'risk_parity' method computes")
        return RebalancingMethod.RISK_PARITY, dict(params or {})
    if chosen is RebalancingMethod.RISK_PARITY:
        raise ConfigError(f"method='risk_parity' would replace the static weights of model {model.name!r} "
                          f"(follow the 'risk_parity' model for equal risk contributions)")
    if chosen is None:
        return STATIC_METHOD, dict(STATIC_PARAMS if params is None else params)
    return chosen, dict(params or {})


def follow_model(name: str, *, portfolio_name: Optional[str] = None, method: Optional[str] = None,
                 params: Optional[dict[str, Any]] = None, risk_limits: Optional[dict[str, float]] = None,
                 catalogue: Optional[dict[str, ModelPortfolio]] = None, replay_start: Optional[date] = None,
                 initial_cash: float = 100_000.0) -> PortfolioFile:
    """A portfolio file that keeps a portfolio on a model's proxy targets.

    Parameters
    ----------
    name : str
        The model (``all_weather``, ``sixty_forty``, ``permanent``, ``risk_parity`` or a
        user-defined one in ``catalogue``).
    portfolio_name : str, optional
        The portfolio's name; the model's title by default.
    method : str, optional
        Rebalancing method. Static models: ``threshold`` with the 5/25 band by default (any
        method but ``risk_parity``, which would ignore the model's weights). ``equal_risk``
        models: ``risk_parity`` only (equal budgets, monthly, 252-day lookback by default).
    params : dict, optional
        The method's parameters (its defaults where missing; for the default threshold method,
        ``{"min_drift": 0.05, "relative_drift": 0.25}`` when not given).
    risk_limits : dict, optional
        Limits overriding ``MODEL_RISK_LIMITS`` (the defaults with the per-unit caps opened, so
        they do not rewrite the model's weights).
    catalogue : dict, optional
        Models by name; ``model_catalogue()`` (built-ins and ``src/data/models/``) by default.
    replay_start : datetime.date, optional
        First day of a replay; by default the first day every proxy has a price.
    initial_cash : float
        The paper account's starting cash.

    Returns
    -------
    PortfolioFile
        Validated; its targets are ``model.proxy_targets()``.

    Raises
    ------
    ConfigError
        One line naming the field and the value (unknown model or method, a method the model's
        weighting forbids, limits the targets break).
    """
    model = get_model(name, catalogue)
    chosen, method_params = _method_for(model, method, params)
    targets = model.proxy_targets()
    try:
        config = PortfolioConfig(name=portfolio_name or model.title, target_allocations=targets,
                                 rebalancing_method=chosen, rebalancing_params=method_params,
                                 risk_limits={**MODEL_RISK_LIMITS, **(risk_limits or {})})
        runtime = RuntimeSettings(initial_cash=initial_cash,
                                  replay_start=replay_start or first_common_day(list(targets)))
    except ValidationError as exc:
        raise ConfigError(one_line_error(exc)) from exc
    return PortfolioFile(portfolio=config, runtime=runtime)
