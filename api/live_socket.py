"""The dashboard's live channel: socket.io at ``/socket.io/`` (python-socketio's ASGI server), mounted beside Django
in ``tgesweeper/asgi.py`` and served by uvicorn.

- **Who may connect**: a client sends ``{"token": <access JWT>}`` or ``{"api_key": "tge_..."}`` as its socket.io auth;
  anything else is refused with ``unauthorized``.
- **What a client gets**: it emits ``subscribe`` with a confidence floor and an optional watch list of tickers and
  joins the rooms for them (``floor:80``, ``ticker:ABC:floor:80``; floors in steps of 5 %, rounded down). An event
  is emitted once to the rooms it belongs to, so a client receives only what it asked for, once.
- **Where events come from**: the pipeline's notify stage publishes each new or changed event on ``NOTIFY_CHANNEL``.
  One web process at a time (the holder of a Redis lease) follows it and emits through python-socketio's
  ``AsyncRedisManager``, which delivers to the clients of every web process; the others stand by and take over
  when the lease lapses. Without ``REDIS_URL`` there is one process, an in-process manager and no pub/sub to follow.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
import time

import redis.asyncio as aioredis
import socketio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from api import keys

log = logging.getLogger(__name__)

EVENT = "tge_event"
FLOOR_STEP = 5  # percent
MAX_TICKERS = 50
LEASE_SECONDS = 5.0
RENEW_EVERY = 1.5
UNAUTHORIZED = "unauthorized"


def _manager():
    url, channel = settings.CONFIG["REDIS_URL"], settings.CONFIG["LIVE_SOCKET_CHANNEL"]
    return socketio.AsyncRedisManager(url, channel=channel) if url else socketio.AsyncManager()


sio = socketio.AsyncServer(async_mode="asgi", client_manager=_manager(), transports=["websocket"])


# --- rooms --------------------------------------------------------------------------------------------------------

def _floor_percent(confidence: float) -> int:
    return max(0, min(100, math.floor(confidence * 100 + 1e-9) // FLOOR_STEP * FLOOR_STEP))


def normalize_ticker(raw: str) -> str:
    return raw.strip().lstrip("$").upper()


def rooms_for_filter(confidence_min: float, tickers: list[str]) -> list[str]:
    floor = _floor_percent(confidence_min)
    if tickers:
        return [f"ticker:{t}:floor:{floor}" for t in tickers]
    return [f"floor:{floor}"]


def rooms_for_event(message: dict) -> list[str]:
    """Every room whose clients asked for this event: the floors at or under its confidence, for all and for its ticker."""
    floors = range(0, math.floor(float(message.get("confidence") or 0) * 100 + 1e-9) + 1, FLOOR_STEP)
    rooms = [f"floor:{f}" for f in floors]
    if message.get("ticker"):
        ticker = normalize_ticker(message["ticker"])
        rooms += [f"ticker:{ticker}:floor:{f}" for f in floors]
    return rooms


def parse_subscription(data) -> tuple[float, list[str], str | None]:
    """A client's ``subscribe`` payload, checked: hostile input is refused with a message, never half applied."""
    if not isinstance(data, dict):
        raise ValueError("subscribe takes an object: {confidence_min, tickers, last_id}")
    confidence = data.get("confidence_min", 0)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise ValueError("confidence_min must be a number from 0 to 1")
    tickers = data.get("tickers") or []
    if (not isinstance(tickers, list) or len(tickers) > MAX_TICKERS
            or not all(isinstance(t, str) and 0 < len(normalize_ticker(t)) <= 20 for t in tickers)):
        raise ValueError(f"tickers must be a list of at most {MAX_TICKERS} tickers")
    last_id = data.get("last_id")
    if last_id is not None and (not isinstance(last_id, str) or len(last_id) > 40):
        raise ValueError("last_id must be the id of an event-log entry")
    return float(confidence), sorted({normalize_ticker(t) for t in tickers}), last_id


# --- connection and subscription ------------------------------------------------------------------------------

def _user_for_token(token: str):
    try:
        user_id = AccessToken(token)[settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id")]
    except TokenError:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def identify(auth) -> str | None:
    """Who connects: ``user:<name>`` or ``api-key:<prefix>``, or None when the credentials are not valid."""
    if not isinstance(auth, dict):
        return None
    if isinstance(auth.get("token"), str) and auth["token"]:
        user = _user_for_token(auth["token"])
        return f"user:{user.get_username()}" if user else None
    if isinstance(auth.get("api_key"), str) and auth["api_key"]:
        key = keys.find_active(auth["api_key"])
        return f"api-key:{key.prefix}" if key else None
    return None


@sio.event
async def connect(sid, environ, auth=None):
    who = await sync_to_async(identify)(auth)
    if who is None:
        raise socketio.exceptions.ConnectionRefusedError(UNAUTHORIZED)
    await sio.save_session(sid, {"who": who})


@sio.event
async def subscribe(sid, data):
    try:
        confidence, tickers, last_id = parse_subscription(data)
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}
    for room in list(sio.rooms(sid)):
        if room != sid:
            await sio.leave_room(sid, room)
    rooms = rooms_for_filter(confidence, tickers)
    for room in rooms:
        await sio.enter_room(sid, room)
    return {"ok": True, "rooms": rooms, "replayed": 0}


# --- following the notify stage ------------------------------------------------------------------------------

async def emit_event(log_id: str | None, message: dict) -> None:
    await sio.emit(EVENT, {"log_id": log_id, "event": message}, to=rooms_for_event(message))


class Follower:
    """Follows ``NOTIFY_CHANNEL`` and emits what it reads, while it holds the lease (one follower among processes)."""

    def __init__(self, url: str):
        self.client = aioredis.Redis.from_url(url, socket_timeout=10)
        self.lease_key = settings.CONFIG["LIVE_SOCKET_CHANNEL"] + ":follower"
        self.token = secrets.token_hex(8)

    async def hold_lease(self) -> bool:
        """Takes the lease when it is free, renews it when it is ours."""
        ms = int(LEASE_SECONDS * 1000)
        if await self.client.set(self.lease_key, self.token, nx=True, px=ms):
            return True
        renewed = await self.client.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
            1, self.lease_key, self.token, ms)
        return bool(renewed)

    async def release(self) -> None:
        await self.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
                               "return 0", 1, self.lease_key, self.token)

    async def run(self) -> None:
        while True:
            try:
                if await self.hold_lease():
                    await self.follow()
                else:
                    await asyncio.sleep(RENEW_EVERY)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live channel: following %s failed; again in a second", settings.CONFIG["NOTIFY_CHANNEL"])
                await asyncio.sleep(1)

    async def follow(self) -> None:
        async with self.client.pubsub() as pubsub:
            await pubsub.subscribe(settings.CONFIG["NOTIFY_CHANNEL"])
            renewed = time.monotonic()
            while True:
                if time.monotonic() - renewed >= RENEW_EVERY:
                    if not await self.hold_lease():
                        return  # another process follows now
                    renewed = time.monotonic()
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if item is None:
                    continue
                try:
                    message = json.loads(item["data"])
                except (TypeError, ValueError):
                    log.warning("live channel: not JSON on %s, skipped", settings.CONFIG["NOTIFY_CHANNEL"])
                    continue
                if isinstance(message, dict) and "id" in message:
                    await emit_event(None, message)


_follower_task: asyncio.Task | None = None
_follower: Follower | None = None


async def start() -> None:
    """ASGI startup: follow the notify stage in the background (needs Redis; see the module's docstring)."""
    global _follower_task, _follower
    url = settings.CONFIG["REDIS_URL"]
    if not url:
        log.warning("live channel: no REDIS_URL, so no notify channel to follow; clients connect but get no events")
        return
    _follower = Follower(url)
    _follower_task = asyncio.create_task(_follower.run(), name="live-follower")


async def stop() -> None:
    global _follower_task
    if _follower_task is not None:
        _follower_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _follower_task
        _follower_task = None
    if _follower is not None:
        with contextlib.suppress(Exception):
            await _follower.release()
