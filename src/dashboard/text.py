"""The dashboard printout (presentation layer: termcolor, print)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from termcolor import colored

from src.risk.limits import apply_risk_limits

if TYPE_CHECKING:  # pragma: no cover
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

BAR_HALF = 10
ACTION_COLOUR = {"pass": "green", "shrink": "yellow", "drop": "yellow", "block": "red", "warn": "magenta"}


def drift_bar(drift: float, scale: float) -> str:
    """A bar centred on 0: ``|    ###|     |`` with one cell per ``scale / BAR_HALF`` of drift."""
    cells = min(BAR_HALF, round(abs(drift) / scale * BAR_HALF))
    left = " " * (BAR_HALF - cells) + "#" * cells if drift < 0 else " " * BAR_HALF
    right = "#" * cells + " " * (BAR_HALF - cells) if drift > 0 else " " * BAR_HALF
    return f"|{left}|{right}|"


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.2%}" if signed else f"{value:.2%}"


def print_dashboard(agent: "PortfolioRebalancingAgent") -> None:
    """Print positions vs targets with drift bars, metrics, correlations and risk indicators."""
    config = agent.config
    now = agent.clock.now()
    positions = agent.positions()
    band = getattr(config.rebalancing_params, "min_drift", 0.05)
    print(colored(f"\n=== {config.name} | {config.rebalancing_method.value} | {now:%Y-%m-%d} ===", attrs=["bold"]))
    total = sum(p.value for p in positions) + agent.broker.get_account().cash
    cash = agent.broker.get_account().cash
    print(f"value {total:,.2f}   cash {cash:,.2f} ({cash / total:.1%})")
    print(f"{'unit':<20}{'kind':<10}{'weight':>8}{'target':>8}{'drift':>9}  drift (band {band:.0%} at the edge)")
    held_out = agent.state.risk_exclusions
    for p in positions:
        colour = "red" if abs(p.drift) > band else ("yellow" if abs(p.drift) > band / 2 else "green")
        # Drift is from the configured target; a unit the risk stage holds out is not traded back.
        note = f"  held out by {held_out[p.unit].limit}" if p.unit in held_out else ""
        print(f"{p.unit:<20}{p.kind.value:<10}{p.weight:>8.2%}{p.target_weight:>8.2%}"
              + colored(f"{p.drift:>+9.2%}  {drift_bar(p.drift, band)}", colour) + colored(note, "yellow"))
    m = agent.metrics()
    print(colored("\nmetrics", attrs=["bold"]))
    print(f"  total return {_pct(m.total_return)}   volatility {_pct(m.annualized_volatility, False)}   "
          f"max drawdown {_pct(m.max_drawdown, False)}")
    sharpe = "n/a" if m.sharpe_ratio is None else f"{m.sharpe_ratio:.2f}"
    sortino = "n/a" if m.sortino_ratio is None else f"{m.sortino_ratio:.2f}"
    since = "never" if m.days_since_rebalance is None else f"{m.days_since_rebalance} days"
    print(f"  Sharpe {sharpe}   Sortino {sortino}   last rebalance {since} ago   "
          f"({m.observations} daily returns, {len(agent.rebalancing_history)} events)")
    if len(m.correlation) > 1:
        units = list(m.correlation)
        print(colored("\ncorrelation (risk lookback)", attrs=["bold"]))
        print(" " * 20 + "".join(f"{u[:9]:>10}" for u in units))
        for a in units:
            print(f"{a:<20}" + "".join(f"{m.correlation[a][b]:>10.2f}" for b in units))
    print(colored("\nrisk indicators (configured targets, now)", attrs=["bold"]))
    returns = agent.market.returns_until(now, config.units)
    strategies = {u for u, k in agent.unit_kinds.items() if k.value == "strategy"}
    decision = apply_risk_limits(dict(config.target_allocations), returns, config.risk_limits,
                                 lookback=config.risk_lookback_days, min_history=config.min_history_days,
                                 policy=config.risk_policy, strategy_units=strategies,
                                 exclusions=agent.state.risk_exclusions, timestamp=now)
    for v in decision.verdicts:
        value = "n/a" if v.value is None else f"{v.value:.3f}"
        print(colored(f"  {v.limit:<24}{value:>9} vs {v.threshold:<8}{v.action.value:<8}{v.reason_code.value}",
                      ACTION_COLOUR[v.action.value]))
    for v in decision.verdicts:
        if v.action.value != "pass":  # which limit holds what back, and what to change
            print(colored(f"    {v.limit}: {v.message}", ACTION_COLOUR[v.action.value]))
    for unit, out in agent.state.risk_exclusions.items():
        print(colored(f"  held out: {unit} since {out.since:%Y-%m-%d} by {out.limit} "
                      f"(value {'n/a' if out.value is None else f'{out.value:.3f}'}); readmission margins in "
                      f"risk_policy", "yellow"))
    if agent.rebalancing_history:
        last = agent.rebalancing_history[-1]
        print(colored(f"\nlast event {last.timestamp:%Y-%m-%d} {last.status.value}: {last.message}", attrs=["bold"]))
    print_alert(agent)


ALERT_COLOUR = {"none": "green", "warning": "yellow", "critical": "red", "off": None}


def print_alert(agent: "PortfolioRebalancingAgent") -> None:
    """The drift alert level now and the last journaled alert (yellow warning, red critical)."""
    from src.agents.alerts import current_drift, last_alert

    check = current_drift(agent) if agent.settings.alerts.enabled else None
    level = check.level if check else ("none" if agent.settings.alerts.enabled else "off")
    units = ", ".join(f"{u} {d:+.2%}" for u, d in (check.units if check else {}).items())
    print(colored(f"drift alert: {level}" + (f" (max drift {check.max_drift:.2%}{': ' + units if units else ''})"
                                             if check else ""), ALERT_COLOUR[level], attrs=["bold"]))
    alert = last_alert(agent.rebalancing_history)
    if alert is not None:
        print(colored(f"last alert {alert.timestamp:%Y-%m-%d}: {alert.message}", ALERT_COLOUR[alert.alert.level]))
