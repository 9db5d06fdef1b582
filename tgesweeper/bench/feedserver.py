"""A tiny local HTTP server that serves feeds for ``make demo``, benchmarks and tests.

It binds to 127.0.0.1 (or the address it is given) on an ephemeral port, answers conditional requests the way a good
feed host does (strong ETag, Last-Modified, 304), and counts requests per path so callers
can prove what was (or was not) fetched.
"""
from __future__ import annotations

import email.utils
import hashlib
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RSS_TYPE = "application/rss+xml; charset=utf-8"
Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: datetime


def _resource(body: bytes, content_type: str, last_modified: datetime | None = None) -> _Resource:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    modified = (last_modified or datetime.now(timezone.utc)).replace(microsecond=0)
    return _Resource(body, content_type, etag, modified)


class FeedServer:
    """``with FeedServer() as server: server.add("/feed.xml", body); fetch(server.url("/feed.xml"))``.

    ``hits`` counts every request per path; ``not_modified`` counts the 304 answers per path; ``requests`` holds
    the arrival (``time.time()``) and path of each request, in order (a budget over time can be checked).
    ``add_route`` installs a handler ``fn(request_handler)`` for tests that need odd servers
    (slow, endless, redirects); such handlers should stop when ``stopping`` is set.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._resources: dict[str, _Resource] = {}
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.requests: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add(self, path: str, body: bytes, content_type: str = RSS_TYPE, *,
            last_modified: datetime | None = None) -> None:
        with self._lock:
            self._resources[path] = _resource(body, content_type, last_modified)

    def add_route(self, path: str, handler: Handler) -> None:
        with self._lock:
            self._routes[path] = handler

    def remove_route(self, path: str) -> None:
        """The path answers what ``add`` gave it again (or 404)."""
        with self._lock:
            self._routes.pop(path, None)

    def stall(self, handler: BaseHTTPRequestHandler, every: float = 0.2) -> None:
        """Answer 200 with a feed's headers, then trickle a space every ``every`` s until the server stops or the
        client goes away: a fetch that sits in its worker until a test kills it or its deadline fires."""
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.end_headers()
        while not self.stopping.wait(every):
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return

    def start(self) -> FeedServer:
        server = self

        class RequestHandler(_RequestHandler):
            feed_server = server

        self.stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, 0), RequestHandler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="feedserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "FeedServer is not started"
        return self._httpd.server_address[1]

    @property
    def address(self) -> str:
        """``"127.0.0.1:port"``, the form ``FetchPolicy.allow_addresses`` expects."""
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _lookup(self, path: str) -> _Resource | Handler | None:
        with self._lock:
            return self._routes.get(path) or self._resources.get(path)


class _RequestHandler(BaseHTTPRequestHandler):
    feed_server: FeedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        server = self.feed_server
        path = self.path.split("?", 1)[0]
        with server._lock:
            server.hits[path] += 1
            server.requests.append((time.time(), path))
        found = server._lookup(path)
        if found is None:
            self._send(404, b"not found\n", "text/plain")
        elif callable(found):
            found(self)
        elif self._matches(found):
            with server._lock:
                server.not_modified[path] += 1
            self.send_response(304)
            self.send_header("ETag", found.etag)
            self.send_header("Last-Modified", email.utils.format_datetime(found.last_modified, usegmt=True))
            self.end_headers()
        else:
            self._send(200, found.body, found.content_type, head=head, extra={
                "ETag": found.etag,
                "Last-Modified": email.utils.format_datetime(found.last_modified, usegmt=True),
            })

    def _matches(self, resource: _Resource) -> bool:
        """RFC 9110: If-None-Match wins over If-Modified-Since when both are sent."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            return "*" in tags or resource.etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return email.utils.parsedate_to_datetime(since) >= resource.last_modified
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, body: bytes, content_type: str, *, head: bool = False,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: object) -> str:
    return _INVALID_XML_CHARS.sub("", str(value))


def render_rss(channel_title: str, items: list[dict]) -> bytes:
    """A valid RSS 2.0 document. Item keys: title, link, description, guid, author, pub_date
    (an aware datetime or a preformatted string); missing keys are left out."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = _xml_text(channel_title)
    ET.SubElement(channel, "link").text = "http://127.0.0.1/"
    ET.SubElement(channel, "description").text = _xml_text(channel_title)
    for item in items:
        element = ET.SubElement(channel, "item")
        for key, tag in (("title", "title"), ("link", "link"), ("description", "description"),
                         ("author", "author")):
            if item.get(key) is not None:
                ET.SubElement(element, tag).text = _xml_text(item[key])
        if item.get("guid") is not None:
            ET.SubElement(element, "guid", isPermaLink="false").text = _xml_text(item["guid"])
        pub_date = item.get("pub_date")
        if isinstance(pub_date, datetime):
            pub_date = email.utils.format_datetime(pub_date.astimezone(timezone.utc), usegmt=True)
        if pub_date is not None:
            ET.SubElement(element, "pubDate").text = _xml_text(pub_date)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)
