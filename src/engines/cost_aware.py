"""Cost-aware rebalancing: trade only as far as the risk it removes pays for the trade.

With current weights ``w``, reference targets ``w*`` (fractions of NAV; cash is the rest and
has zero variance), the trade ``Delta`` minimises

    f(Delta) = a * x' Sigma x + sum_i c_i |Delta_i| + k * sum_i |Delta_i| ** 1.5,
    x = w + Delta - w*,  a = risk_aversion * horizon_years,  c_i = (fee_bps + slippage_bps) / 1e4,

subject to ``w + Delta >= 0`` and ``sum(w + Delta) <= B`` (no leverage, no shorts). ``Sigma`` is
the annualised Ledoit-Wolf covariance of the last ``lookback`` daily returns and ``k`` the
``impact_coefficient``. The engine's targets are ``w + Delta*``: a partial trade that stops
where the marginal fall in tracking-error variance equals the marginal cost.

Optimality (KKT) with ``g = 2 a Sigma x`` and budget multiplier ``mu >= 0``: a unit bought has
``g_i + mu = -c_i - 1.5 k Delta_i ** 0.5``, a unit sold ``g_i + mu = c_i + 1.5 k |Delta_i| ** 0.5``,
an untouched unit ``|g_i + mu| <= c_i``. So ``Delta = 0`` is optimal (the no-trade region; the
impact term's slope at 0 is 0) iff, when there is cash to spend, ``|g_i| <= c_i`` for every held
unit and ``g_i >= -c_i`` for every unit not held (it cannot be sold); and when fully invested iff
some ``mu >= 0`` satisfies ``-c_i - g_i <= mu`` for all units and ``mu <= c_i - g_i`` for held
units (buying one unit funded by selling another does not pay). The trigger fires exactly when
this condition fails.

Cash: idle cash smaller than ``min_trade_size`` of NAV is dust (the order builder would not
spend it either), so the budget ``B`` is then the invested weight; otherwise ``B = 1``.

New money: a unit that is targeted but not held at all, while idle cash beyond the targets'
cash (``cash - (1 - sum(w*))``) is at least ``min_trade_size``, is bought to its full target from
that cash first (pro rata to the targets if the cash is short), and always fires the trigger:
investing new money is not a rebalancing cost to be weighed but the point of the account. The
optimisation then starts from those weights.

Solver: coordinate descent with the exact one-dimensional minimiser (soft-thresholding; for
``k > 0`` the root of a quadratic in ``sqrt|Delta_i|``) clipped to each unit's bounds, to moves
below 1e-14; when the budget binds, ``mu`` is found by Brent's method on the invested sum
(non-increasing in ``mu``). Tseng (2001) proves convergence for a smooth convex term plus a
separable one. The solver and the no-trade check are in ``src/engines/cost_solver.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.cost_solver import COST_EPS, NoTradeCheck, no_trade_check, objective, solve_trade  # noqa: F401
from src.engines.covariance import ledoit_wolf
from src.engines.event_triggers import configured_targets
from src.engines.triggers import CheckFrequencyGate, Trigger
from src.models.decision_models import EngineResult, Exclusion, TriggerDecision
from src.models.params import CostAwareParams
from src.models.risk_models import ReasonCode
from src.utils.performance import TRADING_DAYS


@dataclass
class CostAwareProblem:
    """One decision's inputs, in the order of ``units`` (the units with enough history)."""

    units: list[str]
    w_now: np.ndarray
    w: np.ndarray                 # after the new-money purchases
    wstar: np.ndarray
    sigma: np.ndarray
    cost: np.ndarray
    scale: float
    impact: float
    budget: float
    shrinkage: float
    new_units: list[str] = field(default_factory=list)
    idle_cash: float = 0.0
    fixed: dict[str, float] = field(default_factory=dict)
    exclusions: list[Exclusion] = field(default_factory=list)
    invest_idle: bool = False     # idle cash to invest: the budget holds with equality


class NoTradeRegionTrigger(Trigger):
    """Fires when ``Delta = 0`` is not optimal for the engine's problem, or new money is idle."""

    def __init__(self, engine: "CostAwareEngine") -> None:
        self.engine = engine

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        p = self.engine.problem(ctx)
        if p.new_units:
            return TriggerDecision(fired=True, trigger="cost_aware",
                                   reason=f"new money: {', '.join(p.new_units)} targeted but not held, "
                                          f"idle cash {p.idle_cash:.4f} of NAV")
        if not p.units:
            return TriggerDecision(fired=False, trigger="cost_aware",
                                   reason="no unit has a full lookback yet: holding (new money is still invested)")
        if p.invest_idle:
            return TriggerDecision(fired=True, trigger="cost_aware",
                                   reason=f"idle cash {p.budget - p.w.sum():.4f} of NAV beyond the targets' cash: "
                                          f"invested where it removes the most tracking error per unit of cost")
        check = no_trade_check(p.w, p.wstar, p.sigma, p.cost, p.scale, p.budget)
        g, c = check.gradient, p.cost
        details = {f"gradient.{u}": float(x) for u, x in zip(p.units, g)}
        if check.inside:
            return TriggerDecision(fired=False, trigger="cost_aware", details=details,
                                   reason="inside the no-trade region: no trade's risk reduction pays its cost")
        i, j = check.buy, check.sell
        if i is not None and j is not None and p.budget - p.w.sum() <= COST_EPS:
            why = (f"buying {p.units[i]} funded by selling {p.units[j]} (marginal benefit "
                   f"{g[j] - g[i]:.6f} > cost {c[i] + c[j]:.6f})")
        else:
            parts = []
            if i is not None:
                parts.append(f"buying {p.units[i]} (marginal benefit {-g[i]:.6f} > cost {c[i]:.6f})")
            if j is not None:
                parts.append(f"selling {p.units[j]} (marginal benefit {g[j]:.6f} > cost {c[j]:.6f})")
            why = "; ".join(parts)
        return TriggerDecision(fired=True, trigger="cost_aware", details=details,
                               reason=f"outside the no-trade region: {why} pays")


class CostAwareEngine(RebalancingEngine):
    """Partial trades towards the configured targets where the risk removed pays the cost."""

    measures_against_configured_targets = True

    name = "cost_aware"

    def __init__(self, config) -> None:
        # (units, window fingerprint) -> (Sigma, shrinkage): the trigger and the engine of one
        # decision share one estimate; keyed on the data itself, so results never go stale.
        self._cov_cache: dict[tuple, tuple[np.ndarray, float]] = {}
        super().__init__(config)

    @property
    def params(self) -> CostAwareParams:
        return self.config.rebalancing_params

    @property
    def history_days(self) -> Optional[int]:
        return self.params.lookback

    def build_trigger(self) -> Trigger:
        return CheckFrequencyGate(self.params.check_frequency) & NoTradeRegionTrigger(self)

    def drift_condition(self) -> Trigger:
        """The no-trade condition without the check-frequency gate (what a crisis checks)."""
        return NoTradeRegionTrigger(self)

    def reference_targets(self, ctx: MarketContext) -> dict[str, float]:
        """The configured targets after the units the risk stage holds out."""
        return configured_targets(self.config, ctx)

    def _window(self, ctx: MarketContext, universe: list[str]) -> tuple[list[str], np.ndarray, list[Exclusion]]:
        """The last ``lookback`` returns of the units that have all of them (as numpy), and the rest.

        The rule of ``MarketContext.complete_window``, read from one positional slice of the
        frame: a decision runs it twice (trigger and engine), every check of a backtest.
        """
        days, when = self.params.lookback, ctx.timestamp.date()
        tail = ctx.returns.iloc[-days:]
        with_data = [u for u in universe if u in ctx.returns.columns]
        data = tail.to_numpy(dtype=float)[:, ctx.returns.columns.get_indexer(with_data)]
        counts = np.isfinite(data).sum(axis=0)
        keep = [j for j in range(len(with_data)) if len(tail) == days and counts[j] == days]
        exclusions = [Exclusion(unit=u, reason_code=ReasonCode.INSUFFICIENT_HISTORY,
                                detail=f"cost_aware lookback={days} needs {days} daily returns; {u} has "
                                       f"{int(counts[j])} up to {when}")
                      for j, u in enumerate(with_data) if j not in keep]
        exclusions += [Exclusion(unit=u, reason_code=ReasonCode.INSUFFICIENT_HISTORY,
                                 detail=f"cost_aware lookback={days}: {u} has no returns")
                       for u in universe if u not in with_data]
        return [with_data[j] for j in keep], np.ascontiguousarray(data[:, keep]), exclusions

    def _covariance(self, units: list[str], data: np.ndarray) -> tuple[np.ndarray, float]:
        key = (tuple(units), hashlib.blake2b(data.tobytes(), digest_size=16).digest())
        if key not in self._cov_cache:
            if len(self._cov_cache) >= 8:
                self._cov_cache.clear()
            cov, shrinkage = ledoit_wolf(data)
            self._cov_cache[key] = (cov * TRADING_DAYS, shrinkage)
        return self._cov_cache[key]

    def problem(self, ctx: MarketContext) -> CostAwareProblem:
        """The optimisation of this decision (see the module docstring)."""
        p = self.params
        ref = self.reference_targets(ctx)
        held = [u for u, q in ctx.state.holdings.items() if q > 0]
        universe = list(dict.fromkeys([*ref, *held]))
        now = ctx.state.weights(universe)
        units, data, exclusions = self._window(ctx, universe)
        sigma, shrinkage = self._covariance(units, data) if units else (np.zeros((0, 0)), 0.0)
        w_now = np.array([now[u] for u in units])
        wstar = np.array([ref.get(u, 0.0) for u in units])
        dust = max(p.min_trade_size, COST_EPS)
        cash = ctx.state.cash / ctx.state.total_value()
        idle = cash - max(0.0, 1.0 - sum(ref.values()))
        w = w_now.copy()
        # New money first, for measured and unmeasured units alike: a unit targeted but not held
        # at all is bought to its target from idle cash (a new account is invested on day one,
        # before any covariance can be estimated). Unmeasured units are otherwise kept where they are.
        unmeasured = [u for u in universe if u not in units]
        new_units = [u for i, u in enumerate(units) if wstar[i] > 0 and w_now[i] <= 0]
        new_fixed = [u for u in unmeasured if ref.get(u, 0.0) > 0 and now[u] <= 0]
        fixed = {u: now[u] for u in unmeasured}
        wanted = float(sum(wstar[units.index(u)] for u in new_units) + sum(ref[u] for u in new_fixed))
        if (new_units or new_fixed) and idle >= dust and wanted > 0:
            share = min(1.0, idle / wanted)
            idx = [units.index(u) for u in new_units]
            w[idx] = wstar[idx] * share
            fixed.update({u: ref[u] * share for u in new_fixed})
            cash -= wanted * share
            new_units = new_units + new_fixed
        else:
            new_units = []
        # Dust cash stays cash: the budget is then what is invested now (switches only). Idle cash
        # beyond the targets' own cash is invested (the budget is then met with equality): left
        # to the objective alone, selling an overweight unit and keeping the proceeds in cash is
        # the cheapest way to cut tracking error, and the account drifts into cash.
        budget = 1.0 - sum(fixed.values()) if cash >= dust else float(w.sum())
        idle_now = cash - max(0.0, 1.0 - sum(ref.values()))
        invest = bool(units) and idle_now >= dust
        if invest:
            budget = min(budget, float(w.sum()) + idle_now)
        return CostAwareProblem(units=units, w_now=w_now, w=w, wstar=wstar, sigma=sigma,
                                cost=np.full(len(units), p.cost_per_turnover),
                                scale=self._scale(sigma, wstar), impact=p.impact_coefficient,
                                budget=budget,
                                shrinkage=shrinkage, new_units=new_units, idle_cash=max(idle, 0.0),
                                fixed=fixed, exclusions=exclusions, invest_idle=invest)

    def _scale(self, sigma: np.ndarray, wstar: np.ndarray) -> float:
        """``a`` of the objective: risk_aversion x horizon, per unit of the targets' own variance.

        Tracking-error variance is priced relative to the variance of the target portfolio, so
        one risk aversion means the same trade-off for a 60/40 (10% volatility) and for twenty
        single stocks (19%): measured in absolute variance, the stock portfolio's no-trade
        region would be three times narrower for the same setting.
        """
        p = self.params
        own = float(wstar @ sigma @ wstar) if len(wstar) else 0.0
        return p.risk_aversion * p.horizon_years / max(own, 1e-8)

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        p = self.problem(ctx)
        if not p.units:
            weights = {u: x for u, x in p.fixed.items() if x > 0 or u in p.fixed}
            return EngineResult(engine=self.name, weights=weights, exclusions=p.exclusions,
                                notes=["no unit has a full lookback: new money bought to the configured targets, "
                                       "the rest held"])
        delta, mu = solve_trade(p.w, p.wstar, p.sigma, p.cost, p.scale, p.impact, p.budget, equality=p.invest_idle)
        new = np.maximum(p.w + delta, 0.0)
        ref = self.reference_targets(ctx)
        weights = {u: float(x) for u, x in zip(p.units, new) if x > 0 or u in ref}
        weights.update({u: x for u, x in p.fixed.items() if x > 0 or u in ref})
        zero = np.zeros_like(delta)

        def te(v: np.ndarray) -> float:  # annualised tracking error of active weights v
            return float(np.sqrt(max(v @ p.sigma @ v, 0.0)))

        turnover = float(np.abs(new - p.w_now).sum())
        diagnostics = {
            "tracking_error_before": te(p.w_now - p.wstar), "tracking_error_after": te(new - p.wstar),
            "turnover": turnover, "estimated_cost": float(p.cost @ np.abs(new - p.w_now)),
            "objective_no_trade": objective(zero, p.w, p.wstar, p.sigma, p.cost, p.scale, p.impact),
            "objective": objective(delta, p.w, p.wstar, p.sigma, p.cost, p.scale, p.impact),
            "objective_full_trade": objective(p.wstar - p.w, p.w, p.wstar, p.sigma, p.cost, p.scale, p.impact),
            "budget_multiplier": mu, "shrinkage": p.shrinkage, "new_money": float(np.sum(p.w - p.w_now)),
        }
        notes = [f"cost-aware partial trade: tracking error {diagnostics['tracking_error_before']:.4f} -> "
                 f"{diagnostics['tracking_error_after']:.4f}, turnover {turnover:.4f}, cost per turnover "
                 f"{p.cost[0] if len(p.cost) else 0.0:.4f}, risk_aversion x horizon {p.scale:g}; "
                 f"Ledoit-Wolf shrinkage {p.shrinkage:.3f}"]
        if p.new_units:
            notes.append(f"new money first: {', '.join(p.new_units)} bought to target from idle cash")
        if p.fixed:
            notes.append(f"kept at current weight (no history): {', '.join(p.fixed)}")
        return EngineResult(engine=self.name, weights=weights, notes=notes, exclusions=p.exclusions,
                            diagnostics=diagnostics)
