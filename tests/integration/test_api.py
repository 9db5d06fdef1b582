"""The REST API against the test database: access, validation, filters and ordering, review, sources, metrics."""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from api import store
from api.keys import create_key
from api.models import Document, Mention, Source, TGEEvent
from tests.conftest import STAFF_PASSWORD
from tgesweeper.matching import Match

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def make_event(project, ticker="", *, confidence=0.95, status="scheduled", chain="", tge=None, seen=T0, **extra):
    from tgesweeper.matching.events import event_key

    event = TGEEvent.objects.create(key=event_key(project, ticker), project=project, ticker=ticker, confidence=confidence,
                                    status=status, chain=chain, tge_date=tge, first_seen_at=seen, last_seen_at=seen,
                                    is_candidate=confidence < 0.85, **extra)
    event.published = event.compute_published()
    event.save()
    return event


@pytest.fixture
def events():
    return {
        "qsn": make_event("Quillstone Network", "QSN", confidence=0.97, status="scheduled", chain="Solana",
                          tge=date(2026, 12, 4), seen=T0),
        "fwd": make_event("Ferrowind", "FWD", confidence=0.88, status="live", chain="Ethereum", tge=date(2026, 11, 2),
                          seen=T0 + timedelta(days=1)),
        "tsl": make_event("Tessaline Labs", "TSL", confidence=0.91, status="postponed", tge=date(2027, 1, 15),
                          seen=T0 + timedelta(days=2)),
        "low": make_event("Murkwater", "MRK", confidence=0.6, status="announced", seen=T0 + timedelta(days=3)),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- access ------------------------------------------------------------------------------------------

def test_reads_need_a_key_or_a_token(anon, events):
    response = anon.get("/api/v1/tge-events")
    assert response.status_code == 401
    assert "error" in response.json()


def test_an_unknown_or_revoked_key_is_refused(anon, events):
    key, raw = create_key("soon revoked")
    anon.credentials(HTTP_X_API_KEY=raw)
    assert anon.get("/api/v1/tge-events").status_code == 200
    key.revoked_at = datetime.now(timezone.utc)
    key.save()
    assert anon.get("/api/v1/tge-events").status_code == 401
    anon.credentials(HTTP_X_API_KEY="tge_" + "x" * 32)
    assert anon.get("/api/v1/tge-events").status_code == 401


def test_keys_are_stored_only_as_a_hash_and_record_their_use(reader):
    from api.models import ApiKey

    reader.get("/api/v1/tge-events")
    key = ApiKey.objects.get(name="reader")
    assert key.key_hash and len(key.key_hash) == 64 and key.last_used_at is not None
    assert not any("tge_" in str(value) and len(str(value)) == 36 for value in ApiKey.objects.values_list().get())


def test_public_read_opens_reads_but_not_writes(anon, config, events):
    config(API_PUBLIC_READ=True)
    assert anon.get("/api/v1/tge-events").status_code == 200
    assert anon.post("/api/v1/sources", {"name": "x", "url": "https://example.com/rss"}, format="json").status_code == 401


def test_writes_need_staff(reader):
    response = reader.post("/api/v1/sources", {"name": "Wire", "url": "https://news.example.com/rss"}, format="json")
    assert response.status_code == 403


def test_jwt_obtain_refresh_rotation_and_blacklist(anon, staff_user, events):
    pair = anon.post("/api/v1/auth/token", {"username": "ops", "password": STAFF_PASSWORD}, format="json")
    assert pair.status_code == 200
    tokens = pair.json()
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon.get("/api/v1/tge-events").status_code == 200

    anon.credentials()
    rotated = anon.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200 and rotated.json()["refresh"] != tokens["refresh"]
    reused = anon.post("/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401  # the old refresh token was blacklisted by the rotation

    wrong = anon.post("/api/v1/auth/token", {"username": "ops", "password": "nope"}, format="json")
    assert wrong.status_code == 401


def test_repeated_failed_logins_lock_the_account_whatever_x_forwarded_for_says(anon, staff_user, config):
    config(LOGIN_MAX_FAILURES=3)
    for n in range(3):
        wrong = {"username": "ops", "password": f"guess-{n}"}
        assert anon.post("/api/v1/auth/token", wrong, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 401
    right = {"username": "ops", "password": STAFF_PASSWORD}
    assert anon.post("/api/v1/auth/token", right, format="json", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 401
    other = APIClient(REMOTE_ADDR="192.0.2.7")  # another address, same username: still locked
    assert other.post("/api/v1/auth/token", right, format="json").status_code == 401
    cache.clear()  # the lockout window has passed
    assert anon.post("/api/v1/auth/token", right, format="json").status_code == 200


def test_passwords_are_hashed_with_bcrypt(staff_user):
    assert staff_user.password.startswith("bcrypt_sha256$$2b$12$")


def test_each_identity_has_its_own_budget(config, events, settings):
    from api.throttling import IdentityRateThrottle

    IdentityRateThrottle.THROTTLE_RATES = {"identity": "3/min"}
    try:
        first, second = APIClient(), APIClient()
        first.credentials(HTTP_X_API_KEY=create_key("a")[1])
        second.credentials(HTTP_X_API_KEY=create_key("b")[1])
        codes = [first.get("/api/v1/tge-events").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert second.get("/api/v1/tge-events").status_code == 200
    finally:
        IdentityRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def test_each_feed_secret_has_its_own_budget(config, events, settings):
    from api.feed_access import create_feed_token, new_subscription_feed_secret
    from api.models import Subscription
    from api.throttling import IdentityRateThrottle

    key, _ = create_key("owner")
    _, token = create_feed_token("phone", api_key=key)
    secret, stored = new_subscription_feed_secret()
    Subscription.objects.create(name="launches", owner_key=key, secret="whsec_unused", **stored)
    IdentityRateThrottle.THROTTLE_RATES = {"identity": "2/min"}
    try:
        client = APIClient()
        codes = [client.get(f"/api/v1/calendar.ics?token={secret}").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.get(f"/api/v1/calendar.ics?token={token}").status_code == 200
    finally:
        IdentityRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


# --- validation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field", [
    ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"),
    ("status=bogus", "status"), ("confidence_min=2", "confidence_min"), ("confidence_min=high", "confidence_min"),
    ("since=yesterday", "since"), ("tge_date_from=2026-13-01", "tge_date_from"), ("ordering=password", "ordering"),
    ("include_candidates=perhaps", "include_candidates"), ("tickr=QSN", "tickr"), ("ticker=QSN&colour=blue", "colour"),
])
def test_bad_list_parameters_are_a_400_naming_the_parameter(reader, events, query, field):
    response = reader.get(f"/api/v1/tge-events?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["error"] and field in body["detail"]


@pytest.mark.parametrize("body, field", [
    ('{"filters": {"companies": "Quillstone"}}', "companies"),
    ('{"filters": {"confidence_min": "very"}}', "confidence_min"),
    ('{"filters": {"status": ["soon"]}}', "status"),
    ('{"filters": {"colour": ["blue"]}}', "colour"),
    ('{"filterz": {}}', "filterz"),
    ('{"limit": 100000}', "limit"),
    ('[1, 2]', "non_field_errors"),
])
def test_bad_search_bodies_are_a_400_naming_the_field(reader, events, body, field):
    response = reader.post("/api/v1/tge-events/search", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]


def test_malformed_json_is_a_400(reader):
    response = reader.post("/api/v1/tge-events/search", '{"filters": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


@pytest.mark.parametrize("path, query, field", [
    ("documents", "source=1.9", "source"), ("documents", "source=0", "source"), ("documents", "colour=blue", "colour"),
    ("sources", "kindd=rss", "kindd"),
])
def test_bad_document_and_source_list_parameters_are_a_400(reader, path, query, field):
    response = reader.get(f"/api/v1/{path}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]


def test_json_nested_too_deeply_is_a_400(reader, staff):
    deep = "[" * 5000 + "]" * 5000
    for client, path in ((reader, "/api/v1/tge-events/search"), (staff, "/api/v1/sources"),
                         (reader, "/api/v1/auth/token")):
        response = client.post(path, deep, content_type="application/json")
        assert response.status_code == 400, (path, response.content)
        assert "nested too deeply" in response.json()["error"]


def test_requests_django_refuses_before_the_view_answer_in_the_error_shape(reader, settings):
    big = reader.post("/api/v1/tge-events/search", '{"filters": {}, "pad": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
                      + '"}', content_type="application/json")
    assert big.status_code == 400 and "DATA_UPLOAD_MAX_MEMORY_SIZE" in big.json()["error"]
    many = reader.get("/api/v1/tge-events?" + "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)))
    assert many.status_code == 400 and "DATA_UPLOAD_MAX_NUMBER_FIELDS" in many.json()["error"]


# --- filters and ordering ----------------------------------------------------------------------------

def test_default_list_is_published_events_newest_first(reader, events):
    assert ids(reader.get("/api/v1/tge-events")) == [events[k].pk for k in ("tsl", "fwd", "qsn")]
    assert events["low"].pk in ids(reader.get("/api/v1/tge-events?include_candidates=true"))


@pytest.mark.parametrize("query, expected", [
    ("ticker=qsn", ["qsn"]), ("ticker=$FWD,TSL", ["tsl", "fwd"]),
    ("project=quillstone", ["qsn"]), ("company=Tessaline", ["tsl"]),
    ("confidence_min=0.9", ["tsl", "qsn"]), ("status=live,postponed", ["tsl", "fwd"]),
    ("chain=solana", ["qsn"]), ("q=ferro", ["fwd"]), ("q=TSL", ["tsl"]),
    ("since=2026-11-02T00:00:00Z", ["tsl", "fwd"]), ("until=2026-11-02T00:00:00Z", ["qsn"]),
    ("tge_date_from=2026-12-01", ["tsl", "qsn"]), ("tge_date_to=2026-12-31", ["fwd", "qsn"]),
    ("ordering=-confidence", ["qsn", "tsl", "fwd"]), ("ordering=tge_date", ["fwd", "qsn", "tsl"]),
    ("ordering=first_seen_at", ["qsn", "fwd", "tsl"]),
])
def test_filters_and_ordering(reader, events, query, expected):
    assert ids(reader.get(f"/api/v1/tge-events?{query}")) == [events[k].pk for k in expected]


def test_source_filter_finds_events_mentioned_by_that_source(reader, events):
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    doc = Document.objects.create(source=wire, external_id="1", title="QSN", published_at=T0, content_hash="x")
    Mention.objects.create(event=events["qsn"], document=doc, source=doc.source, kind="scheduled", confidence=0.97)
    assert ids(reader.get("/api/v1/tge-events?source=Wire")) == [events["qsn"].pk]
    assert ids(reader.get("/api/v1/tge-events?source=Wire,Nobody")) == [events["qsn"].pk]
    assert ids(reader.get("/api/v1/tge-events?source=Nobody")) == []


def test_paging_with_limit_and_offset(reader, events):
    page = reader.get("/api/v1/tge-events?limit=2&offset=1").json()
    assert page["count"] == 3 and [r["id"] for r in page["results"]] == [events["fwd"].pk, events["qsn"].pk]
    assert page["count_exact"] is True


def test_count_stops_a_fixed_distance_past_the_page(reader, events, monkeypatch):
    from api import pagination

    monkeypatch.setattr(pagination, "COUNT_AHEAD", 1)
    page = reader.get("/api/v1/tge-events?limit=1").json()
    assert (page["count"], page["count_exact"], len(page["results"])) == (2, False, 1)
    assert page["next"] is not None
    page = reader.get("/api/v1/tge-events?limit=2&offset=1").json()
    assert (page["count"], page["count_exact"]) == (3, True)


def test_search_body_takes_the_spec_shape_and_the_same_filters(reader, events):
    body = {"filters": {"companies": ["Quillstone Network", "Ferrowind"], "confidence_min": 0.9}}
    assert ids(reader.post("/api/v1/tge-events/search", body, format="json")) == [events["qsn"].pk]
    body = {"filters": {"status": ["live", "postponed"], "include_candidates": True}, "ordering": "tge_date", "limit": 1}
    assert ids(reader.post("/api/v1/tge-events/search", body, format="json")) == [events["fwd"].pk]


def test_event_detail_lists_its_mentions(reader, events):
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    doc = Document.objects.create(source=wire, external_id="1", title="QSN TGE set", url="https://news.example.com/1",
                                  published_at=T0, content_hash="x")
    Mention.objects.create(event=events["qsn"], document=doc, source=wire, kind="scheduled", confidence=0.97,
                           snippet="QSN TGE")
    body = reader.get(f"/api/v1/tge-events/{events['qsn'].pk}").json()
    assert body["mentions"][0] | {} == body["mentions"][0]
    mention = body["mentions"][0]
    assert (mention["source"], mention["url"], mention["snippet"], mention["confidence"]) == (
        "Wire", "https://news.example.com/1", "QSN TGE", 0.97)
    assert reader.get("/api/v1/tge-events/999999").status_code == 404


# --- caching -----------------------------------------------------------------------------------------

def test_lists_are_cached_and_a_change_to_events_invalidates_them(reader, staff, events,
                                                                  django_capture_on_commit_callbacks):
    from api import response_cache

    first = ids(reader.get("/api/v1/tge-events"))
    ids(reader.get("/api/v1/tge-events"))
    assert response_cache.hit_rate()["hits"] == 1
    with django_capture_on_commit_callbacks(execute=True):  # invalidation runs when the change commits
        staff.post(f"/api/v1/tge-events/{events['low'].pk}/confirm")
    assert ids(reader.get("/api/v1/tge-events")) == [events["low"].pk, *first]


# --- review ------------------------------------------------------------------------------------------

def test_confirm_and_reject_are_for_staff_and_stick(reader, staff, events):
    low, qsn = events["low"], events["qsn"]
    assert reader.post(f"/api/v1/tge-events/{low.pk}/confirm").status_code == 403
    confirmed = staff.post(f"/api/v1/tge-events/{low.pk}/confirm").json()
    assert confirmed["review"] == "confirmed" and confirmed["published"] is True
    assert staff.post(f"/api/v1/tge-events/{qsn.pk}/reject").json()["published"] is False
    assert qsn.pk not in ids(reader.get("/api/v1/tge-events"))


def match(project, ticker, confidence=0.95, kind="scheduled", when=date(2026, 12, 4)):
    return Match(project=project, ticker=ticker, tge_date=when, kind=kind, confidence=confidence,
                 matched_terms=("tge",), snippet=f"{project} TGE").to_dict()


def persist(source, batch_id, project, ticker, external_id, **found):
    doc = {"external_id": external_id, "url": f"https://news.example.com/{external_id}", "title": project, "text": "",
           "author": "", "published_at": "2026-11-20T09:00:00+00:00", "date_missing": False}
    store.persist_batch({"batch_id": batch_id, "source_id": source.pk, "documents": [doc],
                         "matches": [match(project, ticker, **found)], "failures": []})


def test_a_postponed_event_is_listed_with_the_date_it_moved_from(reader, staff):
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    persist(wire, "b1", "Quillstone Network", "QSN", "1")
    persist(wire, "b2", "Ferrowind", "FWD", "2")
    persist(wire, "b3", "Quillstone Network", "QSN", "3", kind="postponed", when=date(2027, 1, 15))
    persist(wire, "b4", "Quillstone Network", "QSN", "4", kind="postponed", when=date(2027, 2, 1))
    listed = {row["ticker"]: row for row in reader.get("/api/v1/tge-events").json()["results"]}
    assert {ticker: (row["tge_date"], row["previous_tge_date"]) for ticker, row in listed.items()} == {
        "QSN": ("2027-02-01", "2027-01-15"), "FWD": ("2026-12-04", None)}
    qsn = listed["QSN"]["id"]
    assert reader.get(f"/api/v1/tge-events/{qsn}").json()["previous_tge_date"] == "2027-01-15"
    assert staff.post(f"/api/v1/tge-events/{qsn}/confirm").json()["previous_tge_date"] == "2027-01-15"


def test_merge_moves_mentions_and_later_mentions_follow(staff, reader):
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    persist(wire, "b1", "Quillstone Network", "QSN", "1")
    persist(wire, "b2", "QuillStone Labs Inc", "QSN", "2")
    a, b = TGEEvent.objects.get(key="quillstone"), TGEEvent.objects.get(key="quillstone-inc")
    response = staff.post(f"/api/v1/tge-events/{b.pk}/merge", {"into": a.pk}, format="json")
    assert response.status_code == 200 and response.json()["mention_count"] == 2
    persist(wire, "b3", "QuillStone Labs Inc", "QSN", "3")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.mention_count, b.mention_count, b.review, b.merged_into_id) == (3, 0, "merged", a.pk)
    assert staff.post(f"/api/v1/tge-events/{a.pk}/merge", {"into": a.pk}, format="json").status_code == 400
    assert staff.post(f"/api/v1/tge-events/{a.pk}/merge", {"into": "x"}, format="json").status_code == 400
    assert staff.post(f"/api/v1/tge-events/{a.pk}/merge", {"into": 999999}, format="json").status_code == 400
    assert reader.post(f"/api/v1/tge-events/{a.pk}/merge", {"into": b.pk}, format="json").status_code == 403


# --- sources and documents ---------------------------------------------------------------------------

def test_source_crud_with_validation(staff, reader):
    created = staff.post("/api/v1/sources", {"name": "Wire", "url": "https://news.example.com/rss"}, format="json")
    assert created.status_code == 201, created.content
    source_id = created.json()["id"]
    assert created.json()["circuit_state"] == "closed"
    refused = staff.post("/api/v1/sources", {"name": "Inside", "url": "http://169.254.169.254/latest"}, format="json")
    assert refused.status_code == 400 and "url" in refused.json()["detail"]
    bad = staff.post("/api/v1/sources", {"name": "Odd", "kind": "carrier-pigeon", "url": "https://example.com"},
                     format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["detail"]
    patched = staff.patch(f"/api/v1/sources/{source_id}", {"interval_seconds": 600}, format="json")
    assert patched.status_code == 200 and patched.json()["interval_seconds"] == 600
    assert staff.patch(f"/api/v1/sources/{source_id}", {"interval_seconds": 1}, format="json").status_code == 400
    assert staff.patch(f"/api/v1/sources/{source_id}", {"failure_count": 0, "options": []},
                       format="json").status_code == 400
    assert [s["name"] for s in reader.get("/api/v1/sources").json()["results"]] == ["Wire"]
    assert staff.delete(f"/api/v1/sources/{source_id}").status_code == 204
    assert not Source.objects.exists()


def test_sweep_now_queues_a_fetch(staff, reader, queued_sweeps):
    source = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    assert reader.post(f"/api/v1/sources/{source.pk}/sweep").status_code == 403
    response = staff.post(f"/api/v1/sources/{source.pk}/sweep")
    assert response.status_code == 202 and response.json() == {"queued": 1, "source": source.pk}
    assert queued_sweeps == [source.pk]


def test_documents_filter_by_source_matched_and_date(reader):
    wire = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    other = Source.objects.create(name="Other", url="https://other.example.com/rss")
    Document.objects.create(source=wire, external_id="1", title="a", published_at=T0, content_hash="1", matched=True)
    Document.objects.create(source=wire, external_id="2", title="b", published_at=T0 + timedelta(days=2), content_hash="2")
    Document.objects.create(source=other, external_id="3", title="c", published_at=T0, content_hash="3")

    def titles(query):
        return sorted(d["title"] for d in reader.get(f"/api/v1/documents?{query}").json()["results"])

    assert titles(f"source={wire.pk}") == ["a", "b"]
    assert titles("matched=true") == ["a"]
    assert titles("since=2026-11-02T00:00:00Z") == ["b"]
    assert titles("source=999999") == []
    assert reader.get("/api/v1/documents?source=wire").status_code == 400


# --- metrics, schema, commands -----------------------------------------------------------------------

def test_system_metrics(reader, events):
    Source.objects.create(name="Broken", url="https://broken.example.com/rss", failure_count=2, last_error="HTTP 500")
    body = reader.get("/api/v1/system/metrics").json()
    assert body["events"]["published"] == 3 and body["events"]["candidates"] == 1
    assert set(body["queues"]) == {"fetch", "browser", "parse", "match", "persist", "notify", "alerts"}
    assert body["errors"]["sources_failing"] == 1
    assert body["sources"][0]["name"] == "Broken" and body["sources"][0]["failure_count"] == 2
    assert {"hits", "misses", "hit_rate"} <= set(body["cache"])
    assert body["rate_limits"]["x_api"]["limit"] == 450
    assert "count" in body["workers"] and "last_5_minutes" in body["documents"]


def test_stale_metrics_are_served_at_once_while_one_thread_recomputes_them(monkeypatch):
    from api import system_metrics

    calls = []

    def compute():
        calls.append(1)
        cache.set(system_metrics.CACHE_KEY, {"data": {"n": len(calls) + 1}, "fresh_until": 2e9}, timeout=60)

    cache.set(system_metrics.CACHE_KEY, {"data": {"n": 1}, "fresh_until": 0}, timeout=60)
    monkeypatch.setattr(system_metrics, "_compute", compute)
    assert system_metrics.collect_metrics() == {"n": 1}  # stale, answered without waiting
    assert system_metrics.collect_metrics() == {"n": 1}  # the lock keeps it to one refresh
    for _ in range(100):
        if cache.get(system_metrics.CACHE_KEY)["data"] == {"n": 2}:
            break
        time.sleep(0.02)
    assert system_metrics.collect_metrics() == {"n": 2} and calls == [1]


def test_prometheus_text_needs_an_identity(anon, reader, events):
    assert anon.get("/metrics").status_code == 401  # it names every source and its health
    response = reader.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'tge_events{state="published"} 3.0' in text and "tge_queue_depth" in text


def test_openapi_schema_and_docs(anon):
    schema = anon.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tge-events/search/" in paths and "/api/v1/system/metrics" in paths
    params = {p["name"] for p in paths["/api/v1/tge-events/"]["get"]["parameters"]}
    assert {"ticker", "confidence_min", "status", "q", "ordering", "limit", "offset"} <= params
    docs, redoc = anon.get("/docs"), anon.get("/redoc")
    assert docs.status_code == 200 and redoc.status_code == 200
    assert "cdn.jsdelivr" not in docs.content.decode() + redoc.content.decode()  # served from our static files
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_create_api_key_command_prints_a_working_key(anon, capsys, events):
    call_command("create_api_key", "dashboard")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("tge_") and len(raw) == 36
    anon.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert anon.get("/api/v1/tge-events").status_code == 200


def test_health_ready_checks_database_cache_broker_and_redis(anon):
    body = json.loads(anon.get("/health/ready").content)
    assert set(body["checks"]) == {"database", "cache", "broker", "redis"}


def test_an_unready_database_shows_only_the_error_type_to_the_anonymous_probe(anon, monkeypatch, caplog):
    from django.db import OperationalError

    class Unreachable:
        def cursor(self):
            raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: password for user "ops"')

    monkeypatch.setattr("api.health.connection", Unreachable())
    response = anon.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].endswith(": OperationalError")
    assert "10.1.2.3" not in response.content.decode() and "10.1.2.3" in caplog.text
