"""Fuzzing portfolio files through main.py: one line and exit 2 on bad input, never a traceback (issue 8)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main as main_module

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
KEYS = st.sampled_from(["name", "target_allocations", "rebalancing_method", "rebalancing_params", "risk_limits",
                        "risk_policy", "fee_model", "initial_cash", "slippage_bps", "replay_start", "tax",
                        "event_triggers", "min_drift", "KO", "PG", "api_key", "frequency"])
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
FILES = st.one_of(
    VALUES,
    st.fixed_dictionaries({"portfolio": st.dictionaries(KEYS, VALUES, max_size=6)},
                          optional={"runtime": st.dictionaries(KEYS, VALUES, max_size=4)}),
    st.fixed_dictionaries({"portfolio": st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=20),
         "target_allocations": st.dictionaries(st.sampled_from(["KO", "PG", "JNJ", "NOPE", "rsi_strategy"]),
                                               st.floats(allow_nan=True, allow_infinity=True), max_size=4)},
        optional={"rebalancing_method": st.sampled_from(["threshold", "calendar", "cost_aware", "hybrid", "x"]),
                  "rebalancing_params": st.dictionaries(KEYS, SCALARS, max_size=3),
                  "risk_limits": st.dictionaries(KEYS, SCALARS, max_size=3)})}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=FILES)
def test_main_when_any_json_portfolio_file_then_exit_0_or_2_and_one_line(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("fuzz")
    config = folder / "cfg.json"
    config.write_text(json.dumps(content))
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main_module.main(["--once", "--config", str(config), "--data-dir", str(folder / "d")])
    assert code in (0, 2), err.getvalue()
    if code == 2:
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()
        assert not (folder / "d").exists() or [p.name for p in (folder / "d").iterdir()] in ([], [".lock"])
