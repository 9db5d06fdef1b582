"""How Django serves the dashboard: the SPA fallback at /app/ with its Content-Security-Policy, and the login whose
refresh token lives in an HttpOnly, SameSite=Strict cookie (rotated on refresh, blacklisted on logout)."""
from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.dashboard import COOKIE_PATH, REFRESH_COOKIE

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def built(settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>dashboard</title>")
    settings.DASHBOARD_DIST = tmp_path
    return tmp_path


@pytest.fixture
def browser(fresh_cache):
    """A client that, like a browser, holds the cookies and must send the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.get("/app/")
    return client


def post(client: Client, path: str, body=None, **extra):
    return client.post(path, json.dumps(body) if body is not None else b"", content_type="application/json",
                       HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **extra)


@pytest.fixture
def ann(db):
    return User.objects.create_user("ann", password=PASSWORD)


def test_every_client_route_gets_the_page_with_its_policy_and_a_csrf_cookie(built, client):
    for path in ("/app", "/app/", "/app/events", "/app/events/12?status=live", "/app/calendar?view=week"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content == b"<!doctype html><title>dashboard</title>"
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert "csrftoken" in response.cookies
        assert "no-cache" in response["Cache-Control"]


def test_an_unbuilt_dashboard_says_how_to_build_it(settings, tmp_path, client):
    settings.DASHBOARD_DIST = tmp_path / "missing"
    response = client.get("/app/")
    assert response.status_code == 503 and b"make dashboard" in response.content


def test_login_sets_the_refresh_token_in_an_httponly_strict_cookie_only(built, browser, ann):
    response = post(browser, "/app/auth/login", {"username": "ann", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "access_expires_at", "user"} and body["user"] == {"username": "ann", "is_staff": False}
    cookie = response.cookies[REFRESH_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == COOKIE_PATH
    assert cookie.value not in response.content.decode()
    api = Client().get("/api/v1/tge-events", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api.status_code == 200


def test_a_wrong_password_or_a_hostile_body_gets_no_cookie(built, browser, ann):
    for body, status in (({"username": "ann", "password": "nope"}, 401), ({"username": "ann"}, 400),
                         (["ann", PASSWORD], 400), ({"username": 1, "password": 2}, 400),
                         ({"username": "ann", "password": "x" * 5000}, 400)):
        response = post(browser, "/app/auth/login", body)
        assert response.status_code == status, body
        assert not response.cookies.get(REFRESH_COOKIE) or not response.cookies[REFRESH_COOKIE].value
        assert response.json()["error"]
    garbage = browser.post("/app/auth/login", b"{not json", content_type="application/json",
                           HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert garbage.status_code == 400


def test_the_auth_endpoints_need_the_csrf_token(built, browser, ann):
    for path in ("/app/auth/login", "/app/auth/refresh", "/app/auth/logout"):
        assert browser.post(path, json.dumps({"username": "ann", "password": PASSWORD}),
                            content_type="application/json").status_code == 403, path
    assert browser.get("/app/auth/refresh").status_code == 405


def test_refresh_rotates_the_cookie_and_the_old_one_is_refused(built, browser, ann):
    post(browser, "/app/auth/login", {"username": "ann", "password": PASSWORD})
    first = browser.cookies[REFRESH_COOKIE].value
    renewed = post(browser, "/app/auth/refresh")
    assert renewed.status_code == 200 and renewed.json()["access"]
    assert browser.cookies[REFRESH_COOKIE].value != first
    browser.cookies[REFRESH_COOKIE] = first
    refused = post(browser, "/app/auth/refresh")
    assert refused.status_code == 401 and refused.cookies[REFRESH_COOKIE].value == ""


def test_logout_clears_the_cookie_and_ends_the_session(built, browser, ann):
    post(browser, "/app/auth/login", {"username": "ann", "password": PASSWORD})
    token = browser.cookies[REFRESH_COOKIE].value
    response = post(browser, "/app/auth/logout")
    assert response.status_code == 200 and response.cookies[REFRESH_COOKIE].value == ""
    browser.cookies[REFRESH_COOKIE] = token
    assert post(browser, "/app/auth/refresh").status_code == 401


def test_a_disabled_account_cannot_refresh(built, browser, ann):
    post(browser, "/app/auth/login", {"username": "ann", "password": PASSWORD})
    User.objects.filter(pk=ann.pk).update(is_active=False)
    assert post(browser, "/app/auth/refresh").status_code == 401


def test_the_metrics_page_series_count_what_happened(reader, fresh_cache, db):
    """The series the Metrics page charts: events per day by status, documents per hour, failures per source and
    the publication → persisted delay of what persist recorded (reviews left out)."""
    from datetime import timedelta

    from django.utils import timezone

    from api.models import Document, EventChange, PipelineFailure, Source, TGEEvent

    now = timezone.now()
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss", failure_count=3)
    for n, status in enumerate(("scheduled", "scheduled", "live")):
        event = TGEEvent.objects.create(key=f"e{n}", project=f"E{n}", status=status, published=True,
                                        first_seen_at=now - timedelta(minutes=5))
        Document.objects.create(source=wire, external_id=str(n), content_hash=str(n), published_at=now,
                                fetched_at=now - timedelta(minutes=1))
        EventChange.objects.create(event=event, kind="new", batch_id=f"b{n}", created_at=now,
                                   published_at=now - timedelta(seconds=10 * (n + 1)))
    EventChange.objects.create(event=event, kind="confirmed", created_at=now, published_at=now - timedelta(days=9))
    PipelineFailure.objects.create(source=wire, stage="parse", error="bad item")
    series = reader.get("/api/v1/system/metrics").json()["series"]
    today = [p for p in series["events_per_day"] if p["day"] == now.date().isoformat()]
    assert sorted((p["status"], p["count"]) for p in today) == [("live", 1), ("scheduled", 2)]
    assert sum(p["count"] for p in series["documents_per_hour"]) == 3
    assert series["errors_per_source"] == [{"source": "Wire", "item_failures": 1, "fetch_failures": 3}]
    assert [(p["median_seconds"], p["count"]) for p in series["delay_per_hour"]] == [(20.0, 3)]
