"""Errors reach Sentry when SENTRY_DSN is set, with the task's tags and without secrets; nothing is sent otherwise.
A local HTTP server stands in for Sentry's host (the DSN points at it); a real Celery worker raises."""
from __future__ import annotations

import base64
import gzip
import json
import time
import zlib

import pytest
import sentry_sdk

from api.keys import create_key
from api.models import Source
from tests.conftest import needs_redis
from tests.integration.test_logs import DB_PASSWORD, FAKE_JWT, SECRET_ENV, WEBHOOK_SECRET, X_TOKEN
from tests.processes import RecordingServer
from tgesweeper import error_reporting
from tgesweeper.config import load_config
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


class SentryStandIn(RecordingServer):
    """Records the envelopes posted to ``/api/<project>/envelope/``: (raw text, [(item header, item payload)])."""

    def __init__(self):
        self.envelopes: list[tuple[str, list[tuple[dict, dict]]]] = []
        self.paths: list[str] = []
        super().__init__()

    def dsn(self, key: str = "0123456789abcdef0123456789abcdef") -> str:
        return f"http://{key}@127.0.0.1:{self.server_address[1]}/42"

    def events(self) -> list[dict]:
        return [payload for _, items in self.envelopes for header, payload in items if header.get("type") == "event"]

    def record(self, method, path, headers, body) -> None:
        encoding = headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        text = body.decode()
        lines = text.split("\n")
        items = [(json.loads(lines[i]), json.loads(lines[i + 1])) for i in range(1, len(lines) - 1, 2) if lines[i].strip()]
        self.paths.append(path)
        self.envelopes.append((text, items))


@pytest.fixture
def sentry_host():
    with SentryStandIn() as server:
        yield server


def test_an_error_in_a_task_arrives_with_its_tags_and_without_secrets(sentry_host, start_worker):
    _, api_key = create_key("leaky")
    worker = start_worker(concurrency=1, SENTRY_DSN=sentry_host.dsn(), **SECRET_ENV)
    source = Source.objects.create(name="Sentried wire", url="https://news.example.com/rss")
    leaky_kind = (f"rss {X_TOKEN} key={api_key} Authorization: Bearer {FAKE_JWT} "
                  f"dsn=postgresql://tge:{DB_PASSWORD}@db/tge webhook_secret={WEBHOOK_SECRET}")
    result = tasks.parse_payload.delay({"source_id": source.pk, "sweep_source_id": None, "kind": leaky_kind,
                                        "url": "https://example.com/feed", "fetched_at": "2026-12-01T00:00:00+00:00",
                                        "body": base64.b64encode(zlib.compress(b"<rss/>")).decode()})
    deadline = time.monotonic() + 60
    while not [e for e in sentry_host.events() if e.get("exception")] and time.monotonic() < deadline:
        time.sleep(0.2)
    raised = [e for e in sentry_host.events() if e.get("exception")]
    assert raised, worker.log_text()[-3000:]

    event = raised[0]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["tags"]["celery_task_id"] == result.id
    assert event["tags"]["task_name"] == "workers.tasks.parse_payload" and event["tags"]["stage"] == "parse"
    assert str(event["tags"]["source_id"]) == str(source.pk)
    assert event["environment"] == "test" and event["release"] == f"tge-news-sweeper@{error_reporting.version()}"
    assert sentry_host.paths[0].startswith("/api/42/envelope/")
    everything = "\n".join(text for text, _ in sentry_host.envelopes)
    for secret in (X_TOKEN, api_key, FAKE_JWT, DB_PASSWORD, WEBHOOK_SECRET, SECRET_ENV["JWT_SIGNING_KEY"],
                   SECRET_ENV["DJANGO_SECRET_KEY"]):
        assert secret not in everything, secret
    assert "[redacted]" in json.dumps(event["exception"])


def test_without_a_dsn_nothing_is_set_up():
    assert error_reporting.init_sentry(load_config({})) is False
    assert not sentry_sdk.get_client().is_active()
