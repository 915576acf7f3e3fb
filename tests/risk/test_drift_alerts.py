"""Drift alert levels (src/risk/drift_alerts.py): pure rules."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from src.models.execution_models import AlertSettings
from src.risk.drift_alerts import LEVELS, drift_check, level_of, should_record, unit_drifts

SETTINGS = AlertSettings()
TARGETS = {"AMD": 0.3, "XOM": 0.3, "JNJ": 0.4}


def test_level_when_drift_crosses_each_threshold_then_none_warning_critical():
    assert [level_of(d, SETTINGS) for d in (0.0, 0.0499, 0.05, 0.0999, 0.10, 1.0)] == \
        ["none", "none", "warning", "warning", "critical", "critical"]


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_level_when_drift_grows_then_never_falls(a, b):
    low, high = sorted((a, b))
    assert LEVELS.index(level_of(low, SETTINGS)) <= LEVELS.index(level_of(high, SETTINGS))


@given(st.dictionaries(st.sampled_from(["AMD", "XOM", "JNJ"]), st.floats(0.0, 0.3), min_size=3),
       st.floats(0.0, 0.9))
def test_check_when_an_excluded_unit_is_held_then_level_not_raised(weights, held):
    # The same holdings with an excluded unit of any size beside them: the rest keeps its proportions.
    rest = 1.0 - held
    with_excluded = {**{u: w * rest for u, w in weights.items()}, "BNB": held}
    alone = drift_check(weights, TARGETS, SETTINGS)
    beside = drift_check(with_excluded, TARGETS, SETTINGS, exclude=["BNB"])
    assert beside.level == alone.level and "BNB" not in beside.drifts
    assert beside.max_drift == pytest.approx(alone.max_drift, abs=1e-9)


def test_check_when_one_unit_past_critical_then_it_is_named_with_its_drift():
    check = drift_check({"AMD": 0.42, "XOM": 0.22, "JNJ": 0.36}, TARGETS, SETTINGS)
    assert check.level == "critical" and check.units == pytest.approx({"AMD": 0.12})
    assert check.max_drift == pytest.approx(0.12)


def test_drifts_when_a_substitute_without_target_is_held_then_it_counts_as_its_original():
    drifts = unit_drifts({"AMD": 0.3, "PG": 0.3, "JNJ": 0.4}, TARGETS, substitutes={"XOM": "PG"})
    assert drifts == pytest.approx({"AMD": 0.0, "XOM": 0.0, "JNJ": 0.0})


def test_record_when_level_rises_or_clears_then_true_and_when_it_eases_then_false():
    assert should_record("none", "warning") and should_record("warning", "critical")
    assert should_record("critical", "none") and not should_record("critical", "warning")
    assert not should_record("none", "none") and not should_record("warning", "warning")


@pytest.mark.parametrize("values", [{"drift_warning": 0.1, "drift_critical": 0.1},
                                    {"drift_warning": 0.2, "drift_critical": 0.1},
                                    {"drift_warning": 0.0}, {"drift_critical": 1.5}, {"level": 1}])
def test_settings_when_thresholds_invalid_then_refused(values):
    with pytest.raises(ValidationError):
        AlertSettings(**values)


def test_event_id_when_same_moment_and_level_then_same():
    from src.risk.drift_alerts import alert_event_id

    moment = datetime(2020, 3, 17)
    assert alert_event_id("P", moment, "critical") == alert_event_id("P", moment, "critical")
    assert alert_event_id("P", moment, "critical") != alert_event_id("P", moment, "warning")


@settings(max_examples=200, deadline=None)
@given(drift=st.floats(0.0, 1.0), previous=st.sampled_from(["none", "warning", "critical"]),
       ratio=st.floats(0.5, 1.0))
def test_held_level_when_any_drift_then_never_below_plain_level_and_held_only_near_threshold(drift, previous, ratio):
    from src.risk.drift_alerts import LEVELS, held_level, level_of

    alerts = AlertSettings(clear_ratio=ratio)
    held, plain = held_level(drift, previous, alerts), level_of(drift, alerts)
    assert LEVELS.index(held) >= LEVELS.index(plain)
    assert LEVELS.index(held) <= max(LEVELS.index(plain), LEVELS.index(previous))
    if held != plain:
        threshold = alerts.drift_critical if held == "critical" else alerts.drift_warning
        assert threshold * ratio <= drift < threshold


def test_held_level_when_warning_drifts_to_4_5_percent_then_held_and_under_4_then_cleared():
    from src.risk.drift_alerts import held_level

    alerts = AlertSettings()  # warning 5%, clear_ratio 0.8
    assert held_level(0.045, "warning", alerts) == "warning" and held_level(0.039, "warning", alerts) == "none"
    assert held_level(0.085, "critical", alerts) == "critical" and held_level(0.079, "critical", alerts) == "warning"
    assert held_level(0.045, "none", alerts) == "none"
