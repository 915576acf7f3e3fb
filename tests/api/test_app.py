"""The HTTP API's endpoints (src/api/app.py) on a real uvicorn server: bodies, idempotent execute,
serialised concurrent requests, the same plan as the Python API, OpenAPI, and the failure codes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading

from src.service import rebalance as svc
from tests.api.conftest import AUTH, PATHS, ROOT, SAMPLE

TAX_ON = {"portfolio": {"name": "Taxed", "target_allocations": {"KO": 0.35, "PEP": 0.35, "JNJ": 0.3},
                        "rebalancing_method": "calendar",
                        "risk_limits": {"max_single_strategy": 1.0, "min_single_strategy": 0.0}},
          "runtime": {"tax": {"substitutes": {"KO": "PG", "PEP": "WMT", "JNJ": "MRK"}}}}


def _execute(api, plan_id: str):
    return api.client.post("/api/rebalance/execute", json={"plan_id": plan_id}, headers=AUTH)


def test_preview_then_execute_twice_when_same_plan_id_then_one_event_one_set_of_orders(api):
    plan = api.client.get("/api/rebalance/preview", headers=AUTH).json()
    assert plan["status"] == "orders" and len(plan["orders"]) == 4
    first = _execute(api, plan["plan_id"])
    assert first.status_code == 200, first.text
    done = first.json()
    assert done["executed"] and not done["already_executed"] and done["event"]["event_id"] == plan["plan_id"]
    assert [o["client_order_id"] for o in done["event"]["orders"]] == [o["client_order_id"] for o in plan["orders"]]
    again = _execute(api, plan["plan_id"]).json()
    assert again["already_executed"] and not again["executed"] and again["event"] == done["event"]
    assert len(api.event_files()) == 1 and api.orders_sent() == len(plan["orders"])
    history = api.client.get("/api/rebalance/history", headers=AUTH).json()
    assert [e["event_id"] for e in history["events"]] == [plan["plan_id"]]
    status = api.client.get("/api/rebalance/status", headers=AUTH).json()
    assert status["last_event"]["event_id"] == plan["plan_id"] and status["cash"] < 1


def test_execute_when_plan_id_stale_then_409_one_line_and_nothing_sent(api):
    response = _execute(api, "0000000000000000")
    assert response.status_code == 409
    assert "is stale" in response.json()["message"] and "\n" not in response.json()["message"]
    assert not api.event_files() and api.orders_sent() == 0


def test_execute_when_two_concurrent_posts_of_one_plan_id_then_one_set_of_orders(api):
    plan_id = api.client.get("/api/rebalance/preview", headers=AUTH).json()["plan_id"]
    barrier, results = threading.Barrier(4), []

    def post() -> None:
        barrier.wait()
        results.append(_execute(api, plan_id))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r.status_code for r in results] == [200] * 4
    bodies = [r.json() for r in results]
    assert sum(b["executed"] for b in bodies) == 1 and sum(b["already_executed"] for b in bodies) == 3
    assert len({json.dumps(b["event"], sort_keys=True) for b in bodies}) == 1
    assert len(api.event_files()) == 1 and api.orders_sent() == 4


def test_preview_when_fresh_account_then_same_plan_as_python_api(api, tmp_path):
    over_http = api.client.get("/api/rebalance/preview", headers=AUTH).json()
    with svc.open_agent(SAMPLE, tmp_path / "python") as agent:
        in_python = svc.preview(agent).model_dump(mode="json")
    assert over_http["plan_id"] == in_python["plan_id"] and over_http["orders"] == in_python["orders"]
    assert over_http == in_python


def test_status_when_new_account_then_positions_against_targets_and_no_event(api):
    status = api.client.get("/api/rebalance/status", headers=AUTH).json()
    assert status["portfolio"] == "Sample Multi-Strategy Portfolio" and status["value"] == status["cash"] == 100000
    assert {p["unit"] for p in status["positions"]} >= {"momentum_strategy", "low_vol_strategy"}
    assert status["last_event"] is None and status["max_abs_drift"] > 0


def test_history_when_limit_and_since_then_filtered(api):
    _execute(api, api.client.get("/api/rebalance/preview", headers=AUTH).json()["plan_id"])
    get = lambda query: api.client.get(f"/api/rebalance/history?{query}", headers=AUTH).json()["events"]  # noqa: E731
    assert len(get("limit=1")) == 1 and get("since=2022-12-28")[0]["orders"] == 4
    assert get("since=2022-12-29") == []


def test_models_when_asked_then_every_model_with_demo_targets(shared_api):
    models = shared_api.client.get("/api/rebalance/models", headers=AUTH).json()["models"]
    by_name = {m["name"]: m for m in models}
    assert {"all_weather", "sixty_forty", "permanent", "profile_growth"} <= set(by_name)
    assert abs(sum(by_name["all_weather"]["demo_targets"].values()) - 1) < 1e-9


def test_harvest_when_tax_tracking_off_then_409_and_when_on_then_preview(api, serve, tmp_path):
    off = api.client.get("/api/rebalance/harvest", headers=AUTH)
    assert off.status_code == 409 and off.json()["message"].startswith("tax tracking is off")
    config = tmp_path / "taxed.json"
    config.write_text(json.dumps(TAX_ON))
    on = serve(config).client.get("/api/rebalance/harvest", headers=AUTH)
    assert on.status_code == 200, on.text
    assert set(on.json()) >= {"as_of", "harvest_candidates", "orders"}


def test_openapi_when_fetched_then_six_paths_documented_with_bearer_and_docs_html(shared_api):
    spec = shared_api.client.get("/openapi.json").json()
    assert sorted(spec["paths"]) == sorted(PATHS)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert spec["components"]["schemas"]["ExecuteRequest"]["additionalProperties"] is False
    execute = spec["paths"]["/api/rebalance/execute"]["post"]
    assert execute["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ExecuteResult")
    assert {"401", "409", "422", "423", "500"} <= set(execute["responses"])
    docs = shared_api.client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"] and "swagger" in docs.text.lower()


def test_request_when_another_process_holds_the_account_then_423_one_line(api):
    api.data_dir.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from src.utils.account_lock import AccountLock; "
                               f"held = AccountLock({str(api.data_dir)!r}).acquire(); print('held', flush=True); "
                               "sys.stdin.read()"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        response = api.client.get("/api/rebalance/status", headers=AUTH)
        assert response.status_code == 423 and f"process {holder.pid}" in response.json()["message"]
    finally:
        holder.communicate("", timeout=30)
    assert api.client.get("/api/rebalance/status", headers=AUTH).status_code == 200


def test_request_when_portfolio_file_breaks_after_start_then_400_naming_the_file(serve, tmp_path):
    config = tmp_path / "p.json"
    config.write_text(SAMPLE.read_text())
    server = serve(config)
    config.write_text('{"portfolio": ')
    response = server.client.get("/api/rebalance/status", headers=AUTH)
    assert response.status_code == 400 and str(config) in response.json()["message"]
    assert "Traceback" not in response.text


def test_request_when_data_dir_is_a_file_then_500_one_line(serve, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    response = serve(SAMPLE, data_dir=blocker).client.get("/api/rebalance/status", headers=AUTH)
    assert response.status_code == 500 and "\n" not in response.json()["message"]
    assert "Traceback" not in response.text


def test_request_when_unexpected_exception_then_500_one_line_and_logged(api, monkeypatch, caplog):
    def boom(agent):
        raise RuntimeError("secret internals\nsecond line")

    monkeypatch.setattr(svc, "status", boom)
    with caplog.at_level(logging.ERROR, logger="src.api.app"):
        response = api.client.get("/api/rebalance/status", headers=AUTH)
    assert response.status_code == 500 and response.json()["message"] == "internal error (RuntimeError): logged on the server"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
