"""A local stand-in for the X API v2 endpoints the x kind calls through tweepy, on 127.0.0.1 (the x kind's tests and
fault 8 of ``benchmark faults``).

It answers the shapes the real API documents (``data``, ``includes.users``, ``meta``), checks the bearer
token, honours ``since_id``, ``max_results`` and its page tokens (``next_token`` for search, ``pagination_token``
for timelines; ``meta.next_token`` when older matching tweets remain), logs every request, and can answer 429 with
``x-rate-limit-reset`` like the real one. The tweets are fictional.

The filtered stream too: its rules (``GET``/``POST /2/tweets/search/stream/rules``: add, delete by id, with tags) and
the stream (``GET /2/tweets/search/stream``: one JSON line per tweet ``push``ed, with ``includes.users`` and
``matching_rules`` naming every rule held, and a keep-alive line break every ``keep_alive`` seconds). ``drop_streams``
closes the open streams; ``stream_status`` (e.g. 403, an access level without the stream) refuses them.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tgesweeper.bench.local_process import wait_until

TOKEN = "test-bearer-token"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"


@dataclass
class Logged:
    path: str
    params: dict[str, str]
    authorization: str


@dataclass
class FakeXAPI:
    users: dict[str, str] = field(default_factory=dict)  # id -> username
    tweets: list[dict] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    rate_limit_reset: int | str | None = None  # epoch seconds: while set, every request answers 429
    retry_after: str | None = None  # also sent with a 429 when set
    rules: dict[str, dict] = field(default_factory=dict)  # id -> {"id", "value", "tag"}
    stream_status: int = 200
    keep_alive: float = 0.3
    streams: list[queue.Queue] = field(default_factory=list)
    stream_connections: int = 0

    def add_user(self, user_id: str, username: str) -> None:
        self.users[user_id] = username

    def tweet(self, tweet_id: int, author_id: str, text: str, created_at: str = "2026-03-02T09:30:00.000Z") -> None:
        self.tweets.append({"id": str(tweet_id), "author_id": author_id, "text": text, "created_at": created_at,
                            "lang": "en", "edit_history_tweet_ids": [str(tweet_id)]})

    def paths(self) -> list[str]:
        return [entry.path for entry in self.log]

    def push(self, tweet_id: int, author_id: str, text: str, *, raw: bytes | None = None) -> None:
        """Post a tweet (listed for search too) and send it down every open stream; ``raw`` sends that line instead."""
        if raw is None:
            self.tweet(tweet_id, author_id, text)
            tweet = self.tweets[-1]
            line = json.dumps({"data": tweet, "includes": {"users": [{"id": author_id, "username": self.users[author_id],
                                                                      "name": self.users[author_id].title()}]},
                               "matching_rules": [{"id": r["id"], "tag": r.get("tag")} for r in self.rules.values()]})
            raw = line.encode()
        for stream in list(self.streams):
            stream.put(raw)

    def drop_streams(self) -> None:
        for stream in list(self.streams):
            stream.put(None)

    def wait_for_streams(self, count: int = 1, timeout: float = 30.0) -> None:
        wait_until(lambda: len(self.streams) >= count, timeout, poll=0.02, message=f"{count} stream(s) open")

    def __enter__(self) -> FakeXAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._answer(None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(json.loads(self.rfile.read(length) or b"{}"))

            def _answer(self, posted: dict | None) -> None:
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                authorization = self.headers.get("Authorization", "")
                api.log.append(Logged(parts.path, params, authorization))
                if parts.path == STREAM_PATH and authorization == f"Bearer {TOKEN}" and api.stream_status == 200:
                    self._stream()
                    return
                status, body, headers = api.answer(parts.path, params, authorization, posted)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self) -> None:
                lines: queue.Queue = queue.Queue()
                api.stream_connections += 1
                api.streams.append(lines)
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")  # as X sends it: each line a chunk of its own
                self.end_headers()
                try:
                    while True:
                        try:
                            line = lines.get(timeout=api.keep_alive)
                        except queue.Empty:
                            line = b""
                        if line is None:
                            self.wfile.write(b"0\r\n\r\n")
                            return
                        chunk = line + b"\r\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                except OSError:
                    pass
                finally:
                    api.streams.remove(lines)
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(self, path: str, params: dict[str, str], authorization: str,
               posted: dict | None = None) -> tuple[int, dict, dict]:
        if authorization != f"Bearer {TOKEN}":
            return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {}
        if self.rate_limit_reset is not None:
            return 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                         "status": 429}, {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                          "x-rate-limit-reset": str(self.rate_limit_reset),
                                          **({"Retry-After": self.retry_after} if self.retry_after else {})}
        if path == STREAM_PATH:
            return self.stream_status, {"title": "Client Forbidden", "status": self.stream_status,
                                        "reason": "client-not-enrolled"}, {}
        if path == RULES_PATH:
            return 200, self._rules(posted), {}
        if path == "/2/tweets/search/recent":
            return 200, self._page(self.tweets, params), {"x-rate-limit-remaining": "449"}
        if path == "/2/users/by":
            wanted = params.get("usernames", "").lower().split(",")
            found = [{"id": i, "name": u.title(), "username": u} for i, u in self.users.items() if u.lower() in wanted]
            missing = [{"value": u, "detail": f"Could not find user with usernames: [{u}].", "title": "Not Found Error",
                        "resource_type": "user", "parameter": "usernames"}
                       for u in wanted if u not in {f["username"].lower() for f in found}]
            return 200, {"data": found, **({"errors": missing} if missing else {})}, {}
        if path.startswith("/2/users/") and path.endswith("/tweets"):
            user_id = path.split("/")[3]
            return 200, self._page([t for t in self.tweets if t["author_id"] == user_id], params), {}
        return 404, {"title": "Not Found Error", "status": 404}, {}

    def _rules(self, posted: dict | None) -> dict:
        if posted is None:
            return {"data": list(self.rules.values()), "meta": {"result_count": len(self.rules)}} if self.rules else {
                "meta": {"result_count": 0}}
        for rule_id in posted.get("delete", {}).get("ids", []):
            self.rules.pop(str(rule_id), None)
        added = []
        for rule in posted.get("add", []):
            rule_id = str(1_000 + len(self.rules) + len(self.log))
            self.rules[rule_id] = {"id": rule_id, "value": rule["value"], **({"tag": rule["tag"]} if "tag" in rule else {})}
            added.append(self.rules[rule_id])
        return {"data": added, "meta": {"summary": {"created": len(added)}}} if added else {"meta": {}}

    def _page(self, tweets: list[dict], params: dict[str, str]) -> dict:
        since = int(params.get("since_id", "0"))
        limit = int(params.get("max_results", "10"))
        older_than = int(params.get("next_token") or params.get("pagination_token") or 2**63)  # token: an id
        matching = sorted((t for t in tweets if since < int(t["id"]) < older_than), key=lambda t: -int(t["id"]))
        newest_first = matching[:limit]
        if not newest_first:
            return {"meta": {"result_count": 0}}
        authors = {t["author_id"] for t in newest_first}
        more = {"next_token": newest_first[-1]["id"]} if len(matching) > limit else {}
        return {
            "data": newest_first,
            "includes": {"users": [{"id": a, "name": self.users[a].title(), "username": self.users[a]} for a in authors]},
            "meta": {"newest_id": newest_first[0]["id"], "oldest_id": newest_first[-1]["id"],
                     "result_count": len(newest_first), **more},
        }


def reset_in(seconds: int) -> int:
    return int(time.time()) + seconds
