"""A stand-in HTTP service for tests (Sentry, a Consul agent). The servers and faults of the fault tests live in
``tgesweeper.bench.processes``, shared with ``benchmark faults``."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingServer(ThreadingHTTPServer):
    """A stand-in for a service the sweeper calls (Sentry, a Consul agent): HTTP on 127.0.0.1 in a thread of its own,
    answering every POST and PUT with ``reply`` after handing it to ``record``; ``with`` stops it."""

    reply = b"{}"

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, method: str, path: str, headers, body: bytes) -> None:
        raise NotImplementedError

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.record(self.command, self.path, self.headers, self.rfile.read(length) if length else b"")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.server.reply)

    do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass
