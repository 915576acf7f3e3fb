"""The weekly report: one week of a portfolio from its journal and value history (pure).

``weekly_report`` reads nothing and writes nothing: the caller passes the journal's events and
the agent state's value points; the ``kit rebalance report`` command (``src/cli/report_cmd.py``)
and any other surface render the ``WeeklyReport`` it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Optional

from pydantic import Field

from src.errors import RebalancerError
from src.models.base import StrictModel
from src.models.decision_models import PlanStatus, RebalancingEvent
from src.models.execution_models import AlertSettings, ValuePoint
from src.risk.drift_alerts import drift_check, targets_at

FILLED = ("filled", "partially_filled")


class NoHistoryError(RebalancerError):
    """The week asked for has no value point."""


class ReportPoint(StrictModel):
    """One cycle of the week: weights, the targets they are measured against, the max drift."""

    timestamp: datetime = Field(description="Cycle time.")
    value: float = Field(description="Portfolio value.")
    weights: dict[str, float] = Field(description="Weight per unit (excluded assets out, substitutes folded).")
    targets: dict[str, float] = Field(description="Targets in force (the newest rebalance's, else configured).")
    max_drift: float = Field(description="Largest |weight - target|.")


class WeeklyReport(StrictModel):
    """What happened to one portfolio in the 7 days ending on ``week_ending``."""

    portfolio: str = Field(description="Portfolio name.")
    week_start: date = Field(description="First day of the week (week_ending - 6 days).")
    week_ending: date = Field(description="Last day of the week.")
    value_start: float = Field(description="Value at value_start_at.")
    value_start_at: datetime = Field(description="The cycle value_start is taken from: the last one before the week "
                                     "if it is at most 7 days before it, else the week's first.")
    value_end: float = Field(description="Value at the week's last cycle.")
    net_flows: float = Field(description="Deposits less withdrawals in the week.")
    time_weighted_return: float = Field(description="Return of the week net of flows (linked per cycle).")
    drift_start: float = Field(description="Max drift at the week's first cycle.")
    drift_end: float = Field(description="Max drift at the week's last cycle.")
    drift_max: float = Field(description="Largest max drift of any cycle in the week.")
    drift_max_at: datetime = Field(description="When it was largest.")
    alerts: list[dict[str, Any]] = Field(description="Drift alerts journaled in the week (level, max drift, units).")
    trades: int = Field(description="Orders filled (fully or partly).")
    traded_notional: float = Field(description="Sum of filled quantity x fill price.")
    turnover: float = Field(description="One-way turnover, as the backtests count it: traded_notional / 2 / the "
                            "average value of the week's cycles (a full swap of the portfolio is 100%).")
    fees: float = Field(description="Fees paid.")
    realized_gains: float = Field(description="Realised gains (tax blocks of the events; 0 without tax tracking).")
    realized_losses: float = Field(description="Realised losses, as a positive amount.")
    wash_sales: int = Field(description="Sales whose loss was (partly) disallowed by the wash-sale rule.")
    disallowed_losses: float = Field(description="Losses disallowed by the wash-sale rule.")
    tax_tracked: bool = Field(description="Whether any event of the week carried a tax block.")
    risk_verdicts: list[dict[str, Any]] = Field(description="Risk verdicts that were not 'pass', with reason codes.")
    engine_failures: list[dict[str, Any]] = Field(description="Cycles whose engine failed, with the message.")
    thresholds: dict[str, float] = Field(description="drift_warning and drift_critical in force.")
    points: list[ReportPoint] = Field(description="Every cycle of the week (for the chart).")


def weekly_report(portfolio: str, events: Sequence[RebalancingEvent], history: Sequence[ValuePoint], *,
                  week_ending: date, configured_targets: Mapping[str, float], alerts: AlertSettings,
                  exclude: Iterable[str] = (), substitutes: Optional[Mapping[str, str]] = None) -> WeeklyReport:
    """The report of the 7 days ending on ``week_ending`` (both ends included).

    Raises
    ------
    NoHistoryError
        If no value point falls in the week.
    """
    start = week_ending - timedelta(days=6)
    week = [p for p in history if start <= p.timestamp.date() <= week_ending]
    if not week:
        raise NoHistoryError(f"no history in the week ending {week_ending} ({start} .. {week_ending}) for "
                             f"{portfolio!r}")
    # The week's return starts from the last cycle before it, if that is at most a week earlier;
    # a point months old (a replay, then a cycle today) would pass months off as this week.
    before = [p for p in history if start - timedelta(days=7) <= p.timestamp.date() < start]
    base = before[-1] if before else week[0]
    chain, previous = 1.0, base
    for point in week:
        if point is not base and previous.value > 0:
            chain *= (point.value - point.flow) / previous.value
        previous = point
    excluded = list(exclude)
    points = []
    for p in week:
        targets = targets_at(events, p.timestamp, configured_targets)
        check = drift_check(p.weights, targets, alerts, exclude=excluded, substitutes=substitutes)
        shown = {u: w + targets.get(u, 0.0) for u, w in check.drifts.items()}
        points.append(ReportPoint(timestamp=p.timestamp, value=p.value, weights=shown, targets=targets,
                                  max_drift=check.max_drift))
    worst = max(points, key=lambda q: q.max_drift)
    in_week = [e for e in events if start <= e.timestamp.date() <= week_ending]
    fills = [o for e in in_week for o in e.orders if o.status.value in FILLED]
    notional = sum(o.filled_quantity * (o.average_fill_price or o.price) for o in fills)
    average = sum(p.value for p in week) / len(week)
    taxes = _taxes(in_week)
    return WeeklyReport(
        portfolio=portfolio, week_start=start, week_ending=week_ending, value_start=base.value,
        value_start_at=base.timestamp,
        value_end=week[-1].value, net_flows=sum(p.flow for p in week if p is not base),
        time_weighted_return=chain - 1.0, drift_start=points[0].max_drift, drift_end=points[-1].max_drift,
        drift_max=worst.max_drift, drift_max_at=worst.timestamp,
        alerts=[{"timestamp": e.timestamp, "level": e.alert.level, "previous_level": e.alert.previous_level,
                 "max_drift": e.alert.max_drift, "units": e.alert.units, "message": e.message}
                for e in in_week if e.status == PlanStatus.ALERT and e.alert is not None],
        trades=len(fills), traded_notional=notional, turnover=notional / 2.0 / average if average > 0 else 0.0,
        fees=sum(e.fees for e in in_week), **taxes,
        risk_verdicts=[{"timestamp": e.timestamp, "status": e.status.value, "limit": v.limit,
                        "action": v.action.value, "reason_code": v.reason_code.value, "units": v.units,
                        "repeats": e.repeats} for e in in_week for v in e.risk_verdicts if v.action.value != "pass"],
        engine_failures=[{"timestamp": e.timestamp, "message": e.message, "repeats": e.repeats}
                         for e in in_week if e.status == PlanStatus.ENGINE_FAILED],
        thresholds={"drift_warning": alerts.drift_warning, "drift_critical": alerts.drift_critical},
        points=points)


def _taxes(events: Sequence[RebalancingEvent]) -> dict[str, Any]:
    """Realised gains and losses and wash sales from the events' tax blocks. A block lists the day's
    realisations so far, so two events of one day repeat the first one's: each counts once."""
    seen: dict[tuple, dict] = {}
    for event in events:
        for r in (event.tax or {}).get("realized_today", []):
            seen[(r.get("sale_id"), r.get("lot_id"), r.get("units"))] = r
    gains = [r.get("proceeds", 0.0) - r.get("basis", 0.0) for r in seen.values()]
    washed = [r for r in seen.values() if r.get("disallowed_loss", 0.0) > 0]
    return dict(realized_gains=sum(g for g in gains if g > 0), realized_losses=-sum(g for g in gains if g < 0),
                wash_sales=len({r.get("sale_id") for r in washed}),
                disallowed_losses=sum(r.get("disallowed_loss", 0.0) for r in washed),
                tax_tracked=any(e.tax for e in events))
