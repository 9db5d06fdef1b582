"""A fake exchange announcement service on 127.0.0.1 for tests and benchmarks of push sources, and the push consumer
as a process.

``AnnouncementServer`` is shaped like a public exchange announcement WebSocket: a client connects, subscribes to a
topic with a command frame and gets an acknowledgement, then receives each announcement as a data message whose
payload is a JSON *string*; the same announcements are listed (newest first) over HTTP for backfill. Tests publish,
publish while the stream is down (listed only), drop every connection, refuse new ones, or send hostile frames.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tgesweeper.bench.feedserver import FeedServer
from tgesweeper.bench.local_process import LocalProcess, wait_until
from workers.push import READY_MARK

TOPIC = "announcements_en"
_server_log = logging.getLogger(__name__ + ".websocket")
_server_log.setLevel(logging.WARNING)  # connections opening and closing are the point of the tests, not news
LIST_PATH = "/announcements"


class AnnouncementServer:
    def __init__(self) -> None:
        self.http = FeedServer()
        self.announcements: list[dict] = []
        self.published_at: dict[str, float] = {}
        self.subscribers: set[ServerConnection] = set()
        self.refusing = False
        self.connections = 0
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> AnnouncementServer:
        self.http.start()
        self._render_list()
        self._server = server = serve(self._handle, "127.0.0.1", 0, ping_interval=None, logger=_server_log)
        self._thread = threading.Thread(target=server.serve_forever, name="announcement-ws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.http.stop()

    def __enter__(self) -> AnnouncementServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def stream_url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/ws"

    @property
    def list_url(self) -> str:
        return self.http.url(LIST_PATH)

    def source_options(self) -> dict:
        """A websocket source's options for this server (the json mapping of its list, and its stream)."""
        return {"items": "data.articles", "title": "title", "id": "id", "body": "body", "date": "releaseDate",
                "date_format": "epoch_ms", "url": "https://exchange.invalid/announcement/{id}",
                "stream": {"url": self.stream_url, "subscribe": {"command": "SUBSCRIBE", "value": TOPIC},
                           "items": "data", "when": {"type": "DATA"}, "ping_interval": 5}}

    # --- what tests do ---------------------------------------------------------------------------

    def publish(self, announcement: dict, *, live: bool = True) -> None:
        """List ``announcement`` (it needs ``id``) and, when ``live``, push it to every subscriber."""
        with self._lock:
            self.announcements.insert(0, announcement)
            self.published_at[str(announcement["id"])] = time.time()
            self._render_list()
        if live:
            self.send_raw(json.dumps({"type": "DATA", "topic": TOPIC, "data": json.dumps(announcement)}))

    def send_raw(self, frame: str | bytes) -> None:
        for connection in list(self.subscribers):
            try:
                connection.send(frame)
            except ConnectionClosed:
                self.subscribers.discard(connection)

    def drop(self) -> None:
        """Close every connection (as a restarting gateway does)."""
        for connection in list(self.subscribers):
            connection.close(1012, "service restart")
        self.subscribers.clear()

    def wait_for_subscribers(self, count: int = 1, timeout: float = 30.0) -> None:
        wait_until(lambda: len(self.subscribers) >= count, timeout, poll=0.05, message=f"{count} subscriber(s)")

    # --- internals -------------------------------------------------------------------------------

    def _render_list(self) -> None:
        body = json.dumps({"code": "000000", "data": {"articles": self.announcements[:50]}}).encode()
        self.http.add(LIST_PATH, body, "application/json")

    def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        if self.refusing:
            connection.close(1013, "try again later")
            return
        try:
            for frame in connection:
                try:
                    command = json.loads(frame)
                except ValueError:
                    continue
                if command == {"command": "SUBSCRIBE", "value": TOPIC}:
                    connection.send(json.dumps({"type": "COMMAND", "subType": "SUBSCRIBE", "data": "SUCCESS"}))
                    self.subscribers.add(connection)
        except ConnectionClosed:
            pass
        finally:
            self.subscribers.discard(connection)


class LocalPushConsumer(LocalProcess):
    """``manage.py consume_push`` with the given environment; ready when it says so in its log."""

    program = "push consumer"

    def __init__(self, *, env: dict[str, str] | None = None, log_path: Path, heartbeat: Path | None = None):
        extra = ["--heartbeat-file", str(heartbeat)] if heartbeat else []
        super().__init__([sys.executable, "manage.py", "consume_push", *extra], env={**os.environ, **(env or {})},
                         log_path=log_path)

    def is_ready(self) -> bool:
        return READY_MARK in self.log_text()
