"""A local stand-in for the X API v2 endpoints the x kind calls through tweepy, on 127.0.0.1 (the x kind's tests and
fault 8 of ``benchmark faults``).

It answers the shapes the real API documents (``data``, ``includes.users``, ``meta``), checks the bearer
token, honours ``since_id``, ``max_results`` and its page tokens (``next_token`` for search, ``pagination_token``
for timelines; ``meta.next_token`` when older matching tweets remain), logs every request, and can answer 429 with
``x-rate-limit-reset`` like the real one. The tweets are fictional.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-bearer-token"


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

    def add_user(self, user_id: str, username: str) -> None:
        self.users[user_id] = username

    def tweet(self, tweet_id: int, author_id: str, text: str, created_at: str = "2026-03-02T09:30:00.000Z") -> None:
        self.tweets.append({"id": str(tweet_id), "author_id": author_id, "text": text, "created_at": created_at,
                            "lang": "en", "edit_history_tweet_ids": [str(tweet_id)]})

    def paths(self) -> list[str]:
        return [entry.path for entry in self.log]

    def __enter__(self) -> FakeXAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                api.log.append(Logged(parts.path, params, self.headers.get("Authorization", "")))
                status, body, headers = api.answer(parts.path, params, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

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

    def answer(self, path: str, params: dict[str, str], authorization: str) -> tuple[int, dict, dict]:
        if authorization != f"Bearer {TOKEN}":
            return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {}
        if self.rate_limit_reset is not None:
            return 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                         "status": 429}, {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                          "x-rate-limit-reset": str(self.rate_limit_reset),
                                          **({"Retry-After": self.retry_after} if self.retry_after else {})}
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
