"""The dashboard's live channel through a real socket.io client against the served site (uvicorn, Redis): who may
connect, and that each client gets the events its filter asked for, once."""
from __future__ import annotations

import queue
import time

import pytest
import redis
import socketio
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken

from api import event_log
from api.keys import create_key
from tests.conftest import needs_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


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
def web(start_web, live_channels):
    return start_web()


@pytest.fixture
def token(db) -> str:
    user = User.objects.create_user("watcher", password="pw-watcher-1")
    return str(AccessToken.for_user(user))


def publish(*messages):
    """What the notify stage does: append to the event log (this test's stream)."""
    return [event_log.append(item) for item in messages]


def wait_for_follower(live_channels, timeout=10.0, past: str = "0-0"):
    """Until a web process follows the log from a cursor it has saved (at or after ``past``): what is appended next
    reaches its clients."""
    client = redis.Redis.from_url(settings.CONFIG["REDIS_URL"], decode_responses=True)
    deadline = time.monotonic() + timeout
    while True:
        cursor = client.get(live_channels["LIVE_SOCKET_CHANNEL"] + ":cursor")
        if cursor and event_log.id_key(cursor) >= event_log.id_key(past):
            return
        assert time.monotonic() < deadline, "no live server follows the event log"
        time.sleep(0.1)


@needs_redis
def test_connections_need_a_valid_token_or_api_key(web, token, db):
    for auth in ({}, {"token": "not-a-jwt"}, {"api_key": "tge_" + "x" * 32}, {"token": 12}):
        with pytest.raises(Refused) as refused:
            Listener(web.url, auth)
        assert refused.value.args[0] == [{"message": "unauthorized"}], auth
    _, raw = create_key("live reader")
    for auth in ({"token": token}, {"api_key": raw}):
        listener = Listener(web.url, auth, {})
        assert listener.ack == {"ok": True, "rooms": ["floor:0"], "replayed": 0, "lost": False,
                                "last_id": event_log.last_id()}
        listener.close()


@needs_redis
def test_each_client_gets_what_its_filter_asks_for_once(web, token, live_channels):
    everything = Listener(web.url, {"token": token}, {"confidence_min": 0})
    confident = Listener(web.url, {"token": token}, {"confidence_min": 0.8})
    watching = Listener(web.url, {"token": token}, {"confidence_min": 0.5, "tickers": ["$abc", "XYZ"]})
    wait_for_follower(live_channels)
    try:
        publish(message(1, 0.3), message(2, 0.85, "ABC"), message(3, 0.6, "XYZ"), message(4, 0.95, "QQQ"),
                ["not", "an", "event"], message(5, 0.45, "ABC"))
        assert sorted(everything.ids(3)) == [1, 2, 3, 4, 5]
        assert sorted(confident.ids(0.5)) == [2, 4]
        assert sorted(watching.ids(0.5)) == [2, 3]
    finally:
        for listener in (everything, confident, watching):
            listener.close()


@needs_redis
def test_a_bad_subscription_is_refused_with_a_reason_and_changes_nothing(web, token, live_channels):
    listener = Listener(web.url, {"token": token}, {"confidence_min": 0.9})
    wait_for_follower(live_channels)
    try:
        for bad in ("all", {"confidence_min": 2}, {"confidence_min": True}, {"tickers": "ABC"},
                    {"tickers": ["x" * 30]}, {"tickers": [f"T{i}" for i in range(60)]}, {"last_id": 5},
                    {"last_id": "yesterday"}, {"last_id": "1-2-3"}, {"last_id": "9" * 30}):
            ack = listener.client.call("subscribe", bad, timeout=10)
            assert ack["ok"] is False and ack["error"], bad
        publish(message(7, 0.5), message(8, 0.95))
        assert listener.ids(2) == [8]
    finally:
        listener.close()


@needs_redis
def test_two_web_processes_deliver_each_event_once_to_their_clients(start_web, token, live_channels):
    first, second = start_web(), start_web()
    on_first = Listener(first.url, {"token": token}, {})
    on_second = Listener(second.url, {"token": token}, {})
    wait_for_follower(live_channels)
    try:
        publish(message(11, 0.9), message(12, 0.9))
        assert on_first.ids(3) == [11, 12]
        assert on_second.ids(1) == [11, 12]
    finally:
        on_first.close()
        on_second.close()


@needs_redis
def test_a_client_that_comes_back_gets_what_it_missed_through_its_filter(web, token, live_channels):
    publish(message(20, 0.9))
    first = Listener(web.url, {"token": token}, {}).ack["last_id"]  # a new page learns where the log is
    *_, newest = publish(message(22, 0.4), message(23, 0.95, "ABC"), message(24, 0.85))
    wait_for_follower(live_channels, past=newest)  # they went out live before this client came back
    listener = Listener(web.url, {"token": token}, {"confidence_min": 0.8, "last_id": first})
    try:
        assert listener.ack["replayed"] == 2 and listener.ack["lost"] is False
        assert listener.ids(1) == [23, 24]
    finally:
        listener.close()


@needs_redis
def test_a_client_whose_last_id_was_trimmed_is_told_so(web, token, live_channels, config):
    config(EVENT_LOG_MAXLEN=10)
    ids = [event_log.append(message(100 + i, 0.9)) for i in range(1000)]  # Redis trims whole nodes: many, to be sure
    listener = Listener(web.url, {"token": token}, {"last_id": ids[0]})
    try:
        assert listener.ack["lost"] is True and 0 < listener.ack["replayed"] < 1000
    finally:
        listener.close()


def test_without_redis_the_server_follows_the_table_log(start_web, token, live_channels, config):
    """The embedded default: one process, an in-process manager, the event log in the database."""
    config(REDIS_URL="")
    web = start_web(REDIS_URL="")
    listener = Listener(web.url, {"token": token}, {})
    try:
        deadline = time.monotonic() + 15
        while not listener.ids(0.5):  # until the follower has started: then each append arrives
            publish(message(31, 0.9))
            assert time.monotonic() < deadline, "nothing arrived from the table log"
        publish(message(32, 0.9))
        assert 32 in listener.ids(3)
    finally:
        listener.close()
