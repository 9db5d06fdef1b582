"""The push consumer: holds each enabled push source's stream open and hands what it sends to the pipeline.

One thread per source (``StreamReader``): connect through ``tgesweeper.net`` (the host rule of every fetch), send the
kind's subscribe frames, read the announcement list once (backfill: whatever was published while the stream was
down), then read messages. Each message with an announcement not seen before goes to the parse stage as a parse
message, like a fetch's bytes, so parse, match, persist and notify are the pipeline's own (``store.unseen`` and the
persist transaction make a message that arrives twice, or both pushed and listed, count once). A message that is not
JSON, too big or of the wrong shape is logged and skipped. A dropped stream is reconnected with exponential backoff
and full jitter. ``PushConsumer`` starts and stops the readers as sources are added, changed, disabled or removed.
X's filtered stream is one connection per app: one reader (``XFilteredStream``) holds it for every x source that
asks for it.
"""
from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from api import store
from api.models import Source
from tgesweeper import net
from tgesweeper.sources import Fetched, SourceSpec, kind_for, websocket, x_api
from workers import pipeline
from workers.task_base import UNAVAILABLE

log = logging.getLogger(__name__)
SEEN_IDS = 10_000  # announcement ids a reader remembers, so a replayed message is not sent again
STEADY_SECONDS = 30.0  # a connection that lasted this long resets the backoff
READY_MARK = "push consumer ready:"


def push_kinds() -> list[str]:
    """The source kinds a consumer holds open: a stream per source (``SourceKind.stream_url``), or one per app
    (``SourceKind.app_stream``)."""
    return [kind for kind, _ in Source.Kind.choices
            if kind_for(kind).stream_url is not None or kind_for(kind).app_stream is not None]


class PushReader(threading.Thread):
    """A stream held open until ``stop()``: reconnected with exponential backoff and full jitter, the reason it was
    lost recorded on its sources. ``send`` takes each parse message (the parse task's ``delay``)."""

    label: str

    def __init__(self, name: str, send: Callable[[dict], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.send = send
        self.stopping = threading.Event()
        self.connections = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        attempt = 0
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self._stream()
            except (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError, net.FetchError) as exc:
                log.warning("%s: stream lost (%s: %s)", self.label, type(exc).__name__, exc)
                self._record(f"{type(exc).__name__}: {exc}")
            except UNAVAILABLE as exc:  # the broker or the cache is away: reconnect later, and backfill then
                log.warning("%s: the pipeline is unavailable (%s: %s); the stream is closed until it is back",
                            self.label, type(exc).__name__, exc)
            except Exception:  # a gap in the checks: log it, and keep the stream alive
                log.exception("%s: the stream reader failed", self.label)
            finally:
                close_old_connections()
            if self.stopping.is_set():
                break
            attempt = 0 if time.monotonic() - started >= STEADY_SECONDS else attempt + 1
            config = settings.CONFIG
            delay = websocket.reconnect_delay(attempt, base=config["PUSH_RECONNECT_BASE_DELAY"],
                                              cap=config["PUSH_RECONNECT_MAX_DELAY"])
            log.info("%s: reconnecting in %.2fs (attempt %d)", self.label, delay, attempt)
            self.stopping.wait(delay)

    def _stream(self) -> None:
        raise NotImplementedError

    def _record(self, reason: str) -> None:
        raise NotImplementedError


def record_stream_error(source_id: int, reason: str) -> None:
    try:
        store.record_stream_error(source_id, reason)
    except UNAVAILABLE:  # the database is away: the log has it
        pass


class StreamReader(PushReader):
    """One push source's own stream (a ``websocket`` source)."""

    def __init__(self, spec: SourceSpec, send: Callable[[dict], object]) -> None:
        super().__init__(f"push-{spec.id}", send)
        self.spec = spec
        self.label = f"push source {spec.name}"
        self.kind = kind_for(spec.kind)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.list_etag, self.list_last_modified = spec.etag, spec.last_modified

    def _stream(self) -> None:
        options = self.spec.options
        url = self.kind.stream_url(options)
        policy = pipeline.fetch_policy(self.kind)
        sock = net.connect_stream(url, policy=policy)
        secure = urlsplit(url).scheme.lower() == "wss"
        heartbeat = websocket.ping_interval(options)
        with connect(url, sock=sock, proxy=None, ssl=ssl.create_default_context() if secure else None,
                     server_hostname=urlsplit(url).hostname if secure else None,
                     open_timeout=policy.connect_timeout, max_size=websocket.MAX_MESSAGE_BYTES,
                     ping_interval=heartbeat, ping_timeout=heartbeat, user_agent_header=policy.user_agent) as ws:
            for frame in websocket.subscribe_frames(options):
                ws.send(frame)
            self.connections += 1
            log.info("push source %s: connected to %s (connection %d)", self.spec.name, url, self.connections)
            self.backfill()
            while not self.stopping.is_set():
                try:
                    message = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                self.received(message, url)

    def received(self, message: str | bytes, url: str) -> None:
        """Hand one message to the parse stage unless it is hostile, a control message or seen already."""
        body = message.encode("utf-8", "surrogatepass") if isinstance(message, str) else message
        try:
            documents = self.kind.parse(body, feed_url=url, fetched_at=datetime.now(timezone.utc),
                                        max_items=settings.CONFIG["SCRAPING_MAX_ITEMS"], options=self.spec.options)
        except self.kind.parse_error as exc:
            log.warning("push source %s: skipped a message: %s", self.spec.name, exc)
            return
        new = [d.external_id for d in documents if d.external_id not in self.seen]
        if not new:
            return
        self.hand_off(pipeline.payload_for_parse(self.spec, Fetched(url=url, body=body, etag=self.list_etag,
                                                                    last_modified=self.list_last_modified)))
        for external_id in new:
            self.seen[external_id] = None
        while len(self.seen) > SEEN_IDS:
            self.seen.popitem(last=False)

    def _record(self, reason: str) -> None:
        record_stream_error(self.spec.id, reason)

    def hand_off(self, payload: dict) -> None:
        """Send a parse message. When that fails (the broker is away) the next backfill reads the whole list, not
        only what changed since the last one, so the announcement that was not handed off comes back."""
        try:
            self.send(payload)
        except Exception:
            self.list_etag = self.list_last_modified = ""
            raise

    def backfill(self) -> None:
        """Read the announcement list (a conditional GET) and send it to the parse stage: what was published while
        the stream was down. A failure is logged; the stream goes on, and the next connection reads it again."""
        spec = SourceSpec(id=self.spec.id, name=self.spec.name, kind=self.spec.kind, url=self.spec.url,
                          options=self.spec.options, etag=self.list_etag, last_modified=self.list_last_modified)
        try:
            fetched = self.kind.fetch(spec, pipeline.fetch_policy(self.kind), pipeline.kind_config(self.kind))
        except net.FetchError as exc:
            log.warning("push source %s: backfill from %s failed: %s", self.spec.name, self.spec.url, exc.reason)
            return
        self.list_etag, self.list_last_modified = fetched.etag or self.list_etag, fetched.last_modified
        if fetched.body is not None:
            self.hand_off(pipeline.payload_for_parse(spec, fetched))
        log.info("push source %s: backfill read %s", self.spec.name, "nothing new" if fetched.body is None else
                 f"{len(fetched.body):,} bytes")


class XFilteredStream(PushReader):
    """X's filtered stream for every x source that asks for it: the API gives an app one connection, so one reader
    holds it for all of them, with one rule per source (tagged with its id), and hands each tweet to the parse stage of
    each source whose rule it matched. Once the stream answered, each source is polled once (the backfill: what was
    posted while the stream was down). A token without filtered-stream access is refused (HTTP 403); the sources stay
    polled at their interval, and the stream is tried again after the reconnect delay."""

    def __init__(self, specs: list[SourceSpec], send: Callable[[dict], object]) -> None:
        super().__init__("push-x", send)
        self.label = "X filtered stream"
        self.kind = kind_for("x")
        self.specs = {spec.id: spec for spec in specs}
        self.seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self.client: x_api.GuardedStream | None = None

    def stop(self) -> None:
        super().stop()
        if self.client is not None:
            self.client.disconnect()

    def _stream(self) -> None:
        config = pipeline.kind_config(self.kind)
        if not config["X_BEARER_TOKEN"]:
            raise net.NotConfigured("X_BEARER_TOKEN is not set")
        self.client = x_api.GuardedStream(str(config["X_BEARER_TOKEN"]), base_url=str(config["X_API_BASE_URL"]),
                                          policy=pipeline.fetch_policy(self.kind), on_line=self.received,
                                          on_connect=self.backfill)
        self.client.sync_rules({x_api.rule_tag(spec.id): x_api.stream_rule(spec.query, spec.options)
                                for spec in self.specs.values()})
        if not self.stopping.is_set():
            self.client.run()

    def backfill(self) -> None:
        self.connections += 1
        log.info("%s: connected for %d source(s) (connection %d)", self.label, len(self.specs), self.connections)
        for spec in self.specs.values():
            try:
                fetched = self.kind.fetch(spec, pipeline.fetch_policy(self.kind), pipeline.kind_config(self.kind))
            except net.FetchError as exc:
                log.warning("%s: backfill of %s failed: %s", self.label, spec.name, exc.reason)
                continue
            if fetched.body is not None:
                self.send(pipeline.payload_for_parse(spec, fetched))

    def received(self, line: bytes) -> None:
        """Hand a tweet to the parse stage of each source it matched, unless hostile or seen already."""
        try:
            tweet = x_api.stream_message(line)
        except x_api.XParseError as exc:
            log.warning("%s: skipped a line: %s", self.label, exc)
            return
        if tweet is None:
            return
        assert self.client is not None  # it is reading the line
        for source_id in tweet.source_ids:
            if source_id in self.specs and (source_id, tweet.tweet_id) not in self.seen:
                self.send(pipeline.payload_for_parse(self.specs[source_id], Fetched(url=self.client.url, body=tweet.body)))
                self.seen[(source_id, tweet.tweet_id)] = None
        while len(self.seen) > SEEN_IDS:
            self.seen.popitem(last=False)

    def _record(self, reason: str) -> None:
        for source_id in self.specs:
            record_stream_error(source_id, reason)


APP_STREAMS = {"x": XFilteredStream}  # kind -> the reader of its app's one stream (``SourceKind.app_stream``)


def _signature(specs: list[SourceSpec]) -> tuple:
    """What a reader was started with: a change to any of it restarts the reader."""
    return tuple((spec.id, spec.url, spec.query, json.dumps(spec.options, sort_keys=True)) for spec in specs)


class PushConsumer:
    """Keeps one StreamReader per enabled push source, refreshed every PUSH_SOURCES_REFRESH seconds: a source added
    gets a reader, one changed gets a new one, one disabled or removed loses its reader."""

    def __init__(self, send: Callable[[dict], object]) -> None:
        self.send = send
        self.readers: dict[object, tuple[tuple, PushReader]] = {}  # a source id, or an app stream's kind

    def refresh(self) -> None:
        wanted: dict[object, list[SourceSpec]] = {}
        for source in Source.objects.filter(enabled=True, kind__in=push_kinds()).order_by("pk"):
            spec, kind = pipeline.source_spec(source), kind_for(source.kind)
            if kind.app_stream is None:
                wanted[spec.id] = [spec]
            elif kind.app_stream(spec.options):
                wanted.setdefault(kind.name, []).append(spec)
        for key, (signature, reader) in list(self.readers.items()):
            if _signature(wanted.get(key, [])) != signature or not reader.is_alive():
                reader.stop()
                del self.readers[key]
        for key, specs in wanted.items():
            if key not in self.readers:
                reader = APP_STREAMS[key](specs, self.send) if isinstance(key, str) else StreamReader(specs[0], self.send)
                reader.start()
                self.readers[key] = (_signature(specs), reader)
                log.info("%s: reading for %s", reader.label, ", ".join(spec.name for spec in specs))

    def run(self, stopping: threading.Event, heartbeat: Path | None = None) -> None:
        """Until ``stopping`` is set; ``heartbeat``, a file touched after each refresh, tells a health check the
        consumer's loop is alive."""
        self.refresh()
        log.info("%s %d push source(s)", READY_MARK, len(self.readers))
        while True:
            if heartbeat is not None:
                heartbeat.touch()
            if stopping.wait(settings.CONFIG["PUSH_SOURCES_REFRESH"]):
                break
            close_old_connections()
            try:
                self.refresh()
            except UNAVAILABLE as exc:  # the readers already running go on; the list is read again next time
                log.warning("push consumer: cannot read the push sources (%s: %s)", type(exc).__name__, exc)
        self.stop()

    def stop(self) -> None:
        for _, reader in self.readers.values():
            reader.stop()
        for _, reader in self.readers.values():
            reader.join(timeout=5)
        self.readers.clear()
