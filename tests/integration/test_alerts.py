"""Alerts end to end: a batch persisted by a real worker → notify → the alerts queue → a local receiver on 127.0.0.1
that verifies the Standard Webhooks signature with the ``standardwebhooks`` library (or an Apprise ``json://`` URL)."""
from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone as dj_timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from api.keys import create_key
from api.models import ApiKey, Channel, Delivery, EventChange, Source, Subscription
from tests.conftest import purge_queues
from tgesweeper.bench.webhook_receiver import WebhookReceiver
from tgesweeper.matching import Match
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

FAST_RETRIES = {"ALERT_RETRY_BASE_DELAY": "0.2", "ALERT_MAX_ATTEMPTS": "3", "ALERT_PAUSE_AFTER_FAILURES": "2",
                "ALERT_COALESCE_SECONDS": "3"}


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def alert_worker(start_worker):
    """``alert_worker(**env)``: a real worker on every queue (alerts included), the queues emptied first."""
    purge_queues()

    def start(**env: str):
        return start_worker(**{**FAST_RETRIES, **env})

    return start


@pytest.fixture
def owner():
    """An API key without a user: it owns the subscriptions it creates."""
    _, raw = create_key("alerts owner")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.fixture
def source():
    return Source.objects.create(name="Wire", url="https://news.example.com/rss")


def subscribe(client, url: str, kind: str = "webhook", **filters) -> dict:
    response = client.post("/api/v1/subscriptions", {"name": "launches", "channels": [{"kind": kind, "url": url}],
                                                     **filters}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def launch(source, batch_id: str, external_id: str, *, project="Quillstone", ticker="QSN", kind="scheduled",
           when=date(2026, 12, 4), confidence=0.95) -> dict:
    published = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    document = {"external_id": external_id, "url": f"https://news.example.com/{external_id}",
                "title": f"{project} sets {ticker} TGE", "text": f"{project} token generation event", "author": "",
                "published_at": published, "date_missing": False}
    match = Match(project=project, ticker=ticker, tge_date=when, kind=kind, confidence=confidence,
                  matched_terms=("token generation event",), snippet=f"{project} TGE").to_dict()
    return {"batch_id": batch_id, "source_id": source.pk, "sweep_source_id": None, "fetched_at": published,
            "matched_at": datetime.now(timezone.utc).isoformat(), "documents": [document], "matches": [match],
            "failures": []}


def wait_until(condition, timeout: float = 30.0, what: str = "", worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{worker.log_text()[-3000:]}" if worker else ""))


def notifies_done(worker) -> int:
    return worker.log_text().count("Task workers.tasks.notify[")


def test_a_launch_reaches_a_signed_webhook_once_even_when_its_batch_is_persisted_twice(
        alert_worker, receiver, owner, source, allow_local):
    worker = alert_worker()
    created = subscribe(owner, receiver.url("/hook"))
    assert created["secret"].startswith("whsec_")
    assert "secret" not in owner.get(f"/api/v1/subscriptions/{created['id']}").json()  # shown once
    receiver.verify_with("/hook", created["secret"])

    batch = launch(source, "b1", "1")
    tasks.persist_results.delay(batch)
    [first] = receiver.wait_for("/hook", 1)
    wait_until(lambda: "succeeded" in worker.log_text().split("workers.tasks.notify[")[-1], what="notify", worker=worker)
    tasks.persist_results.delay(batch)  # redelivered: stored already, its recorded changes are notified again
    wait_until(lambda: notifies_done(worker) >= 4, what="the second notify", worker=worker)  # received + succeeded
    time.sleep(1)

    assert len(receiver.at("/hook")) == 1
    assert first.verified is True, first.error
    body = first.json()
    assert body["type"] == "tge.event.changed"
    assert (body["data"]["event"]["project"], body["data"]["event"]["ticker"]) == ("Quillstone", "QSN")
    assert [c["kind"] for c in body["data"]["changes"]] == ["new"]
    assert body["data"]["sources"][0]["source"] == "Wire"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, first.headers["webhook-id"]) == ("delivered", 1, f"msg_{delivery.pk}")
    assert delivery.created_at <= delivery.attempted_at <= delivery.delivered_at
    shown = owner.get("/api/v1/deliveries").json()["results"]
    assert [(d["state"], d["change_kind"], d["channel_kind"]) for d in shown] == [("delivered", "new", "webhook")]
    times = [datetime.fromisoformat(shown[0][k]) for k in ("published_at", "matched_at", "persisted_at", "delivered_at")]
    assert shown[0]["fetched_at"] == batch["fetched_at"].replace("+00:00", "Z")
    assert times == sorted(times)

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(owner.get("/metrics").content.decode())
               for s in family.samples}
    assert samples[("tge_persisted_to_delivered_seconds_count", (("channel_kind", "webhook"),))] == 1
    assert samples[("tge_publication_to_persisted_seconds_count", (("source_kind", "rss"),))] == 1
    assert samples[("tge_persisted_to_delivered_seconds_bucket", (("channel_kind", "webhook"), ("le", "+Inf")))] == 1


def test_an_apprise_json_channel_delivers_to_a_local_endpoint(alert_worker, receiver, owner, source, allow_local):
    alert_worker()
    subscribe(owner, receiver.url("/apprise").replace("http://", "json://"), kind="apprise")
    tasks.persist_results.delay(launch(source, "a1", "1"))
    [received] = receiver.wait_for("/apprise", 1)
    body = received.json()
    assert "Quillstone (QSN)" in body["title"] and "new event" in body["title"]
    assert "**Quillstone (QSN)**" in body["message"] and "- Date: 2026-12-04" in body["message"]
    wait_until(lambda: Delivery.objects.filter(state="delivered").exists(), what="the delivery row")


def test_a_500_then_a_200_is_one_delivery_retried_with_the_same_message_id(
        alert_worker, receiver, owner, source, allow_local):
    worker = alert_worker()
    receiver.answer("/flaky", 500)
    subscribe(owner, receiver.url("/flaky"))
    tasks.persist_results.delay(launch(source, "f1", "1"))
    first, second = receiver.wait_for("/flaky", 2)
    delivery = wait_until(lambda: Delivery.objects.filter(state="delivered").first(), what="delivered", worker=worker)
    assert (first.status, second.status) == (500, 204)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert delivery.attempts == 2 and delivery.status_code == 204


def test_a_429_retry_after_is_honoured(alert_worker, receiver, owner, source, allow_local):
    alert_worker()
    receiver.answer("/busy", (429, {"Retry-After": "3"}))
    subscribe(owner, receiver.url("/busy"))
    tasks.persist_results.delay(launch(source, "r1", "1"))
    first, second = receiver.wait_for("/busy", 2)
    assert (first.status, second.status) == (429, 204)
    assert second.at - first.at >= 3.0  # the backoff alone would be under ALERT_RETRY_BASE_DELAY (0.2 s)


def test_a_failing_target_fails_visibly_pauses_its_channel_and_recovers_by_test_alert_and_resend(
        alert_worker, receiver, owner, source, allow_local):
    worker = alert_worker()
    receiver.answer("/down", *[503] * 6)  # two alerts × ALERT_MAX_ATTEMPTS (3)
    subscription = subscribe(owner, receiver.url("/down"))
    tasks.persist_results.delay(launch(source, "d1", "1", project="Quillstone", ticker="QSN"))
    tasks.persist_results.delay(launch(source, "d2", "2", project="Ferrowind", ticker="FWD"))
    wait_until(lambda: Delivery.objects.filter(state="failed").count() == 2, what="two failed", worker=worker)
    assert len(receiver.at("/down")) == 6

    failed = owner.get("/api/v1/deliveries?state=failed").json()["results"]
    assert len(failed) == 2 and all(d["attempts"] == 3 and "HTTP 503" in d["last_error"] for d in failed)
    [channel] = owner.get(f"/api/v1/subscriptions/{subscription['id']}").json()["channels"]
    assert channel["paused"] and "paused after 2 failed alerts in a row" in channel["paused_reason"]

    tasks.persist_results.delay(launch(source, "d3", "3", project="Lumenfall", ticker="LMF"))
    held = wait_until(lambda: Delivery.objects.filter(event__ticker="LMF", state="failed").first(), what="held")
    assert held.last_error.startswith("channel paused") and held.attempts == 0
    assert len(receiver.at("/down")) == 6  # nothing sent to a paused channel

    tested = owner.post(f"/api/v1/subscriptions/{subscription['id']}/test").json()["channels"]
    assert [(t["ok"], t["status"]) for t in tested] == [(True, 204)]
    assert not Channel.objects.get().paused
    test_alert = receiver.at("/down")[-1].json()
    assert test_alert["type"] == "tge.test"

    resent = owner.post(f"/api/v1/deliveries/{failed[0]['id']}/resend")
    assert resent.status_code == 202 and resent.json() == {"queued": 1}
    wait_until(lambda: Delivery.objects.get(pk=failed[0]["id"]).state == "delivered", what="resent", worker=worker)
    assert len(receiver.at("/down")) == 8


def test_a_postponed_mention_is_one_alert_saying_the_date_changed_and_it_was_postponed(
        alert_worker, receiver, owner, source, allow_local):
    worker = alert_worker()
    subscribe(owner, receiver.url("/moves"), change_kinds=["date_changed", "postponed"])
    tasks.persist_results.delay(launch(source, "p1", "1"))
    wait_until(lambda: EventChange.objects.filter(batch_id="p1").exists(), what="first persist", worker=worker)
    tasks.persist_results.delay(launch(source, "p2", "2", kind="postponed", when=date(2027, 1, 15)))
    [alert] = receiver.wait_for("/moves", 1)
    time.sleep(1)
    assert len(receiver.at("/moves")) == 1
    changes = alert.json()["data"]["changes"]
    assert [(c["kind"], c["old"]["tge_date"], c["new"]["tge_date"]) for c in changes] == [
        ("date_changed", "2026-12-04", "2027-01-15"), ("postponed", "2026-12-04", "2027-01-15")]
    assert alert.json()["data"]["event"]["status"] == "postponed"


def test_a_burst_of_changes_to_one_event_is_the_first_alert_then_one_merged_alert(
        alert_worker, receiver, owner, source, allow_local):
    worker = alert_worker()
    subscribe(owner, receiver.url("/burst"), change_kinds=["new", "updated"])
    for i in range(4):  # one new event, then three more mentions of it within ALERT_COALESCE_SECONDS
        tasks.persist_results.delay(launch(source, f"u{i}", str(i), confidence=0.9 + i / 100))
    wait_until(lambda: EventChange.objects.count() == 4, what="four persists", worker=worker)
    receiver.wait_for("/burst", 1)
    time.sleep(3 + 2)  # the coalescing window, and a margin: nothing more comes
    alerts = receiver.at("/burst")
    kinds = [[c["kind"] for c in alert.json()["data"]["changes"]] for alert in alerts]
    # The first alert leaves at once (changes planned before it is taken ride on it); the rest wait for the window.
    assert 1 <= len(alerts) <= 2 and kinds[0][0] == "new", kinds
    assert sorted(k for alert in kinds for k in alert) == ["new", "updated", "updated", "updated"]
    if len(alerts) == 2:
        assert alerts[1].at - alerts[0].at >= 2.5
    assert Delivery.objects.filter(state="merged").count() == 4 - len(alerts)


def test_a_private_address_channel_is_refused_at_save_and_at_send(alert_worker, receiver, owner, source, config):
    refused = owner.post("/api/v1/subscriptions", {"name": "inside", "channels": [
        {"kind": "webhook", "url": receiver.url("/private")}]}, format="json")
    assert refused.status_code == 400
    assert "not a public internet address" in refused.json()["detail"]["channels"]["0"]["url"][0]
    apprise = owner.post("/api/v1/subscriptions", {"name": "inside", "channels": [
        {"kind": "apprise", "url": receiver.url("/private").replace("http://", "json://")}]}, format="json")
    assert apprise.status_code == 400, apprise.content

    # Saved while allowed (or before its DNS changed): the send refuses it all the same.
    config(SCRAPING_ALLOW_PRIVATE_NETWORKS=True)
    subscribe(owner, receiver.url("/private"))
    subscribe(owner, receiver.url("/private-apprise").replace("http://", "json://"), kind="apprise")
    worker = alert_worker(SCRAPING_ALLOW_PRIVATE_NETWORKS="false")
    tasks.persist_results.delay(launch(source, "s1", "1"))
    failed = wait_until(lambda: len(found := list(Delivery.objects.filter(state="failed"))) == 2 and found,
                        what="both refused", worker=worker)
    assert all("not a public internet address" in d.last_error and d.attempts == 1 for d in failed)
    assert receiver.at("/private") == receiver.at("/private-apprise") == []


@pytest.mark.django_db
def test_subscriptions_are_owner_scoped(owner, reader, staff):
    mine = subscribe(owner, "https://hooks.example.com/tge")
    assert reader.get(f"/api/v1/subscriptions/{mine['id']}").status_code == 404
    assert reader.patch(f"/api/v1/subscriptions/{mine['id']}", {"name": "x"}, format="json").status_code == 404
    assert reader.delete(f"/api/v1/subscriptions/{mine['id']}").status_code == 404
    assert reader.post(f"/api/v1/subscriptions/{mine['id']}/test").status_code == 404
    assert reader.get("/api/v1/subscriptions").json()["results"] == []
    assert [s["id"] for s in owner.get("/api/v1/subscriptions").json()["results"]] == [mine["id"]]
    assert [s["id"] for s in staff.get("/api/v1/subscriptions").json()["results"]] == [mine["id"]]
    assert Subscription.objects.get().owner_key.name == "alerts owner"


def test_a_reviewer_confirming_a_candidate_alerts_those_who_asked_for_confirmations(
        alert_worker, receiver, owner, staff, source, allow_local):
    worker = alert_worker()
    subscribe(owner, receiver.url("/confirmed"), change_kinds=["confirmed"])
    tasks.persist_results.delay(launch(source, "c1", "1", confidence=0.5))  # a candidate: no alert yet
    event = wait_until(lambda: EventChange.objects.filter(batch_id="c1").first(), what="persist", worker=worker).event
    assert staff.post(f"/api/v1/tge-events/{event.pk}/confirm").status_code == 200
    [alert] = receiver.wait_for("/confirmed", 1)
    change = alert.json()["data"]["changes"][0]
    assert (change["kind"], change["old"]["review"], change["new"]["review"]) == ("confirmed", "unreviewed", "confirmed")
    assert EventChange.objects.get(kind="confirmed").reviewed_by.username == "ops"


@pytest.mark.django_db
@pytest.mark.parametrize("kind, url, refused", [
    ("apprise", "json://127.0.0.1:9/hook", "not a public internet address"),
    ("apprise", "ntfy://10.1.2.3/topic", "not a public internet address"),
    ("apprise", "mailto://user:pass@example.com?smtp=192.168.1.1", "not a public internet address"),
    ("apprise", "not-a-service://anything", "Apprise does not know this URL"),
    ("webhook", "ftp://example.com/hook", "http:// or https://"),
    ("webhook", "http://[::ffff:127.0.0.1]/hook", "not a public internet address"),
    ("apprise", "tgram://123456789:abcdefghij/12345", None),  # Telegram's fixed address
    ("apprise", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/", None),  # a token where a host would be
])
def test_channel_targets_are_checked_like_source_urls(kind, url, refused):
    channel = Channel(kind=kind, url=url)
    if refused is None:
        channel.clean()
        return
    with pytest.raises(ValidationError) as error:
        channel.clean()
    assert refused in str(error.value.message_dict["url"])


@pytest.mark.django_db
@pytest.mark.parametrize("filters, alerted", [
    ({}, True),
    ({"min_confidence": 0.96}, False),
    ({"tickers": ["qsn"], "chains": []}, True),
    ({"tickers": ["FWD"]}, False),
    ({"projects": ["quillstone"], "sources": ["wire"]}, True),
    ({"sources": ["Desk"]}, False),
    ({"statuses": ["live"]}, False),
    ({"change_kinds": ["date_changed"]}, False),
    ({"enabled": False}, False),
])
def test_a_change_alerts_the_subscriptions_whose_filters_it_passes(source, filters, alerted):
    from api import alerts, store

    key, _ = create_key("filters")
    subscription = Subscription.objects.create(name="f", owner_key=key, secret="whsec_AAAA", **filters)
    Channel.objects.create(subscription=subscription, kind="webhook", url="https://hooks.example.com/tge")
    outcome = store.persist_batch(launch(source, "b1", "1"))
    assert bool(alerts.plan_deliveries(outcome.change_ids)) is alerted
    assert alerts.plan_deliveries(outcome.change_ids) == (
        list(Delivery.objects.values_list("pk", flat=True)) if alerted else [])  # planned once, pending: sent again


@pytest.mark.django_db
@pytest.mark.parametrize("selection", [
    {"tickers": ["$qsn"]},
    {"projects": ["Quillstone Network"]},  # the same project, as the API's project filter normalizes names
    {"sources": ["WIRE"], "chains": ["SOLANA"]},
    {"statuses": ["scheduled"], "min_confidence": 0.9},
    {"tickers": ["FWD"]},
    {"include_candidates": True, "min_confidence": 0.99},
])
def test_an_event_alerts_a_subscription_exactly_when_its_calendar_lists_it(owner, source, selection):
    from api import alerts, store

    created = subscribe(owner, "https://hooks.example.com/tge", **selection)
    batch = launch(source, "b1", "1")
    batch["matches"][0]["chain"] = "Solana"
    alerted = bool(alerts.plan_deliveries(store.persist_batch(batch).change_ids))
    calendar = APIClient().get(created["calendar_url"])
    assert calendar.status_code == 200, calendar.content
    assert alerted is (b"QSN" in calendar.content)


@pytest.mark.django_db
def test_a_subscription_whose_saved_filters_are_refused_selects_nothing_and_the_others_are_alerted(source, caplog):
    from api import alerts, store

    key, _ = create_key("k")
    for name, statuses in (("broken", ["someday"]), ("fine", [])):  # saved around the API's validation
        subscription = Subscription.objects.create(name=name, owner_key=key, secret="whsec_AAAA", statuses=statuses)
        Channel.objects.create(subscription=subscription, kind="webhook", url=f"https://hooks.example.com/{name}")
    planned = alerts.plan_deliveries(store.persist_batch(launch(source, "b1", "1")).change_ids)
    assert list(Delivery.objects.filter(pk__in=planned).values_list("subscription__name", flat=True)) == ["fine"]
    assert "selects nothing, its filters are refused" in caplog.text and "someday" in caplog.text


@pytest.mark.django_db
def test_a_rejected_candidate_alerts_only_the_subscriptions_that_hear_of_candidates(source, staff_user):
    from api import alerts, review, store

    key, _ = create_key("k")
    for name, candidates in (("candidates too", True), ("published only", False)):  # else the same selection
        subscription = Subscription.objects.create(name=name, owner_key=key, secret="whsec_AAAA",
                                                   include_candidates=candidates)
        Channel.objects.create(subscription=subscription, kind="webhook", url=f"https://hooks.example.com/{candidates}")
    store.persist_batch(launch(source, "c1", "1", confidence=0.5))
    event = EventChange.objects.get().event
    review.set_review(event.pk, "rejected", staff_user)
    rejected = EventChange.objects.get(kind="rejected")
    planned = alerts.plan_deliveries([rejected.pk])
    assert list(Delivery.objects.filter(pk__in=planned).values_list("subscription__name", flat=True)) == [
        "candidates too"]


@pytest.mark.django_db
def test_candidates_and_revoked_keys_get_no_alerts_unless_asked(source):
    from api import alerts, store

    key, _ = create_key("k")
    wanted = Subscription.objects.create(name="candidates too", owner_key=key, secret="whsec_AAAA",
                                         include_candidates=True)
    Channel.objects.create(subscription=wanted, kind="webhook", url="https://hooks.example.com/a")
    plain = Subscription.objects.create(name="published only", owner_key=key, secret="whsec_AAAA")
    Channel.objects.create(subscription=plain, kind="webhook", url="https://hooks.example.com/b")
    candidate = store.persist_batch(launch(source, "c1", "1", confidence=0.5))
    planned = alerts.plan_deliveries(candidate.change_ids)
    assert list(Delivery.objects.filter(pk__in=planned).values_list("subscription__name", flat=True)) == [
        "candidates too"]
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=dj_timezone.now())
    later = store.persist_batch(launch(source, "c2", "2", project="Ferrowind", ticker="FWD"))
    assert alerts.plan_deliveries(later.change_ids) == []
