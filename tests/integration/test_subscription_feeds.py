"""An alert subscription's own calendar and Atom URLs, served by uvicorn: they show what the subscription selects
(the URL's filters narrow, never widen), carry its reminder, and stop working when the feed secret is rotated, the
subscription disabled or its owner's key revoked."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import feedparser
import httpx
import icalendar
import pytest
from django.utils import timezone as dj_timezone

from api.keys import create_key
from api.models import ApiKey, Subscription, TGEEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

TODAY = datetime.now(timezone.utc).date()
SOON, LATER = TODAY + timedelta(days=20), TODAY + timedelta(days=41)


@pytest.fixture
def server(start_web):
    return start_web(API_THROTTLE_RATE="")


@pytest.fixture
def owner_key():
    return create_key("subscriber")[1]


def make_event(key: str, ticker: str, **fields) -> TGEEvent:
    values = {"confidence": 0.95, "is_candidate": False, "published": True, "tge_date": SOON, **fields}
    return TGEEvent.objects.create(key=key, project=key.title(), ticker=ticker, **values)


def subscribe(base: str, key: str, **selection) -> dict:
    body = {"name": "solana launches", "channels": [{"kind": "webhook", "url": "https://hooks.example.com/tge"}],
            **selection}
    response = httpx.post(f"{base}/api/v1/subscriptions", json=body, headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def summaries(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return sorted(e.title.split(":")[0] for e in parsed.entries)


def test_the_subscriptions_urls_show_only_what_it_selects_with_its_reminder(server, owner_key):
    make_event("quillstone", "QSN", chain="solana")
    make_event("ferrowind", "FWD", chain="base")
    make_event("lowtide", "LOW", chain="solana", confidence=0.7)
    make_event("doubtful", "DBT", chain="solana", confidence=0.85, is_candidate=True, published=False)
    make_event("later", "LTR", chain="Solana", tge_date=LATER)
    created = subscribe(server.url, owner_key, chains=["solana"], min_confidence=0.8, alarm_minutes=60)
    calendar_url, feed_url = created["calendar_url"], created["feed_url"]
    assert created["feed_secret"].startswith("tges_") and created["feed_secret"] != created["secret"]
    assert calendar_url == f"{server.url}/api/v1/calendar.ics?token={created['feed_secret']}"
    assert created["feed_secret_prefix"] == created["feed_secret"][:9] and created["alarm_minutes"] == 60

    calendar = httpx.get(calendar_url, timeout=30)  # no headers: a calendar app
    assert summaries(calendar) == ["TGE: Later (LTR)", "TGE: Quillstone (QSN)"]
    for entry in icalendar.Calendar.from_ical(calendar.content).walk("VEVENT"):
        [alarm] = entry.walk("VALARM")
        assert alarm["TRIGGER"].dt == timedelta(minutes=-60) and alarm["ACTION"] == "DISPLAY"
    assert titles(httpx.get(feed_url, timeout=30)) == ["Later (LTR)", "Quillstone (QSN)"]

    # The URL's filters narrow the selection, never widen it; its alarm_minutes replaces the subscription's.
    assert summaries(httpx.get(f"{calendar_url}&ticker=LTR", timeout=30)) == ["TGE: Later (LTR)"]
    assert summaries(httpx.get(f"{calendar_url}&chain=base", timeout=30)) == []
    assert summaries(httpx.get(f"{calendar_url}&include_candidates=true&confidence_min=0", timeout=30)) == [
        "TGE: Later (LTR)", "TGE: Quillstone (QSN)"]
    assert titles(httpx.get(f"{feed_url}&tge_date_to={SOON}", timeout=30)) == ["Quillstone (QSN)"]
    [entry, _] = icalendar.Calendar.from_ical(httpx.get(f"{calendar_url}&alarm_minutes=15", timeout=30).content
                                              ).walk("VEVENT")
    assert entry.walk("VALARM")[0]["TRIGGER"].dt == timedelta(minutes=-15)

    # Another subscription of the same owner selects candidates of one project, without a reminder.
    other = subscribe(server.url, owner_key, projects=["Doubtful"], include_candidates=True)
    body = httpx.get(other["calendar_url"], timeout=30)
    assert summaries(body) == ["TGE: Doubtful (DBT)"]
    assert icalendar.Calendar.from_ical(body.content).walk("VALARM") == []

    shown = httpx.get(f"{server.url}/api/v1/subscriptions/{created['id']}", headers={"X-API-Key": owner_key},
                      timeout=30).json()
    assert shown["feed_secret_prefix"] == created["feed_secret_prefix"]
    assert not {"feed_secret", "calendar_url", "feed_url", "secret"} & set(shown), "secrets are shown once"
    stored = Subscription.objects.get(pk=created["id"])
    assert created["feed_secret"] not in (stored.feed_secret_hash, stored.secret), "stored as a hash"


def test_rotating_the_feed_secret_revokes_the_old_urls(server, owner_key, staff_key):
    make_event("quillstone", "QSN", chain="solana")
    created = subscribe(server.url, owner_key)
    old_calendar, old_feed = created["calendar_url"], created["feed_url"]
    assert summaries(httpx.get(old_calendar, timeout=30)) == ["TGE: Quillstone (QSN)"]
    rotate = f"{server.url}/api/v1/subscriptions/{created['id']}/rotate-feed-secret"

    stranger = create_key("someone else")[1]
    assert httpx.post(rotate, headers={"X-API-Key": stranger}, timeout=30).status_code == 404
    assert httpx.get(old_calendar, timeout=30).status_code == 200, "a stranger's attempt changed nothing"

    rotated = httpx.post(rotate, headers={"X-API-Key": owner_key}, timeout=30)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["feed_secret"] != created["feed_secret"] and new["feed_secret_prefix"] == new["feed_secret"][:9]
    for url in (old_calendar, old_feed):
        gone = httpx.get(url, timeout=30)
        assert gone.status_code == 404 and gone.json()["error"].startswith("No feed at this address")
    assert summaries(httpx.get(new["calendar_url"], timeout=30)) == ["TGE: Quillstone (QSN)"]
    assert titles(httpx.get(new["feed_url"], timeout=30)) == ["Quillstone (QSN)"]

    by_staff = httpx.post(rotate, headers={"X-API-Key": staff_key}, timeout=30)
    assert by_staff.status_code == 200, "staff manage everyone's subscriptions"
    assert httpx.get(new["calendar_url"], timeout=30).status_code == 404
    assert httpx.get(by_staff.json()["calendar_url"], timeout=30).status_code == 200


@pytest.fixture
def staff_key(staff_user):
    return create_key("ops", staff_user)[1]


def test_a_disabled_subscription_or_a_revoked_owner_opens_nothing(server, owner_key):
    make_event("quillstone", "QSN")
    created = subscribe(server.url, owner_key)
    calendar_url = created["calendar_url"]
    headers = {"X-API-Key": owner_key}
    path = f"{server.url}/api/v1/subscriptions/{created['id']}"
    assert httpx.patch(path, json={"enabled": False}, headers=headers, timeout=30).status_code == 200
    assert httpx.get(calendar_url, timeout=30).status_code == 404
    assert httpx.get(created["feed_url"], timeout=30).status_code == 404
    assert httpx.patch(path, json={"enabled": True}, headers=headers, timeout=30).status_code == 200
    assert httpx.get(calendar_url, timeout=30).status_code == 200

    ApiKey.objects.filter(prefix=owner_key[:8]).update(revoked_at=dj_timezone.now())
    assert httpx.get(calendar_url, timeout=30).status_code == 404


def test_a_users_subscription_ends_with_the_user(server, staff_user, staff_key):
    created = subscribe(server.url, staff_key)
    assert httpx.get(created["calendar_url"], timeout=30).status_code == 200
    staff_user.is_active = False
    staff_user.save()
    assert httpx.get(created["calendar_url"], timeout=30).status_code == 404


def test_hostile_feed_secrets_and_reminders_are_refused_never_a_500(server, owner_key):
    created = subscribe(server.url, owner_key)
    secret = created["feed_secret"]
    calendar = f"{server.url}/api/v1/calendar.ics"
    wrong = ["tges_" + "A" * 32, "tges_" + "!" * 32, created["secret"], secret + "A", secret[:-1], secret.upper(),
             "tges_" + "\u0410" * 32, "tges_" + "A" * 5000, secret.replace("tges_", "tgef_"), "tges_%00" + "A" * 29]
    for token in wrong:
        response = httpx.get(calendar, params={"token": token}, timeout=30)
        assert response.status_code == 404, (token[:40], response.status_code, response.text[:200])
    twice = httpx.get(f"{calendar}?token={secret}&token={secret}", timeout=30)
    assert twice.status_code == 404
    assert httpx.get(f"{calendar}?token={secret}&alarm_minutes=-1", timeout=30).status_code == 400
    assert httpx.get(f"{calendar}?token={secret}&tickr=QSN", timeout=30).status_code == 400

    headers = {"X-API-Key": owner_key}
    path = f"{server.url}/api/v1/subscriptions/{created['id']}"
    for alarm in (-1, 10081, "60", True, 1.5, 10**30):
        response = httpx.patch(path, json={"alarm_minutes": alarm}, headers=headers, timeout=30)
        assert response.status_code == 400 and "alarm_minutes" in response.json()["detail"], (alarm, response.text)
    assert httpx.patch(path, json={"alarm_minutes": None}, headers=headers, timeout=30).json()["alarm_minutes"] is None
    bad_rotate = httpx.post(f"{server.url}/api/v1/subscriptions/99999999999999999999/rotate-feed-secret",
                            headers=headers, timeout=30)
    assert bad_rotate.status_code == 404
    assert httpx.get(f"{path}/rotate-feed-secret", headers=headers, timeout=30).status_code == 405
