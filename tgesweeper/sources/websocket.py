"""Push sources: an exchange's announcement stream over WebSocket, with its HTTP announcement list behind it.

A ``websocket`` source is a ``json`` source (its URL is the HTTP announcement list, its options map that list's
items) plus a ``stream`` option: the WebSocket that pushes each new announcement the moment it is published. The
long-lived consumer (``manage.py consume_push``) holds the stream open; each list fetch — the backfill after every
(re)connect, and the scheduled poll that stands in while no consumer runs — reads the list. Both give documents with
the same mapping, so an announcement has one external id whichever way it came (dedup by announcement id).

Options (``Source.options``)::

    {"items": "data.articles", "title": "title", "id": "id", "date": "releaseDate",   # the json kind's options
     "date_format": "epoch_ms", "body": "body", "url": "https://www.example.com/a/{code}",
     "stream": {"url": "wss://stream.example.com/announcements",   # required: ws:// or wss://
                "subscribe": {"command": "SUBSCRIBE", "value": "announcements_en"},   # frame(s) sent on connect
                "items": "data",          # path to the announcement(s) in a message: an object, a list, or a
                                          # JSON string of either (some exchanges wrap the payload in a string)
                "when": {"type": "DATA"},  # a message carries announcements only if these top-level keys equal
                                           # these values (acknowledgements and other control messages do not)
                "ping_interval": 20}}      # seconds between our pings (the heartbeat); the server's are answered

This module is pure: the frames to send, a message's documents, the reconnect delays. The consumer in ``workers``
does the I/O, through ``tgesweeper.net`` (the same host rule for the stream as for every fetch).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tgesweeper import net
from tgesweeper.sources import SourceKind, fetch_url, fields, json_api
from tgesweeper.sources.documents import NormalizedDocument

MAX_MESSAGE_BYTES = 1024 * 1024  # a bigger message closes the stream (the client refuses it): backfill then reads it
MAX_SUBSCRIBE_FRAMES = 10
DEFAULT_PING_INTERVAL = 20.0
STREAM_OPTIONS = ("url", "subscribe", "items", "when", "ping_interval")


class WebSocketSourceError(Exception):
    """A stream message that is not JSON, too big or of a shape the source's mapping cannot read."""


# --- options ---------------------------------------------------------------------------------------

def validate_options(options: object) -> list[str]:
    """Problems with a websocket source's options, each naming the option; empty when usable."""
    if not isinstance(options, dict):
        return ['options must be an object: the json options of the announcement list plus "stream"']
    problems = json_api.validate_options({k: v for k, v in options.items() if k != "stream"})
    stream = options.get("stream")
    if not isinstance(stream, dict):
        return [*problems, 'the websocket option "stream" is required: {"url": "wss://...", ...}']
    problems += [f"unknown stream option {name!r}" for name in sorted(set(stream) - set(STREAM_OPTIONS))]
    url = stream.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("ws://", "wss://")):
        problems.append("the stream option 'url' must be a ws:// or wss:// URL")
    frames = stream.get("subscribe", [])
    frames = frames if isinstance(frames, list) else [frames]
    if len(frames) > MAX_SUBSCRIBE_FRAMES or not all(isinstance(f, dict | str) for f in frames):
        problems.append(f"the stream option 'subscribe' must be a JSON object or string, or a list of at most "
                        f"{MAX_SUBSCRIBE_FRAMES} of them")
    items = stream.get("items", "")
    if not isinstance(items, str):
        problems.append("the stream option 'items' must be a path string")
    else:
        try:
            json_api.parse_path(items)
        except ValueError as exc:
            problems.append(f"the stream option 'items': {exc}")
    when = stream.get("when", {})
    if not isinstance(when, dict) or not all(isinstance(v, str | int | bool) for v in when.values()):
        problems.append("the stream option 'when' must be an object of top-level keys and strings, whole numbers or "
                        "booleans")
    ping = stream.get("ping_interval", DEFAULT_PING_INTERVAL)
    if isinstance(ping, bool) or not isinstance(ping, int | float) or not 1 <= ping <= 600:
        problems.append("the stream option 'ping_interval' must be a number of seconds from 1 to 600")
    return problems


def stream_url(options: dict) -> str:
    return str((options.get("stream") or {}).get("url") or "")


def subscribe_frames(options: dict) -> list[str]:
    """The text frames to send once connected, in order."""
    frames = options["stream"].get("subscribe", [])
    return [f if isinstance(f, str) else json.dumps(f) for f in (frames if isinstance(frames, list) else [frames])]


def ping_interval(options: dict) -> float:
    return float(options["stream"].get("ping_interval", DEFAULT_PING_INTERVAL))


def reconnect_delay(attempt: int, *, base: float, cap: float) -> float:
    """Seconds before reconnect number ``attempt`` (0-based): exponential backoff with full jitter, as fetch retries."""
    return net.backoff_delay(attempt, base=base, cap=cap)


# --- parse -----------------------------------------------------------------------------------------

def parse_message(body: bytes | str, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
                  options: dict | None = None) -> list[NormalizedDocument]:
    """One stream message to its announcements' documents ([] for a control message the ``when`` keys leave out)."""
    options = fields.usable_options(options, validate_options, WebSocketSourceError)
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > MAX_MESSAGE_BYTES:
        raise WebSocketSourceError(f"the message is {len(raw):,} bytes, over the {MAX_MESSAGE_BYTES:,}-byte limit")
    message = _json(raw, "the message")
    if not isinstance(message, dict):
        raise WebSocketSourceError(f"the message is a JSON {type(message).__name__}, not an object")
    stream = options["stream"]
    if any(message.get(key) != value for key, value in (stream.get("when") or {}).items()):
        return []
    items: list[object] = []
    for found in json_api.resolve(message, json_api.parse_path(stream.get("items", ""))):
        if isinstance(found, str) and found.lstrip()[:1] in ("{", "["):
            found = _json(found.encode("utf-8", "surrogatepass"), "the message's announcement string")
        items.extend(found if isinstance(found, list) else [found])
    if not any(isinstance(item, dict) for item in items):
        raise WebSocketSourceError(f"no announcement object at {stream.get('items', '')!r} in the message "
                                   f"(keys: {', '.join(list(message)[:10])[:200]})")
    mapping = {k: v for k, v in options.items() if k != "stream"}
    return json_api.item_documents(items, mapping, feed_url=feed_url, fetched_at=fetched_at, max_items=max_items)


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise WebSocketSourceError(f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise WebSocketSourceError(f"{what} is not JSON: {str(exc)[:200]}") from None


def parse(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
          options: dict | None = None) -> list[NormalizedDocument]:
    """The parse stage's entry: a stream message (``feed_url`` is the ws:// or wss:// stream), else the HTTP
    announcement list, read as the json kind reads it."""
    if feed_url.lower().startswith(("ws://", "wss://")):
        return parse_message(body, feed_url=feed_url, fetched_at=fetched_at, max_items=max_items, options=options)
    options = fields.usable_options(options, validate_options, WebSocketSourceError)
    try:
        return json_api.parse_json(body, feed_url=feed_url, fetched_at=fetched_at, max_items=max_items,
                                   options={k: v for k, v in options.items() if k != "stream"})
    except json_api.JSONSourceError as exc:
        raise WebSocketSourceError(f"the announcement list: {exc}") from None


_FRAME = [{"type": "object"}, {"type": "string"}]
# ws(s) and a host with a top-level domain of letters, as the API's schema describes Source URLs; where the host
# resolves to is checked at save time and at every connect, not here.
STREAM_URL_PATTERN = f"^[Ww][Ss][Ss]?://[^/?#\\x00]{{1,250}}[.][A-Za-z]{{2,63}}[.]?{fields.URL_PORT}([/?#][^\\x00]*)?$"
OPTIONS_SCHEMA: dict[str, Any] = {
    **json_api.OPTIONS_SCHEMA,
    "required": [*json_api.OPTIONS_SCHEMA["required"], "stream"],
    "properties": {**json_api.OPTIONS_SCHEMA["properties"], "stream": {
        "type": "object", "additionalProperties": False, "required": ["url"], "properties": {
            "url": {"type": "string", "pattern": STREAM_URL_PATTERN},
            "subscribe": {"oneOf": [*_FRAME, {"type": "array", "maxItems": MAX_SUBSCRIBE_FRAMES,
                                              "items": {"oneOf": _FRAME}}]},
            "items": {"type": "string", "format": "json-path"},
            "when": {"type": "object", "additionalProperties": {
                "oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}},
            "ping_interval": {"type": "number", "minimum": 1, "maximum": 600}}}},
}

KIND = SourceKind("websocket", fetch=fetch_url, parse=parse, parse_error=WebSocketSourceError,
                  option_problems=lambda options, query: {"options": validate_options(options)},
                  options_schema=OPTIONS_SCHEMA, stream_url=stream_url)
