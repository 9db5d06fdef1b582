"""The calendar (``calendar.ics``) and the Atom feed (``tge-events/feed.atom``) served by uvicorn: they parse with
``icalendar`` and ``feedparser``, follow the events through the pipeline and review, take the list's filters, and
open to a feed token in the URL until it is revoked."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import feedparser
import httpx
import icalendar
import pytest

from api.keys import create_key
from api.models import TGEEvent
from tests.conftest import sweep_in_process
from tgesweeper.bench.feedserver import render_rss

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

CALENDAR, FEED, TOKENS = "/api/v1/calendar.ics", "/api/v1/tge-events/feed.atom", "/api/v1/feed-tokens"
TODAY = datetime.now(timezone.utc).date()
FIRST, MOVED = TODAY + timedelta(days=20), TODAY + timedelta(days=41)


@pytest.fixture
def server(start_web):
    return start_web(API_THROTTLE_RATE="")  # the site as deployed: uvicorn


@pytest.fixture
def reader_key():
    return create_key("calendar reader")[1]


@pytest.fixture
def staff_key(staff_user):
    return create_key("ops", staff_user)[1]


def spoken(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def article(guid: str, title: str, text: str, published: datetime) -> dict:
    return {"guid": guid, "title": title, "description": text, "link": f"https://wire.example.com/{guid}",
            "pub_date": published}


def vevents(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def new_token(base: str, key: str) -> dict:
    response = httpx.post(f"{base}{TOKENS}", json={"name": "my calendar"}, headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_postponed_launch_moves_in_the_calendar_with_a_higher_sequence_and_a_rejected_one_is_cancelled(
        server, reader_key, staff_key, feed_server, allow_local):
    first_seen = datetime.now(timezone.utc) - timedelta(hours=2)
    wire = [article("q1", f"Quillstone Network to launch QSN token on {spoken(FIRST)}",
                    f"Quillstone Network said the token generation event for its QSN token will take place on "
                    f"{spoken(FIRST)}.", first_seen),
            article("f1", f"Ferrowind to hold FWD token generation event on {spoken(FIRST)}",
                    f"Ferrowind said the token generation event for its FWD token will take place on "
                    f"{spoken(FIRST)}.", first_seen)]
    feed_server.add("/wire.xml", render_rss("Wire", wire))
    from api.models import Source

    source = Source.objects.create(name="Wire", url=feed_server.url("/wire.xml"))
    sweep_in_process(source)
    events = {e.ticker: e for e in TGEEvent.objects.filter(published=True)}
    assert {"QSN", "FWD"} <= set(events), list(TGEEvent.objects.values_list("project", "ticker", "tge_date"))
    token = new_token(server.url, reader_key)
    calendar_url = token["calendar_url"].replace("http://testserver", server.url)

    before = httpx.get(calendar_url, timeout=30)  # a calendar app: no headers, the secret in the URL
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/calendar")
    entries = vevents(before.content)
    qsn_uid = f"tge-event-{events['QSN'].pk}@tge-news-sweeper"
    assert entries[qsn_uid]["DTSTART"].dt == FIRST and entries[qsn_uid]["SEQUENCE"] == 0
    assert entries[qsn_uid]["STATUS"] == "TENTATIVE"

    feed_server.add("/wire.xml", render_rss("Wire", [*wire, article(
        "q2", f"Quillstone Network postpones QSN token generation event to {spoken(MOVED)}",
        f"Quillstone Network has postponed the token generation event for its QSN token to {spoken(MOVED)}.",
        first_seen + timedelta(hours=1))]))
    Source.objects.filter(pk=source.pk).update(etag="", last_modified="")
    sweep_in_process(source)
    rejected = httpx.post(f"{server.url}/api/v1/tge-events/{events['FWD'].pk}/reject",
                          headers={"X-API-Key": staff_key}, timeout=30)
    assert rejected.status_code == 200, rejected.text

    after = vevents(httpx.get(calendar_url, timeout=30).content)
    assert after[qsn_uid]["DTSTART"].dt == MOVED, TGEEvent.objects.get(pk=events["QSN"].pk).tge_date
    assert after[qsn_uid]["SEQUENCE"] == 1
    fwd = after[f"tge-event-{events['FWD'].pk}@tge-news-sweeper"]
    assert fwd["STATUS"] == "CANCELLED"
    assert set(after) == set(entries), "the same UIDs: entries are replaced, never duplicated"


def make_event(key: str, ticker: str, tge_date: date | None, **fields) -> TGEEvent:
    values = {"confidence": 0.95, "is_candidate": False, "published": True, **fields}
    return TGEEvent.objects.create(key=key, project=key.title(), ticker=ticker, tge_date=tge_date, **values)


def test_the_calendar_takes_the_lists_filters_and_an_alarm(server, reader_key):
    make_event("quillstone", "QSN", FIRST, chain="solana")
    make_event("ferrowind", "FWD", MOVED, chain="base")
    make_event("undated", "UND", None)
    make_event("longago", "OLD", TODAY - timedelta(days=400))
    make_event("doubtful", "DBT", FIRST, confidence=0.3, is_candidate=True, published=False)
    headers = {"X-API-Key": reader_key}

    everything = httpx.get(f"{server.url}{CALENDAR}", headers=headers, timeout=30)
    summaries = sorted(str(e["SUMMARY"]) for e in vevents(everything.content).values())
    assert summaries == ["TGE: Ferrowind (FWD)", "TGE: Quillstone (QSN)"]

    solana = httpx.get(f"{server.url}{CALENDAR}?chain=solana&alarm_minutes=90", headers=headers, timeout=30)
    [entry] = vevents(solana.content).values()
    assert str(entry["SUMMARY"]) == "TGE: Quillstone (QSN)"
    [alarm] = entry.walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(minutes=-90) and alarm["ACTION"] == "DISPLAY"

    with_candidates = httpx.get(f"{server.url}{CALENDAR}?include_candidates=true", headers=headers, timeout=30)
    assert "TGE: Doubtful (DBT)" in {str(e["SUMMARY"]) for e in vevents(with_candidates.content).values()}
    old = httpx.get(f"{server.url}{CALENDAR}?tge_date_from={TODAY - timedelta(days=500)}", headers=headers, timeout=30)
    assert "TGE: Longago (OLD)" in {str(e["SUMMARY"]) for e in vevents(old.content).values()}


def test_the_atom_feed_is_valid_and_takes_the_lists_filters(server, reader_key):
    quill = make_event("quillstone", "QSN", FIRST, chain="solana")
    make_event("ferrowind", "FWD", None, chain="base")
    token = new_token(server.url, reader_key)
    feed_url = token["feed_url"].replace("http://testserver", server.url)

    response = httpx.get(feed_url, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id and parsed.feed.updated and parsed.feed.author
    [self_link] = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_link == feed_url, "a reader that follows rel=self keeps its access"
    assert [e.title.split(":")[0] for e in parsed.entries] == ["Ferrowind (FWD)", "Quillstone (QSN)"]
    for entry in parsed.entries:
        assert entry.id.startswith("tag:tge-news-sweeper,2026:tge-event:") and entry.updated and entry.link

    solana = feedparser.parse(httpx.get(f"{feed_url}&chain=solana&limit=5", timeout=30).content)
    assert [e.id for e in solana.entries] == [f"tag:tge-news-sweeper,2026:tge-event:{quill.pk}"]
    assert solana.bozo == 0
    assert f"{feed_url}&chain=solana&limit=5" in [link.href for link in solana.feed.links if link.rel == "self"]


def test_a_wrong_or_revoked_secret_opens_nothing(server, reader_key, staff_key):
    token = new_token(server.url, reader_key)
    calendar_url = token["calendar_url"].replace("http://testserver", server.url)
    feed_url = token["feed_url"].replace("http://testserver", server.url)
    assert httpx.get(calendar_url, timeout=30).status_code == 200
    assert httpx.get(f"{server.url}{CALENDAR}", timeout=30).status_code == 401
    for wrong in ("tgef_" + "A" * 32, "tge_" + "A" * 32, "x", "", token["token"] + "A"):
        response = httpx.get(f"{server.url}{CALENDAR}", params={"token": wrong}, timeout=30)
        assert response.status_code == 404 and response.json()["error"].startswith("No feed at this address")

    other = create_key("someone else")[1]
    assert httpx.get(f"{server.url}{TOKENS}", headers={"X-API-Key": other}, timeout=30).json()["results"] == []
    assert httpx.delete(f"{server.url}{TOKENS}/{token['id']}", headers={"X-API-Key": other},
                        timeout=30).status_code == 404, "another identity's token is not found"
    seen_by_staff = httpx.get(f"{server.url}{TOKENS}", headers={"X-API-Key": staff_key}, timeout=30).json()
    assert token["id"] in [t["id"] for t in seen_by_staff["results"]], "staff manage everyone's"
    mine = httpx.get(f"{server.url}{TOKENS}", headers={"X-API-Key": reader_key}, timeout=30).json()["results"]
    assert [(t["id"], t["token"], t["revoked_at"]) for t in mine] == [(token["id"], None, None)]

    assert httpx.delete(f"{server.url}{TOKENS}/{token['id']}", headers={"X-API-Key": reader_key},
                        timeout=30).status_code == 204
    assert httpx.get(calendar_url, timeout=30).status_code == 404
    assert httpx.get(feed_url, timeout=30).status_code == 404


def test_revoking_the_api_key_ends_its_feed_tokens(server, reader_key):
    from django.utils import timezone as dj_timezone

    from api.models import ApiKey

    token = new_token(server.url, reader_key)
    calendar_url = token["calendar_url"].replace("http://testserver", server.url)
    assert httpx.get(calendar_url, timeout=30).status_code == 200
    ApiKey.objects.filter(prefix=reader_key[:8]).update(revoked_at=dj_timezone.now())
    assert httpx.get(calendar_url, timeout=30).status_code == 404


HOSTILE = [
    (CALENDAR, "alarm_minutes=abc"), (CALENDAR, "alarm_minutes=-5"), (CALENDAR, "alarm_minutes=99999999999999999999"),
    (CALENDAR, "alarm_minutes=%EF%BC%91"), (CALENDAR, "alarm_minutes=1&alarm_minutes=2"), (CALENDAR, "offset=3"),
    (CALENDAR, "tickr=QSN"), (CALENDAR, "tge_date_from=2026-13-45"), (FEED, "limit=0"), (FEED, "limit=1e3"),
    (FEED, "offset=1"), (FEED, "confidence_min=2"), (FEED, "format=json"), (CALENDAR, "since=%00"),
]


def test_hostile_parameters_are_a_400_that_names_them(server, reader_key):
    for path, query in HOSTILE:
        response = httpx.get(f"{server.url}{path}?{query}", headers={"X-API-Key": reader_key}, timeout=30)
        assert response.status_code == 400, (path, query, response.status_code, response.text[:300])
        assert response.json()["detail"], (path, query)
