"""The weekly report's start value: the last cycle before the week only if it is at most a week
older; otherwise the week's first (a replay months ago is not this week's return)."""

from __future__ import annotations

from datetime import date, datetime

from src.models.execution_models import AlertSettings, ValuePoint
from src.service.report import weekly_report

TARGETS = {"AAPL": 1.0}


def _report(points):
    history = [ValuePoint(timestamp=t, value=v, cash=0.0, weights={"AAPL": 1.0}) for t, v in points]
    return weekly_report("p", [], history, week_ending=date(2022, 12, 28), configured_targets=TARGETS,
                         alerts=AlertSettings())


def test_report_when_previous_cycle_months_old_then_week_starts_at_its_first_cycle():
    report = _report([(datetime(2022, 1, 4), 99_192.94), (datetime(2022, 12, 28), 72_828.30)])
    assert report.value_start == 72_828.30 and report.value_start_at == datetime(2022, 12, 28)
    assert report.time_weighted_return == 0.0


def test_report_when_previous_cycle_within_a_week_then_the_return_starts_there():
    report = _report([(datetime(2022, 12, 20), 80_000.0), (datetime(2022, 12, 28), 72_000.0)])
    assert report.value_start_at == datetime(2022, 12, 20) and round(report.time_weighted_return, 6) == -0.1
