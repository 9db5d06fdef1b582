"""The dashboard's live channel through a real socket.io client against the served site (uvicorn, Redis): who may
connect, and that each client gets the events its filter asked for, once."""
from __future__ import annotations

import json
import queue
import time

import pytest
import redis
import socketio
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken

from api.keys import create_key
from tests.conftest import needs_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


def message(event_id: int, confidence: float, ticker: str | None = None) -> dict:
    return {"id": event_id, "project": f"Project {event_id}", "ticker": ticker, "tge_date": None, "status": "announced",
            "chain": None, "venues": [], "confidence": confidence, "is_candidate": False, "mention_count": 1,
            "source_count": 1, "first_seen_at": "2026-11-20T09:00:00+00:00", "last_seen_at": "2026-11-20T09:00:00+00:00"}


class Refused(Exception):
    """The server refused the connection; ``args[0]`` is what it said (socket.io's connect_error data)."""


class Listener:
    """A socket.io client that keeps what it receives."""

    def __init__(self, url: str, auth: dict, subscription: dict | None = None):
        self.received: queue.Queue = queue.Queue()
        self.refusals: list = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("tge_event", self.received.put)
        self.client.on("connect_error", self.refusals.append)
        try:
            self.client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError as exc:
            raise Refused(self.refusals) from exc
        self.ack = self.client.call("subscribe", subscription or {}, timeout=10) if subscription is not None else None

    def ids(self, wait: float) -> list[int]:
        deadline, ids = time.monotonic() + wait, []
        while (left := deadline - time.monotonic()) > 0:
            try:
                ids.append(self.received.get(timeout=left)["event"]["id"])
            except queue.Empty:
                break
        return ids

    def close(self):
        self.client.disconnect()


@pytest.fixture
def web(start_web):
    return start_web()


@pytest.fixture
def token(db) -> str:
    user = User.objects.create_user("watcher", password="pw-watcher-1")
    return str(AccessToken.for_user(user))


def publish(live_channels, *messages):
    client = redis.Redis.from_url(settings.CONFIG["REDIS_URL"])
    for item in messages:
        client.publish(live_channels["NOTIFY_CHANNEL"], item if isinstance(item, str) else json.dumps(item))


def wait_for_follower(live_channels, timeout=10.0):
    client = redis.Redis.from_url(settings.CONFIG["REDIS_URL"])
    deadline = time.monotonic() + timeout
    while client.pubsub_numsub(live_channels["NOTIFY_CHANNEL"])[0][1] < 1:
        assert time.monotonic() < deadline, "no live server follows the notify channel"
        time.sleep(0.1)


def test_connections_need_a_valid_token_or_api_key(web, token, db):
    for auth in ({}, {"token": "not-a-jwt"}, {"api_key": "tge_" + "x" * 32}, {"token": 12}):
        with pytest.raises(Refused) as refused:
            Listener(web.url, auth)
        assert refused.value.args[0] == [{"message": "unauthorized"}], auth
    _, raw = create_key("live reader")
    for auth in ({"token": token}, {"api_key": raw}):
        listener = Listener(web.url, auth, {})
        assert listener.ack == {"ok": True, "rooms": ["floor:0"], "replayed": 0}
        listener.close()


def test_each_client_gets_what_its_filter_asks_for_once(web, token, live_channels):
    everything = Listener(web.url, {"token": token}, {"confidence_min": 0})
    confident = Listener(web.url, {"token": token}, {"confidence_min": 0.8})
    watching = Listener(web.url, {"token": token}, {"confidence_min": 0.5, "tickers": ["$abc", "XYZ"]})
    wait_for_follower(live_channels)
    try:
        publish(live_channels, message(1, 0.3), message(2, 0.85, "ABC"), message(3, 0.6, "XYZ"),
                message(4, 0.95, "QQQ"), "not json", message(5, 0.45, "ABC"))
        assert sorted(everything.ids(3)) == [1, 2, 3, 4, 5]
        assert sorted(confident.ids(0.5)) == [2, 4]
        assert sorted(watching.ids(0.5)) == [2, 3]
    finally:
        for listener in (everything, confident, watching):
            listener.close()


def test_a_bad_subscription_is_refused_with_a_reason_and_changes_nothing(web, token, live_channels):
    listener = Listener(web.url, {"token": token}, {"confidence_min": 0.9})
    wait_for_follower(live_channels)
    try:
        for bad in ("all", {"confidence_min": 2}, {"confidence_min": True}, {"tickers": "ABC"},
                    {"tickers": ["x" * 30]}, {"tickers": [f"T{i}" for i in range(60)]}, {"last_id": 5}):
            ack = listener.client.call("subscribe", bad, timeout=10)
            assert ack["ok"] is False and ack["error"], bad
        publish(live_channels, message(7, 0.5), message(8, 0.95))
        assert listener.ids(2) == [8]
    finally:
        listener.close()


def test_two_web_processes_deliver_each_event_once_to_their_clients(start_web, token, live_channels):
    first, second = start_web(), start_web()
    on_first = Listener(first.url, {"token": token}, {})
    on_second = Listener(second.url, {"token": token}, {})
    wait_for_follower(live_channels)
    try:
        publish(live_channels, message(11, 0.9), message(12, 0.9))
        assert on_first.ids(3) == [11, 12]
        assert on_second.ids(1) == [11, 12]
    finally:
        on_first.close()
        on_second.close()
