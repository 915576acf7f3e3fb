"""Risk-parity (risk-budgeting) rebalancing from the units' recent returns."""

from __future__ import annotations

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.covariance import ledoit_wolf
from src.engines.risk_budget import risk_budget_weights
from src.engines.triggers import AnyDriftTrigger, CalendarTrigger, Trigger
from src.models.decision_models import EngineResult
from src.models.params import RiskParityParams
from src.utils.performance import annualization_days


class RiskParityEngine(RebalancingEngine):
    """Weights whose risk contributions equal the budgets, re-solved on a calendar.

    The covariance is the Ledoit-Wolf shrunk covariance of the last ``lookback`` common daily
    returns of the configured units. The configured target weights only name the universe.
    With ``use_leverage`` the weights are scaled to ``risk_limits.max_portfolio_leverage``.
    """

    name = "risk_parity"

    @property
    def params(self) -> RiskParityParams:
        return self.config.rebalancing_params

    def build_trigger(self) -> Trigger:
        return CalendarTrigger(self.params.rebalance_frequency) & AnyDriftTrigger(self.params.min_trade_size)

    @property
    def history_days(self) -> int:
        return self.params.lookback

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        p = self.params
        window, exclusions = ctx.measured_window(self.config.units, p.lookback, "risk_parity lookback")
        units = list(window.columns)
        # Units without a full lookback are held at their configured targets; the others share the rest.
        held = {e.unit: self.config.target_allocations[e.unit] for e in exclusions}
        if len(units) < 2:
            held.update({u: self.config.target_allocations[u] for u in units})
            return EngineResult(engine=self.name, weights=held, exclusions=exclusions,
                                notes=[f"fewer than two units with {p.lookback} returns: configured targets held"])
        cov, shrinkage = ledoit_wolf(window.to_numpy())
        budgets = None
        if p.target_risk_contribution is not None:
            budgets = np.array([p.target_risk_contribution[u] for u in units])
            budgets = budgets / budgets.sum()  # budgets of held-out units are spread pro rata
        weights = risk_budget_weights(cov, budgets)
        gross = self.config.risk_limits.max_portfolio_leverage if p.use_leverage else 1.0
        weights = weights * gross * (1.0 - sum(held.values()))
        vol = float(np.sqrt(weights @ cov @ weights * annualization_days(window.index)))  # 252 stocks, 365 crypto
        return EngineResult(
            engine=self.name,
            weights={**{u: float(w) for u, w in zip(units, weights)}, **held},
            notes=[f"Ledoit-Wolf shrinkage {shrinkage:.3f} over {len(window)} days; "
                   f"{'equal' if budgets is None else 'custom'} risk budgets; gross {gross:.2f}"],
            exclusions=exclusions,
            diagnostics={"shrinkage": shrinkage, "expected_volatility": vol, "gross_exposure": gross},
        )
