"""Every operation under /api/v1/, read from the served OpenAPI schema: who may call it (anonymous 401, non-staff
403 on writes, staff succeeds) and how it refuses bad input (404 for ids, 400 naming the field), always in the
``{"error", "detail"}`` shape. A new endpoint joins every test below by appearing in the schema; the tables that
need a human's knowledge (a request that succeeds, a body that is wrong) fail until it is added to them."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from api.channels import new_secret
from api.feed_access import create_feed_token
from api.models import ApiKey, Channel, Delivery, EventChange, Subscription
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

SCHEMA = Client(HTTP_HOST="localhost").get("/openapi.json").json()  # collected before "testserver" is allowed
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
OPERATIONS = sorted((method.upper(), path) for path, operations in SCHEMA["paths"].items()
                    if path.startswith("/api/v1/") for method in operations if method.upper() in WRITES | {"GET"})

PUBLIC = {
    ("POST", "/api/v1/auth/token"): "logging in is how an anonymous caller gets a token",
    ("POST", "/api/v1/auth/token/refresh"): "the refresh token in the body is the credential",
}
OWN = "anyone with an identity manages their own alert subscriptions (others' are 404)"
NOT_STAFF_ONLY = {
    ("POST", "/api/v1/tge-events/search/"): "a read with a JSON body (EventViewSet.read_only_actions)",
    ("POST", "/api/v1/feed-tokens/"): "every identity makes its own feed tokens",
    ("DELETE", "/api/v1/feed-tokens/{id}/"): "every identity revokes its own feed tokens",
    ("POST", "/api/v1/subscriptions/"): OWN,
    ("PUT", "/api/v1/subscriptions/{id}/"): OWN,
    ("PATCH", "/api/v1/subscriptions/{id}/"): OWN,
    ("DELETE", "/api/v1/subscriptions/{id}/"): OWN,
    ("POST", "/api/v1/subscriptions/{id}/test/"): OWN,
    ("POST", "/api/v1/subscriptions/{id}/resume/"): OWN,
    ("POST", "/api/v1/subscriptions/{id}/rotate-feed-secret/"): OWN,
    ("POST", "/api/v1/deliveries/{id}/resend/"): OWN,
    **PUBLIC,
}
NON_STAFF_ANSWER = {  # where a non-staff caller's answer is not the staff's nor a 403
    ("DELETE", "/api/v1/feed-tokens/{id}/"): 404,  # the world's token is staff's: another identity's is not found
}
FREE_TEXT = {
    "project": "a name matches events or nothing", "company": "alias of project", "ticker": "likewise",
    "chain": "likewise", "source": "a source name on events (documents take an id)", "q": "free text",
    "token": "a feed token: a wrong one is a 404, not a 400 (test_calendar_and_feed)",
}


def operation(op: tuple[str, str]) -> dict:
    method, path = op
    return SCHEMA["paths"][path][method.lower()]


def path_parameters(op) -> list[str]:
    return [p["name"] for p in operation(op).get("parameters", []) if p["in"] == "path"]


@dataclass(frozen=True)
class Valid:
    """A request staff make successfully: the object that fills the path's id, the body, the answer."""

    status: int
    object: str = ""
    body: dict | Callable[[object], dict] | None = None


VALID = {
    ("POST", "/api/v1/auth/token"): Valid(200, body={"username": "ops", "password": STAFF_PASSWORD}),
    ("POST", "/api/v1/auth/token/refresh"): Valid(200, body=lambda world: {"refresh": world.refresh}),
    ("GET", "/api/v1/documents/"): Valid(200),
    ("GET", "/api/v1/documents/{id}/"): Valid(200, "document"),
    ("GET", "/api/v1/sources/"): Valid(200),
    ("POST", "/api/v1/sources/"): Valid(201, body={"name": "Other", "url": "https://other.example.com/rss"}),
    ("GET", "/api/v1/sources/{id}/"): Valid(200, "source"),
    ("PUT", "/api/v1/sources/{id}/"): Valid(200, "source", {"name": "Wire", "url": "https://news.example.com/atom"}),
    ("PATCH", "/api/v1/sources/{id}/"): Valid(200, "source", {"interval_seconds": 600}),
    ("DELETE", "/api/v1/sources/{id}/"): Valid(204, "source"),
    ("POST", "/api/v1/sources/{id}/sweep/"): Valid(202, "source"),
    ("GET", "/api/v1/system/metrics"): Valid(200),
    ("GET", "/api/v1/events/stream"): Valid(200),  # a stream: its answer starts, the test client reads none of it
    ("GET", "/api/v1/calendar.ics"): Valid(200),
    ("GET", "/api/v1/tge-events/feed.atom"): Valid(200),
    ("GET", "/api/v1/feed-tokens/"): Valid(200),
    ("POST", "/api/v1/feed-tokens/"): Valid(201, body={"name": "my calendar"}),
    ("DELETE", "/api/v1/feed-tokens/{id}/"): Valid(204, "feed_token"),
    ("GET", "/api/v1/tge-events/"): Valid(200),
    ("POST", "/api/v1/tge-events/search/"): Valid(200, body={"filters": {"tickers": ["QSN"]}}),
    ("GET", "/api/v1/tge-events/{id}/"): Valid(200, "event"),
    ("POST", "/api/v1/tge-events/{id}/confirm/"): Valid(200, "event"),
    ("POST", "/api/v1/tge-events/{id}/reject/"): Valid(200, "event"),
    ("POST", "/api/v1/tge-events/{id}/merge/"): Valid(200, "event", lambda world: {"into": world.other_event.pk}),
    ("GET", "/api/v1/subscriptions/"): Valid(200),
    ("POST", "/api/v1/subscriptions/"): Valid(201, body={"name": "Mine", "channels": [
        {"kind": "webhook", "url": "https://hooks.example.com/tge"}]}),
    ("GET", "/api/v1/subscriptions/{id}/"): Valid(200, "subscription"),
    ("PUT", "/api/v1/subscriptions/{id}/"): Valid(200, "subscription", {"name": "Launches", "channels": [
        {"kind": "apprise", "url": "tgram://123456789:abcdefghij/12345"}]}),
    ("PATCH", "/api/v1/subscriptions/{id}/"): Valid(200, "subscription", {"min_confidence": 0.9}),
    ("DELETE", "/api/v1/subscriptions/{id}/"): Valid(204, "subscription"),
    ("POST", "/api/v1/subscriptions/{id}/test/"): Valid(200, "subscription"),
    ("POST", "/api/v1/subscriptions/{id}/resume/"): Valid(200, "subscription"),
    ("POST", "/api/v1/subscriptions/{id}/rotate-feed-secret/"): Valid(200, "subscription"),
    ("GET", "/api/v1/deliveries/"): Valid(200),
    ("GET", "/api/v1/deliveries/{id}/"): Valid(200, "delivery"),
    ("POST", "/api/v1/deliveries/{id}/resend/"): Valid(202, "delivery"),
}

BAD_BODIES = [
    (("POST", "/api/v1/auth/token"), {"username": "ops"}, "password"),
    (("POST", "/api/v1/auth/token/refresh"), {}, "refresh"),
    (("POST", "/api/v1/sources/"), {"name": "Odd", "kind": "carrier-pigeon", "url": "https://example.com"}, "kind"),
    (("POST", "/api/v1/sources/"), {"name": "Inside", "url": "http://169.254.169.254/latest"}, "url"),
    (("PUT", "/api/v1/sources/{id}/"), {"url": "https://news.example.com/rss"}, "name"),
    (("PATCH", "/api/v1/sources/{id}/"), {"interval_seconds": 1}, "interval_seconds"),
    (("PATCH", "/api/v1/sources/{id}/"), {"options": []}, "options"),
    (("POST", "/api/v1/tge-events/search/"), {"filters": {"confidence_min": "very"}}, "confidence_min"),
    (("POST", "/api/v1/tge-events/search/"), {"offset": 10**30}, "offset"),
    (("POST", "/api/v1/tge-events/{id}/merge/"), {"into": "x"}, "into"),
    (("POST", "/api/v1/tge-events/{id}/merge/"), {"into": 999999999}, "into"),
    (("POST", "/api/v1/tge-events/{id}/merge/"), {"into": 10**30}, "into"),
    (("POST", "/api/v1/feed-tokens/"), {"name": "x" * 121}, "name"),
    (("POST", "/api/v1/subscriptions/"), {"name": "Inside", "channels": [
        {"kind": "webhook", "url": "http://169.254.169.254/latest"}]}, "url"),
    (("POST", "/api/v1/subscriptions/"), {"name": "Nowhere", "channels": []}, "channels"),
    (("PUT", "/api/v1/subscriptions/{id}/"), {"name": "Odd", "channels": [{"kind": "pigeon", "url": "x"}]}, "kind"),
    (("PATCH", "/api/v1/subscriptions/{id}/"), {"change_kinds": ["rumoured"]}, "change_kinds"),
    (("PATCH", "/api/v1/subscriptions/{id}/"), {"min_confidence": 2}, "min_confidence"),
]
BAD_IDS = ["999999999", "9" * 30, "abc", "-1", "1.5"]


def bad_query_values(parameter: dict) -> list[str]:
    """Values the parameter's schema rules out; none for free text."""
    schema = parameter["schema"]
    item = schema.get("items", schema)
    if "enum" in item:
        return ["bogus"]
    if item.get("format") == "date":
        return ["2026-13-01"]
    if item.get("format") == "date-time":
        return ["yesterday"]
    if item["type"] == "boolean":
        return ["perhaps"]
    if item.get("pattern", "").startswith("^[0-9]"):  # an id of the event log
        return ["abc", "1-2-3"]
    if item["type"] in ("integer", "number"):
        below = [str(schema["minimum"] - 1)] if "minimum" in schema else []
        return ["abc", "9" * 30, *below]
    return []


def query_parameters() -> list[tuple[tuple[str, str], dict]]:
    return [(op, p) for op in OPERATIONS for p in operation(op).get("parameters", []) if p["in"] == "query"]


BAD_QUERIES = [pytest.param(op, p["name"], value, id=f"{op[0]} {op[1]}?{p['name']}={value[:12]}")
               for op, p in query_parameters() for value in bad_query_values(p)]


def by_name(ops) -> list:
    return [pytest.param(op, id=" ".join(op)) for op in ops]


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """bcrypt's 12 rounds for each of ~180 staff users would dominate the run; what it hashes with is not tested here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(api_objects, staff_user, reader, queued_sweeps, fresh_cache, monkeypatch):
    """The subscription (and its failed delivery) belong to the ``reader`` key, so reader and staff both reach them."""
    api_objects.refresh = str(RefreshToken.for_user(staff_user))
    api_objects.feed_token, _ = create_feed_token("staff calendar", user=staff_user)
    monkeypatch.setattr("workers.enqueue.send_deliveries", lambda ids: None)
    subscription = Subscription.objects.create(name="Launches", owner_key=ApiKey.objects.get(name="reader"),
                                               secret=new_secret())
    channel = Channel.objects.create(subscription=subscription, kind="webhook", url="https://hooks.example.com/tge")
    change = EventChange.objects.create(event=api_objects.event, kind="new")
    api_objects.subscription = subscription
    api_objects.delivery = Delivery.objects.create(channel=channel, subscription=subscription,
                                                   event=api_objects.event, change=change, state="failed")
    return api_objects


def send(client, op, world, *, path_id: str | None = None, body=None, raw: str | None = None, query: str = ""):
    """``op`` as its valid request, with the id, the body or the query replaced when given."""
    method, path = op
    valid = VALID.get(op)
    assert valid is not None, f"{op} is new: add a request that succeeds to VALID"
    if path_id is None and valid.object:
        path_id = str(getattr(world, valid.object).pk)
    url = re.sub(r"\{[^}]+\}", path_id or "", path) + (f"?{query}" if query else "")
    if raw is None:
        body = valid.body if body is None else body
        body = body(world) if callable(body) else body
        raw = "" if body is None else json.dumps(body)
    return client.generic(method, url, raw, content_type="application/json")


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, (status, response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error", "detail"} and isinstance(body["error"], str) and body["error"], body
    if field is not None:
        assert field in body["error"] and body["detail"], body
    return body


# --- the tables match the schema ----------------------------------------------------------------------

def test_the_exceptions_name_operations_that_exist():
    assert set(NOT_STAFF_ONLY) <= set(OPERATIONS)
    assert all(method in WRITES for method, _ in NOT_STAFF_ONLY)
    assert set(PUBLIC) == {op for op in OPERATIONS if not operation(op).get("security")}
    free_text = {p["name"] for _, p in query_parameters() if not bad_query_values(p)}
    assert free_text == set(FREE_TEXT)


def test_every_operation_has_a_valid_request_and_every_body_a_bad_one():
    assert set(VALID) == set(OPERATIONS)
    assert {op for op, _, _ in BAD_BODIES} == {op for op in OPERATIONS if "requestBody" in operation(op)}


# --- access ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", by_name(OPERATIONS))
def test_anonymous_callers_are_refused_except_where_public(op, anon, world):
    response = send(anon, op, world)
    if op in PUBLIC:
        assert response.status_code == VALID[op].status, response.content
    else:
        assert_error(response, 401)


@pytest.mark.parametrize("op", by_name(OPERATIONS))
def test_non_staff_may_read_but_not_write(op, reader, world):
    response = send(reader, op, world)
    if op in NON_STAFF_ANSWER:
        assert_error(response, NON_STAFF_ANSWER[op])
    elif op[0] in WRITES and op not in NOT_STAFF_ONLY:
        assert_error(response, 403)
    else:
        assert response.status_code == VALID[op].status, response.content


@pytest.mark.parametrize("op", by_name(OPERATIONS))
def test_staff_succeed_with_a_documented_status(op, staff, world):
    response = send(staff, op, world)
    assert response.status_code == VALID[op].status, response.content
    assert str(response.status_code) in operation(op)["responses"]


# --- validation -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", by_name(op for op in OPERATIONS if path_parameters(op)))
@pytest.mark.parametrize("path_id", BAD_IDS)
def test_an_id_that_names_nothing_is_a_404(op, path_id, staff, world):
    assert_error(send(staff, op, world, path_id=path_id), 404)


@pytest.mark.parametrize("op, name, value", BAD_QUERIES)
def test_a_bad_query_value_is_a_400_naming_the_parameter(op, name, value, staff, world):
    assert_error(send(staff, op, world, query=f"{name}={value}"), 400, name)


@pytest.mark.parametrize("op, body, field", [pytest.param(*row, id=f"{' '.join(row[0])} {row[2]}")
                                             for row in BAD_BODIES])
def test_a_bad_body_is_a_400_naming_the_field(op, body, field, staff, world):
    assert_error(send(staff, op, world, body=body), 400, field)


@pytest.mark.parametrize("op", by_name(op for op in OPERATIONS if "requestBody" in operation(op)))
@pytest.mark.parametrize("raw", ['{"into": ', "[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_is_a_400(op, raw, staff, world):
    assert_error(send(staff, op, world, raw=raw), 400)
