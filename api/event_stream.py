"""``GET /api/v1/events/stream``: the event log (``api.event_log``) as Server-Sent Events, with catch-up.

A client resumes after the id it last saw: the ``Last-Event-ID`` header (what EventSource sends when it
reconnects), else ``?since=<id>``; with neither it gets what is published from now on. Each response lives at most
``EVENT_STREAM_MAX_SECONDS`` and then ends, so a web worker thread is never held for ever: the client reconnects,
as EventSource does by itself after the ``retry:`` delay, and misses nothing. Idle streams carry a comment every
``EVENT_STREAM_HEARTBEAT_SECONDS`` so proxies keep them open and a gone client is noticed.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from api import event_log

log = logging.getLogger(__name__)

EVENT = "tge-event"
RESET = "reset"
RETRY_MS = 2000
BATCH = 100
LOG_ERRORS = (redis.RedisError, DatabaseError)


STREAM_EVENT = {  # one event of the stream (OpenAPI 3.0: the schema of an event-stream describes each event)
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": [EVENT, RESET]},
        "id": {"type": "string", "pattern": event_log.ID_PATTERN, "description": "the log id (tge-event only)"},
        "data": {"type": "string", "description": "JSON: for a tge-event the event as published on `tge:events`, "
                                                  "for a reset `{\"reason\": ...}`"},
        "retry": {"type": "integer", "description": "milliseconds to wait before reconnecting"},
    },
}


class LogUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The event log cannot be read right now; retry shortly."
    default_code = "log_unavailable"


class NegotiationFreeView(APIView):
    """A view that answers in its own media type (an event stream, a calendar, a feed) and its errors in JSON.

    DRF would refuse (406) an ``Accept`` its JSON renderer does not match before the view runs; forcing the
    negotiation keeps the JSON renderer for errors, whatever the client asked for."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


def resume_point(request) -> str | None:
    """The id the client last saw: ``Last-Event-ID`` wins over ``since`` (EventSource reconnects to the same URL)."""
    unknown = set(request.query_params) - {"since"}
    if unknown:
        raise exceptions.ValidationError({name[:60]: ["Unknown parameter."] for name in sorted(unknown)[:20]})
    values = request.query_params.getlist("since")
    if len(values) > 1:
        raise exceptions.ValidationError({"since": ["Given more than once; give it once."]})
    since = _checked(values[0], "since") if values else None
    header = request.headers.get("Last-Event-ID")
    return since if header is None else _checked(header, "Last-Event-ID")


def _checked(value: str, name: str) -> str:
    try:
        event_log.id_key(value)
    except event_log.BadLogId as exc:
        raise exceptions.ValidationError({name: [str(exc)]}) from None
    return value


def frame(*, data: dict, event: str | None = None, event_id: str | None = None) -> str:
    lines = ([f"id: {event_id}"] if event_id else []) + ([f"event: {event}"] if event else [])
    return "\n".join([*lines, "data: " + json.dumps(data, separators=(",", ":"))]) + "\n\n"


def stream(start: str, *, lost: bool) -> Iterator[str]:
    config = settings.CONFIG
    deadline = time.monotonic() + config["EVENT_STREAM_MAX_SECONDS"]
    yield f"retry: {RETRY_MS}\n\n"
    if lost:
        yield frame(event=RESET, data={"reason": "The log does not hold everything after the id you sent; reload "
                                                 "from the REST API, then follow this stream."})
    last = start
    while (left := deadline - time.monotonic()) > 0:
        try:
            entries = event_log.wait_since(last, min(config["EVENT_STREAM_HEARTBEAT_SECONDS"], left), BATCH)
        except LOG_ERRORS:
            log.exception("event stream: the log failed; ending the response (the client reconnects)")
            yield ": the event log failed; reconnect\n\n"
            return
        for entry_id, message in entries:
            yield frame(event=EVENT, event_id=entry_id, data=message)
            last = entry_id
        if not entries:
            yield ": keep-alive\n\n"


async def in_threads(frames: Iterator[str]) -> AsyncIterator[str]:
    """The stream under ASGI: each step of the blocking generator (a wait on the log) runs in a worker thread of its
    own, never on the event loop nor in the one thread Django's sync views share."""
    step = sync_to_async(next, thread_sensitive=False)
    end = object()
    while (frame := await step(frames, end)) is not end:
        yield frame


class EventStreamView(NegotiationFreeView):
    @extend_schema(
        operation_id="events_stream",
        summary="New and changed events as Server-Sent Events, resumable from the last id seen",
        description="Each event: `id:` its log id, `event: tge-event`, `data:` the event as JSON (the message "
                    "published on `tge:events`). A `reset` event says the log no longer holds everything after the "
                    "id sent (reload from the list, then follow the stream). Comments keep an idle stream open. The "
                    "response ends after `EVENT_STREAM_MAX_SECONDS`; reconnect with `Last-Event-ID` (EventSource "
                    "does) and nothing is lost.",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.STR, description="resume after this log id (`<ms>-<seq>`)",
                             pattern=event_log.ID_PATTERN),
            OpenApiParameter("Last-Event-ID", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="resume after this log id; wins over `since`",
                             pattern=event_log.ID_PATTERN),
        ],
        responses={(200, "text/event-stream"): OpenApiResponse(STREAM_EVENT, description="an event stream"),
                   503: OpenApiResponse(description="The event log cannot be read right now.")},
    )
    def get(self, request):
        since = resume_point(request)
        try:
            start, lost = self._start(since)
        except LOG_ERRORS:
            log.exception("event stream: the log cannot be read")
            raise LogUnavailable() from None
        frames = stream(start, lost=lost)
        if isinstance(request._request, ASGIRequest):  # uvicorn: Django would read a sync iterator to its end first
            frames = in_threads(frames)
        response = StreamingHttpResponse(frames, content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response

    @staticmethod
    def _start(since: str | None) -> tuple[str, bool]:
        """Where to read from, and whether the client missed something. An id past the newest (the log was reset,
        or is another log) is a reset too: from the newest on."""
        newest = event_log.last_id()
        if since is None:
            return newest, False
        if event_log.id_key(since) > event_log.id_key(newest):
            return newest, True
        return since, event_log.lost_since(since)
