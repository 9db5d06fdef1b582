"""The operators' console: every page opens, review actions work, a new API key is shown once, keyword rules
reach the engine without a restart."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages

from api import keys
from api.models import ApiKey, Channel, DeadLetter, Delivery, EventChange, KeywordRule, Source, Subscription, TGEEvent
from workers import pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-long-enough-1"))
    return client


@pytest.mark.parametrize("model", ["source", "tgeevent", "document", "mention", "pipelinefailure", "sweeprun", "apikey",
                                   "keywordrule", "deadletter", "subscription", "delivery", "eventchange", "feedtoken"])
def test_every_changelist_opens(admin_client, model):
    Source.objects.create(name="Wire", url="https://news.example.com/rss")
    assert admin_client.get(f"/admin/api/{model}/").status_code == 200


def test_review_queue_and_actions(admin_client):
    low = TGEEvent.objects.create(key="murkwater", project="Murkwater", confidence=0.6, is_candidate=True)
    TGEEvent.objects.create(key="quillstone", project="Quillstone", confidence=0.95, is_candidate=False, published=True)
    page = admin_client.get("/admin/api/tgeevent/?queue=candidates").content.decode()
    assert "Murkwater" in page and "Quillstone" not in page
    admin_client.post("/admin/api/tgeevent/", {"action": "confirm", "_selected_action": [low.pk]})
    low.refresh_from_db()
    assert (low.review, low.published) == ("confirmed", True)


def test_a_dead_letter_is_requeued_once_as_a_new_message(admin_client, monkeypatch):
    from tgesweeper.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, kwargs: sent.append((name, args, kwargs)))
    letter = DeadLetter.objects.create(task_name="workers.tasks.fetch_source", task_id="t-1", args=[7, None],
                                       kwargs={"scheduled": True}, deliveries=3, reason="died")
    for _ in range(2):
        admin_client.post("/admin/api/deadletter/", {"action": "requeue", "_selected_action": [letter.pk]})
    assert sent == [("workers.tasks.fetch_source", [7, None], {"scheduled": True})]
    letter.refresh_from_db()
    assert letter.requeued_at is not None


def test_a_new_api_key_is_shown_once_and_stored_as_a_hash(admin_client):
    response = admin_client.post("/admin/api/apikey/add/", {"name": "dashboard"}, follow=True)
    shown = [str(m) for m in get_messages(response.wsgi_request) if "tge_" in str(m)]
    raw = shown[0].split("API key created: ")[1].split(" ")[0]
    key = ApiKey.objects.get(name="dashboard")
    assert key.key_hash == keys.hash_key(raw) and keys.find_active(raw) == key


def test_a_keyword_rule_reaches_the_engine_without_a_restart(admin_client):
    before = pipeline.engine()
    assert before is pipeline.engine()  # unchanged rules: the same engine
    admin_client.post("/admin/api/keywordrule/add/", {"vocabulary": "exclusions", "phrase": "testnet only", "enabled": "on"})
    assert KeywordRule.objects.filter(phrase="testnet only").exists()
    after = pipeline.engine()
    assert after is not before and "testnet only" in after.config.exclusions


def _inline(url: str) -> dict:
    return {"name": "launches", "enabled": "on", "owner_user": str(User.objects.get().pk), "change_kinds": '["new"]',
            "min_confidence": "0",
            "statuses": "[]", "projects": "[]", "tickers": "[]", "chains": "[]", "sources": "[]",
            "channels-TOTAL_FORMS": "1", "channels-INITIAL_FORMS": "0", "channels-MIN_NUM_FORMS": "0",
            "channels-MAX_NUM_FORMS": "1000", "channels-0-kind": "webhook", "channels-0-url": url}


def test_a_new_subscription_shows_its_secret_once_and_refuses_a_private_channel(admin_client):
    refused = admin_client.post("/admin/api/subscription/add/", _inline("http://10.0.0.5/hook"))
    assert refused.status_code == 200 and "not a public internet address" in refused.content.decode()
    response = admin_client.post("/admin/api/subscription/add/", _inline("https://hooks.example.com/tge"), follow=True)
    shown = [str(m) for m in get_messages(response.wsgi_request) if "whsec_" in str(m)]
    subscription = Subscription.objects.get()
    assert shown and subscription.secret in shown[0]
    assert subscription.owner_user.username == "root" and subscription.channels.get().kind == "webhook"
    assert subscription.secret not in admin_client.get(f"/admin/api/subscription/{subscription.pk}/change/").content.decode()


def test_failed_deliveries_are_resent_and_paused_channels_resumed_from_the_admin(admin_client, monkeypatch):
    queued = []
    monkeypatch.setattr("workers.enqueue.send_deliveries", queued.extend)
    event = TGEEvent.objects.create(key="quillstone", project="Quillstone")
    subscription = Subscription.objects.create(name="s", owner_user=User.objects.get(), secret="whsec_AAAA")
    channel = Channel.objects.create(subscription=subscription, kind="webhook", url="https://hooks.example.com/tge",
                                     paused=True, paused_reason="paused after 5 failed alerts in a row")
    failed = Delivery.objects.create(channel=channel, subscription=subscription, event=event, state="failed",
                                     change=EventChange.objects.create(event=event, kind="new"), attempts=5)
    admin_client.post("/admin/api/delivery/", {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert (queued, failed.state, failed.attempts) == ([failed.pk], "pending", 0)
    admin_client.post("/admin/api/subscription/", {"action": "resume_channels", "_selected_action": [subscription.pk]})
    channel.refresh_from_db()
    assert (channel.paused, channel.paused_reason, channel.consecutive_failures) == (False, "", 0)


def test_a_feed_token_revoked_in_the_admin_opens_no_calendar(admin_client, client):
    from api.feed_access import create_feed_token

    owner = User.objects.create_user("reader")
    token, raw = create_feed_token("phone", user=owner)
    assert client.get(f"/api/v1/calendar.ics?token={raw}").status_code == 200
    assert admin_client.get(f"/admin/api/feedtoken/{token.pk}/change/").status_code == 200
    admin_client.post("/admin/api/feedtoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert client.get(f"/api/v1/calendar.ics?token={raw}").status_code == 404


def test_a_subscriptions_feed_urls_are_shown_once_and_rotated_from_the_admin(admin_client, client):
    response = admin_client.post("/admin/api/subscription/add/", _inline("https://hooks.example.com/tge"), follow=True)
    [shown] = [str(m) for m in get_messages(response.wsgi_request) if "calendar.ics?token=" in str(m)]
    first = shown.split("calendar.ics?token=")[1].split()[0]
    assert first.startswith("tges_") and client.get(f"/api/v1/calendar.ics?token={first}").status_code == 200
    subscription = Subscription.objects.get()
    assert first not in admin_client.get(f"/admin/api/subscription/{subscription.pk}/change/").content.decode()

    rotated = admin_client.post("/admin/api/subscription/", {"action": "rotate_feed_secrets",
                                                             "_selected_action": [subscription.pk]}, follow=True)
    [shown] = [str(m) for m in get_messages(rotated.wsgi_request) if "calendar.ics?token=" in str(m)]
    second = shown.split("calendar.ics?token=")[1].split()[0]
    assert second != first
    assert client.get(f"/api/v1/calendar.ics?token={first}").status_code == 404
    assert client.get(f"/api/v1/tge-events/feed.atom?token={second}").status_code == 200
