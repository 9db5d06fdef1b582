"""A local webhook receiver on 127.0.0.1 for tests and the latency benchmark.

It records every POST (path, headers, body, arrival time) and verifies Standard Webhooks signatures with the
``standardwebhooks`` library when it knows the path's secret, as a subscriber's endpoint would. Answers can be
scripted per path (e.g. 500 then 200, or 429 with Retry-After); otherwise it answers 204.
"""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival
    verified: bool | None = None  # None: no secret known for the path
    error: str = ""
    status: int = 204

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._secrets: dict[str, str] = {}
        self._script: dict[str, deque[_Answer]] = defaultdict(deque)
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def verify_with(self, path: str, secret: str) -> None:
        self._secrets[path] = secret

    def answer(self, path: str, *answers: tuple[int, dict[str, str]] | int) -> None:
        """Answer the next requests to ``path`` with these statuses (and headers), in order; then 204."""
        for answer in answers:
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self._script[path].append(_Answer(status, headers))

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30.0) -> list[Received]:
        """The requests to ``path`` once there are ``count`` of them (or whatever came by the timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([r for r in self.received if r.path == path]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return [r for r in self.received if r.path == path]

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver._record(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        item = Received(path=path, headers=headers, body=body, at=time.time())
        secret = self._secrets.get(path)
        if secret is not None:
            try:
                Webhook(secret).verify(body, headers)
                item.verified = True
            except WebhookVerificationError as exc:
                item.verified, item.error = False, str(exc)
        with self._lock:
            answer = self._script[path].popleft() if self._script[path] else _Answer(204)
            item.status = answer.status
            self.received.append(item)
            self._lock.notify_all()
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
