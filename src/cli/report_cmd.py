"""``kit rebalance report``: the weekly report (and the alert lines ``kit rebalance status`` prints).

The figures come from ``src/service/report.py`` (pure, over the journal and the value history);
this module opens the account, renders text or JSON, and with ``--png FILE`` draws the week's
weights against their targets and the drift against the alert thresholds (matplotlib, Agg,
written atomically).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import click
from termcolor import colored

from src.cli.common import NOTHING, account_options, emit, run
from src.service import rebalance as svc
from src.service.report import NoHistoryError, WeeklyReport, weekly_report

ALERT_COLOUR = {"none": "green", "warning": "yellow", "critical": "red", "off": None}


def alert_lines(view: svc.StatusView) -> list[str]:
    """The drift alert level now and the last journaled alert (yellow warning, red critical)."""
    units = ", ".join(f"{u} {d:+.2%}" for u, d in view.alert_units.items())
    lines = [colored(f"drift alert: {view.alert_level}" + (f" ({units})" if units else ""),
                     ALERT_COLOUR.get(view.alert_level))]
    last = view.last_alert
    if last is not None:
        lines.append(f"last alert: {last.timestamp:%Y-%m-%d} {last.message}")
    return lines


def _day(text: Optional[str]) -> Optional[date]:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--week-ending {text!r} is not a date (YYYY-MM-DD)") from None


def report_lines(r: WeeklyReport) -> list[str]:
    """The report as text."""
    lines = [f"{r.portfolio}: week {r.week_start} .. {r.week_ending} ({len(r.points)} cycle(s))",
             f"  value {r.value_start:,.2f} -> {r.value_end:,.2f}  return {r.time_weighted_return:+.2%}"
             + (f"  net flows {r.net_flows:+,.2f}" if r.net_flows else ""),
             f"  drift start {r.drift_start:.2%}  end {r.drift_end:.2%}  max {r.drift_max:.2%} on "
             f"{r.drift_max_at:%Y-%m-%d}  (warning {r.thresholds['drift_warning']:.0%}, critical "
             f"{r.thresholds['drift_critical']:.0%})",
             f"  alerts: {len(r.alerts)}"]
    lines += [colored(f"    {a['timestamp']:%Y-%m-%d} {a['message']}", ALERT_COLOUR.get(a["level"]))
              for a in r.alerts]
    lines.append(f"  trades: {r.trades}, traded {r.traded_notional:,.2f}, turnover {r.turnover:.2%}, "
                 f"fees {r.fees:,.2f}")
    lines.append(f"  taxes: realised gains {r.realized_gains:,.2f}, losses {r.realized_losses:,.2f}, "
                 f"wash sales {r.wash_sales} (disallowed {r.disallowed_losses:,.2f})" if r.tax_tracked
                 else "  taxes: not tracked")
    lines.append(f"  risk verdicts not pass: {len(r.risk_verdicts)}")
    lines += [f"    {v['timestamp']:%Y-%m-%d} {v['status']}: {v['limit']} {v['action']} ({v['reason_code']})"
              + (f" x{v['repeats'] + 1}" if v["repeats"] else "") for v in r.risk_verdicts]
    lines.append(f"  engine failures: {len(r.engine_failures)}")
    lines += [f"    {f['timestamp']:%Y-%m-%d} {f['message']}" for f in r.engine_failures]
    return lines


def save_report_png(r: WeeklyReport, path: Path) -> Path:
    """Weights against targets over the week, and the max drift against the alert thresholds."""
    from matplotlib.ticker import PercentFormatter

    from src.dashboard.charts import plt, save_png  # Agg backend, atomic write

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    times = [p.timestamp for p in r.points]
    units = list(dict.fromkeys(u for p in r.points for u in [*p.targets, *p.weights]))
    for i, unit in enumerate(units):
        colour = f"C{i % 10}"
        top.plot(times, [p.weights.get(unit, 0.0) for p in r.points], color=colour, marker=".", label=unit)
        top.plot(times, [p.targets.get(unit, 0.0) for p in r.points], color=colour, linestyle="--", linewidth=0.8)
    top.set_title(f"{r.portfolio}: weights (solid) vs targets (dashed), {r.week_start} .. {r.week_ending}")
    top.legend(fontsize=8)
    bottom.plot(times, [p.max_drift for p in r.points], color="black", marker=".", label="max |drift|")
    bottom.axhline(r.thresholds["drift_warning"], color="orange", linestyle="--", label="warning")
    bottom.axhline(r.thresholds["drift_critical"], color="red", linestyle="--", label="critical")
    bottom.set_title("drift and the alert levels")
    bottom.legend(fontsize=8)
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    fig.autofmt_xdate()
    return save_png(fig, path)


def _last_day(agent) -> date:
    """The newest cycle's day (a finished replay's last day, not the data's), else the clock's."""
    history = agent.state.history
    return history[-1].timestamp.date() if history else agent.clock.now().date()


@click.command()
@account_options
@click.option("--week-ending", "week_ending", metavar="YYYY-MM-DD",
              help="last day of the 7-day week [default: the day of the last cycle in the history]")
@click.option("--png", "png", type=click.Path(path_type=Path), help="also draw the week's chart into this PNG file")
def report(config: Path, data_dir: Path, as_json: bool, week_ending: Optional[str], png: Optional[Path]) -> None:
    """The weekly report: value and return, drift, alerts, trades, fees, taxes, risk verdicts, failures."""
    def go() -> int:
        day = _day(week_ending)
        if png is not None and png.is_dir():
            raise ValueError(f"--png {png} is a folder: give the PNG file's name (e.g. {png / 'report.png'})")
        if png is not None and not png.parent.is_dir():
            raise ValueError(f"--png {png}: folder {png.parent} does not exist")
        with svc.open_agent(config, data_dir) as agent:
            tax = agent.settings.tax
            try:
                found = weekly_report(agent.config.name, agent.rebalancing_history, agent.state.history,
                                      week_ending=day or _last_day(agent),
                                      configured_targets=agent.config.target_allocations, alerts=agent.settings.alerts,
                                      exclude=agent.config.exclude_assets,
                                      substitutes=tax.substitutes if tax else None)
            except NoHistoryError as exc:
                click.echo(str(exc), err=True)
                return NOTHING
        lines = report_lines(found)
        if png is not None:
            lines.append(f"chart: {save_report_png(found, png)}")
        emit(as_json, found, lines)
        return 0
    run(go)
