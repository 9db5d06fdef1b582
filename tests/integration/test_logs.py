"""Logs: JSON lines bound to what a worker is doing, a request id on web lines, and no secret on any line, exceptions
included. A real Celery worker and a real gunicorn, each logging to its own file."""
from __future__ import annotations

import base64
import json
import logging
import logging.config
import secrets
import time
import zlib

import pytest
import requests

from api.keys import create_key
from api.models import DeadLetter, Source
from tests.conftest import needs_redis
from tgesweeper import logs
from tgesweeper.config import load_config
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]

X_TOKEN = "AAAAxbearer" + secrets.token_hex(12)
JWT_KEY = "jwt-signing-" + secrets.token_hex(12)
SECRET_KEY = "django-secret-" + secrets.token_hex(12)
DB_PASSWORD = "pg-" + secrets.token_hex(8)
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(12)
FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0." + secrets.token_urlsafe(32)
SECRET_ENV = {"X_BEARER_TOKEN": X_TOKEN, "JWT_SIGNING_KEY": JWT_KEY, "DJANGO_SECRET_KEY": SECRET_KEY,
              "LOG_FORMAT": "json"}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wait_for(predicate, timeout: float, what: str, log_text) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what}:\n{log_text()[-4000:]}"
        time.sleep(0.2)


def test_worker_lines_are_json_bound_to_the_task_and_source_and_carry_no_secret(feed_server, start_worker):
    _, api_key = create_key("leaky")
    worker = start_worker(concurrency=1, **SECRET_ENV)
    source = Source.objects.create(name="Guarded wire", url=feed_server.url("/gone.xml").replace(
        "http://", f"http://scraper:{DB_PASSWORD}@"))
    tasks.fetch_source.delay(source.pk)  # a 404: logged as a failed fetch, its URL holding a password
    # A message whose text is full of secrets and raises: Celery logs the exception and its traceback.
    leaky_kind = (f"rss {X_TOKEN} {JWT_KEY} key={api_key} Authorization: Bearer {FAKE_JWT} "
                  f"dsn=postgresql://tge:{DB_PASSWORD}@db/tge webhook_secret={WEBHOOK_SECRET}")
    tasks.parse_payload.delay({"source_id": source.pk, "sweep_source_id": None, "kind": leaky_kind,
                               "url": "https://example.com/feed", "fetched_at": "2026-12-01T00:00:00+00:00",
                               "body": base64.b64encode(zlib.compress(b"<rss/>")).decode()})
    wait_for(lambda: DeadLetter.objects.exists() and "fetch failed" in worker.log_text(), 90, "parked message",
             worker.log_text)
    time.sleep(1)  # the traceback lines follow the parking
    text = worker.log_text()

    for secret in (X_TOKEN, JWT_KEY, SECRET_KEY, DB_PASSWORD, WEBHOOK_SECRET, FAKE_JWT, api_key):
        assert secret not in text, secret
    lines = json_lines(text)
    assert any("ready." in line["event"] for line in lines)  # Celery's own lines go through the same formatter
    failed = next(line for line in lines if line["event"].startswith("fetch failed"))
    assert failed["level"] == "warning" and failed["event"].startswith("fetch failed (http_4xx): HTTP 404")
    assert failed["task_name"] == "workers.tasks.fetch_source" and failed["task_id"]
    assert (failed["source_id"], failed["source_name"], failed["stage"]) == (source.pk, "Guarded wire", "fetch")
    assert "[redacted]@127.0.0.1" in failed["event"]
    raised = [line for line in lines if line.get("task_name") == "workers.tasks.parse_payload"
              and "ValueError" in line.get("exception", "")]
    assert raised, text[-4000:]
    assert "unknown source kind" in raised[0]["exception"] and raised[0]["source_id"] == source.pk
    assert "[redacted]" in raised[0]["exception"]


def test_served_requests_carry_a_request_id_and_no_credential(tmp_path, worker_env, staff_user):
    from tgesweeper.bench.api_benchmark import ApiServer

    _, api_key = create_key("reader")
    with ApiServer(workers=1, threads=2, env={**worker_env, **SECRET_ENV}, log_path=tmp_path / "web.log") as server:
        requests.get(f"{server.url}/api/v1/tge-events", params={"api_key": api_key},
                     headers={"X-API-Key": api_key, "Authorization": f"Bearer {FAKE_JWT}"}, timeout=10)
        requests.post(f"{server.url}/api/v1/auth/token", json={"username": "ops", "password": DB_PASSWORD}, timeout=10)
        time.sleep(0.5)
        text = server.log_text()
    for secret in (api_key, FAKE_JWT, DB_PASSWORD, JWT_KEY, SECRET_KEY):
        assert secret not in text, secret
    finished = [line for line in json_lines(text) if line["event"] == "request_finished" and "/api/" in line["request"]]
    assert len(finished) == 2, text[-3000:]
    assert all(line["request_id"] for line in finished) and finished[0]["request_id"] != finished[1]["request_id"]
    assert finished[0]["request"] == "GET /api/v1/tge-events?api_key=[redacted]"
    assert finished[1]["code"] == 401


def test_an_exception_message_is_redacted_in_the_text_format_too(capsys):
    config = load_config({"DATABASE_URL": f"postgresql://tge:{DB_PASSWORD}@db/tge", "LOG_FORMAT": "text"})
    logging.config.dictConfig(logs.dict_config(config))
    try:
        try:
            raise ConnectionError(f"could not connect with password {DB_PASSWORD} to {config['DATABASE_URL']}")
        except ConnectionError:
            logging.getLogger("tests.logs").exception("database away")
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
    err = capsys.readouterr().err
    assert "database away" in err and "ConnectionError: could not connect" in err and not err.lstrip().startswith("{")
    assert DB_PASSWORD not in err
