"""The dashboard's live channel: socket.io at ``/socket.io/`` (python-socketio's ASGI server), mounted beside Django
in ``tgesweeper/asgi.py`` and served by uvicorn.

- **Who may connect**: a client sends ``{"token": <access JWT>}`` or ``{"api_key": "tge_..."}`` as its socket.io auth;
  anything else is refused with ``unauthorized``.
- **What a client gets**: it emits ``subscribe`` with a confidence floor and an optional watch list of tickers and
  joins the rooms for them (``floor:80``, ``ticker:ABC:floor:80``; floors in steps of 5 %, rounded down). An event
  is emitted once to the rooms it belongs to, so a client receives only what it asked for, once.
- **Where events come from**: the pipeline's notify stage appends each new or changed event to the event log
  (``api.event_log``: a Redis Stream, or a table on the embedded default). One web process at a time (the holder of
  a Redis lease) follows the log and emits through python-socketio's ``AsyncRedisManager``, which delivers to the
  clients of every web process; the others stand by and take over from the cursor it left when the lease lapses.
  Without ``REDIS_URL`` there is one process, an in-process manager, and it follows the table.
- **No gaps**: a client that reconnects subscribes with the last log id it saw; the server replays what the log
  holds after it (through the same filter) before the live events, and says when the log had trimmed some of it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time

import redis.asyncio as aioredis
import socketio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from api import event_log, keys

log = logging.getLogger(__name__)

EVENT = "tge_event"
FLOOR_STEP = 5  # percent
MAX_TICKERS = 50
LEASE_SECONDS = 5.0
RENEW_EVERY = 1.5
UNAUTHORIZED = "unauthorized"
LOG_BATCH = 200
MAX_REPLAY = 2000


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
    if last_id is not None:
        if not isinstance(last_id, str):
            raise ValueError("last_id must be the id of an event-log entry")
        try:
            event_log.id_key(last_id)
        except event_log.BadLogId as exc:
            raise ValueError(f"last_id: {exc}") from None
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
    if last_id is None:  # a new page: where the log is now, so that its next reconnect replays from there
        return {"ok": True, "rooms": rooms, "replayed": 0, "lost": False, "last_id": await in_thread(event_log.last_id)}
    replayed, lost = await replay(sid, last_id, confidence, tickers)
    return {"ok": True, "rooms": rooms, "replayed": replayed, "lost": lost}


# --- following the event log ------------------------------------------------------------------------------------

async def emit_event(log_id: str | None, message: dict) -> None:
    await sio.emit(EVENT, {"log_id": log_id, "event": message}, to=rooms_for_event(message))


def _read_log(reader, *args):
    close_old_connections()  # the table log reads the database from a worker thread
    try:
        return reader(*args)
    finally:
        close_old_connections()


async def in_thread(reader, *args):
    return await sync_to_async(_read_log, thread_sensitive=False)(reader, *args)


class Follower:
    """Follows the event log and emits what is appended. With Redis, only while it holds the lease (one follower
    among the web processes), and from the cursor the previous holder left, so a takeover skips nothing."""

    def __init__(self, url: str | None):
        prefix = settings.CONFIG["LIVE_SOCKET_CHANNEL"]
        self.client = aioredis.Redis.from_url(url, socket_timeout=10, decode_responses=True) if url else None
        self.lease_key, self.cursor_key = prefix + ":follower", prefix + ":cursor"
        self.token = secrets.token_hex(8)
        self.cursor: str | None = None

    async def hold_lease(self) -> bool:
        """Takes the lease when it is free, renews it when it is ours (always true without Redis: one process)."""
        if self.client is None:
            return True
        ms = int(LEASE_SECONDS * 1000)
        if await self.client.set(self.lease_key, self.token, nx=True, px=ms):
            return True
        renewed = await self.client.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
            1, self.lease_key, self.token, ms)
        return bool(renewed)

    async def release(self) -> None:
        if self.client is not None:
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
                log.exception("live channel: following the event log failed; again in a second")
                await asyncio.sleep(1)

    async def start_cursor(self) -> str:
        saved = await self.client.get(self.cursor_key) if self.client is not None else None
        if saved:
            try:
                event_log.id_key(saved)
                return saved
            except event_log.BadLogId:
                pass
        return self.cursor or await in_thread(event_log.last_id)

    async def follow(self) -> None:
        self.cursor = await self.start_cursor()
        renewed = time.monotonic()
        while True:
            if time.monotonic() - renewed >= RENEW_EVERY:
                if not await self.hold_lease():
                    return  # another process follows now
                renewed = time.monotonic()
            for log_id, message in await in_thread(event_log.wait_since, self.cursor, 1.0, LOG_BATCH):
                if isinstance(message, dict) and "id" in message:
                    await emit_event(log_id, message)
                self.cursor = log_id
            if self.client is not None:
                await self.client.set(self.cursor_key, self.cursor)


def wanted(message: dict, confidence_min: float, tickers: list[str]) -> bool:
    """What the rooms of a subscription select, for one message (the replay reads the log, not the rooms)."""
    return any(room in rooms_for_event(message) for room in rooms_for_filter(confidence_min, tickers))


async def replay(sid: str, last_id: str, confidence_min: float, tickers: list[str]) -> tuple[int, bool]:
    """Emits to one client what the log holds after ``last_id`` that its filter selects; says whether the log had
    already trimmed some of it (the client then reloads what it shows)."""
    lost = await in_thread(event_log.lost_since, last_id)
    sent, cursor = 0, last_id
    while sent < MAX_REPLAY:
        batch = await in_thread(event_log.read_since, cursor, LOG_BATCH)
        for log_id, message in batch:
            if isinstance(message, dict) and "id" in message and wanted(message, confidence_min, tickers):
                await sio.emit(EVENT, {"log_id": log_id, "event": message}, to=sid)
                sent += 1
            cursor = log_id
        if len(batch) < LOG_BATCH:
            break
    return sent, lost


_follower_task: asyncio.Task | None = None
_follower: Follower | None = None


async def start() -> None:
    """ASGI startup: follow the event log in the background."""
    global _follower_task, _follower
    _follower = Follower(settings.CONFIG["REDIS_URL"] or None)
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
