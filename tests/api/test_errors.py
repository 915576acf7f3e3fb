"""Malformed requests (src/api/errors.py): 422 whose one-line message names the field, and a
hypothesis sweep of generated bodies, query strings and headers against a real server: no 500,
no traceback, every 422 naming its field, every error one line."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.api.errors import loc_text, validation_message
from tests.api.conftest import AUTH, PATHS, TOKEN

EXECUTE = "/api/rebalance/execute"
JSON = {"Content-Type": "application/json"}
FRAMING = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "authorization",
           "content-type", "te", "trailer", "keep-alive"}


def check_error_shape(response) -> None:
    """What every answer to a malformed request must be: no 500, no traceback, one line, the field named."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code < 400:
        return
    body = response.json()
    assert body["message"] and "\n" not in body["message"]
    if response.status_code == 422:
        wheres = ["body" if i["type"] == "json_invalid" else loc_text(i["loc"]) for i in body["detail"]]
        assert wheres and all(w.startswith(("body", "query.limit", "query.since")) for w in wheres)
        assert any(body["message"].startswith(f"{w}: ") for w in wheres), body


@pytest.mark.parametrize("body, content_type, field", [
    ('{}', "application/json", "body.plan_id: Field required"),
    ('{"plan_id": "64E7A55CCE166974"}', "application/json", "body.plan_id: String should match pattern"),
    ('{"plan_id": "64e7a55cce16697"}', "application/json", "body.plan_id: String should match pattern"),
    ('{"plan_id": 1234567890123456}', "application/json", "body.plan_id: Input should be a valid string"),
    ('{"plan_id": "64e7a55cce166974", "confirm": true}', "application/json", "body.confirm: Extra inputs"),
    ('{"plan_id": ', "application/json", "body: not valid JSON"),
    ("plan_id=64e7a55cce166974", "application/x-www-form-urlencoded", "body: send a JSON object"),
    ("", "application/json", "body: Field required"),
    ("[]", "application/json", "body: Input should be a valid dictionary"),
])
def test_execute_when_body_malformed_then_422_naming_the_field(shared_api, body, content_type, field):
    response = shared_api.client.post(EXECUTE, content=body, headers=AUTH | {"Content-Type": content_type})
    assert response.status_code == 422 and response.json()["message"].startswith(field), response.text
    check_error_shape(response)


@pytest.mark.parametrize("query, field", [("limit=0", "query.limit"), ("limit=x", "query.limit"),
                                          ("limit=100001", "query.limit"), ("since=yesterday", "query.since"),
                                          ("since=2022-13-01", "query.since"), ("limit=-1&since=2022-02-30", "query.")])
def test_history_when_query_malformed_then_422_naming_the_field(shared_api, query, field):
    response = shared_api.client.get(f"/api/rebalance/history?{query}", headers=AUTH)
    assert response.status_code == 422 and response.json()["message"].startswith(field), response.text


def test_validation_message_when_many_errors_then_extra_key_first_and_capped():
    errors = [{"loc": ("body", f"k{i}"), "msg": "Field required", "type": "missing"} for i in range(7)]
    errors.append({"loc": ("body", "extra"), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"})
    message = validation_message(errors)
    assert message.startswith("body.extra: Extra inputs") and message.endswith("; and 3 more")


def test_execute_when_body_not_utf8_json_then_422_naming_the_body(shared_api):
    response = shared_api.client.post(EXECUTE, content=b'{"plan_id": "\xff\xfe"}', headers=AUTH | JSON)
    check_error_shape(response)
    assert response.status_code == 422 and response.json()["message"] == "body: not valid JSON (not UTF-8 text: byte 13)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
plan_ids = st.one_of(st.text(max_size=24), st.from_regex(r"[0-9a-fA-F]{14,18}", fullmatch=True), json_values)
bodies = st.one_of(
    st.builds(lambda pid: json.dumps({"plan_id": pid}), plan_ids),
    st.builds(lambda pid, extra: json.dumps({**extra, "plan_id": pid}), plan_ids,
              st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=2)),
    json_values.map(json.dumps),
    st.text(max_size=40),
    st.binary(max_size=40))
content_types = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "application/problem+json", "multipart/form-data", "application/json; charset=latin-1"])
query_values = st.one_of(st.integers(), st.text(max_size=16), st.dates().map(str), st.datetimes().map(str),
                         st.floats().map(str))
header_values = st.from_regex(r"[!-~]([ -~]{0,30}[!-~])?", fullmatch=True)
extra_headers = st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
                                .filter(lambda k: k.lower() not in FRAMING), header_values, max_size=4)
SWEEP = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SWEEP
@given(body=bodies, content_type=content_types)
def test_execute_when_generated_bodies_then_never_500_and_every_422_names_the_field(shared_api, body, content_type):
    headers = AUTH | ({} if content_type is None else {"Content-Type": content_type})
    response = shared_api.client.post(EXECUTE, content=body.encode() if isinstance(body, str) else body, headers=headers)
    check_error_shape(response)
    assert response.status_code in (409, 422), response.text  # no generated id is the current plan


@SWEEP
@given(params=st.dictionaries(st.sampled_from(["limit", "since", "other"]), query_values, max_size=3),
       raw=st.text(max_size=20))
def test_history_when_generated_query_strings_then_never_500_and_every_422_names_the_field(shared_api, params, raw):
    response = shared_api.client.get("/api/rebalance/history", params=params, headers=AUTH)
    check_error_shape(response)
    assert response.status_code in (200, 422)
    check_error_shape(shared_api.client.get(f"/api/rebalance/history?{quote(raw, safe='=&;%')}", headers=AUTH))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), headers=extra_headers, authorization=st.one_of(st.none(), header_values))
def test_endpoints_when_generated_headers_then_never_500_and_wrong_tokens_401(shared_api, path, headers, authorization):
    sent = headers | ({} if authorization is None else {"Authorization": authorization})
    response = (shared_api.client.post(path, json={"plan_id": "0" * 16}, headers=sent) if path == EXECUTE
                else shared_api.client.get(path, headers=sent))
    check_error_shape(response)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    with_token = (shared_api.client.post(path, json={"plan_id": "0" * 16}, headers=headers | AUTH) if path == EXECUTE
                  else shared_api.client.get(path, headers=headers | AUTH))
    check_error_shape(with_token)
    assert with_token.status_code in (200, 409), (path, with_token.text)
    assert TOKEN not in response.text


def test_loc_text_when_unknown_key_has_newline_or_is_long_then_quoted_on_one_line():
    assert loc_text(("body", "plan_id")) == "body.plan_id"
    assert loc_text(("body", "a\nb")) == "body.'a\\nb'"
    assert loc_text(("body", "k" * 60)) == "body.'" + "k" * 40 + "...'"
