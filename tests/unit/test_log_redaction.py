"""The log redactor blanks secrets by value, shape and key, and leaves ordinary text (the news it logs) alone."""
import pytest

from tgesweeper.logs import REDACTED, Redactor, configured_secrets

REDACTOR = Redactor(["s3cr3t-value-123"])


@pytest.mark.parametrize("text, secret", [
    ("login with s3cr3t-value-123 failed", "s3cr3t-value-123"),
    ("key tge_AbCdEfGh0123456789AbCdEfGh01234567 refused", "AbCdEfGh0123456789"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoxfQ.c2lnbmF0dXJlLXZhbHVl expired", "c2lnbmF0dXJl"),
    ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
    ("Authorization: Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg"),
    ("connect postgresql://tge:pg-pass-42@db:5432/tge", "pg-pass-42"),
    ("dsn https://0123456789abcdef@sentry.example.com/1", "0123456789abcdef"),
    ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
    ("url?api_key=tge_x&webhook_secret=whsec_abc123", "whsec_abc123"),
])
def test_secrets_are_blanked(text, secret):
    assert secret not in REDACTOR.text(text) and REDACTED in REDACTOR.text(text)


@pytest.mark.parametrize("text", [
    "Quillstone Network to launch QSN token generation event on December 4, 2026",
    "Basic research funding for layer-2 token economies",
    "fetch failed (http_4xx): HTTP 404 Not Found from https://news.example.com/rss",
    "bearer bonds and tokenomics",
    "Bearer instruments return as exchanges list the token",
])
def test_ordinary_text_is_left_alone(text):
    assert REDACTOR.text(text) == text


def test_sensitive_keys_are_blanked_at_any_depth_and_others_kept():
    event = {"event": "x", "headers": {"Authorization": "anything", "Accept": "json"}, "password": "p", "count": 3,
             "rows": [{"api_key": "k", "name": "Wire"}], "token": ""}
    assert REDACTOR(None, "info", event) == {
        "event": "x", "headers": {"Authorization": REDACTED, "Accept": "json"}, "password": REDACTED, "count": 3,
        "rows": [{"api_key": REDACTED, "name": "Wire"}], "token": ""}


def test_the_configured_secrets_are_the_secret_settings_and_url_passwords():
    config = {"DJANGO_SECRET_KEY": "django-key-1", "JWT_SIGNING_KEY": "jwt-key-22", "X_BEARER_TOKEN": "",
              "SENTRY_DSN": "https://publickey1@sentry.example.com/3", "DATABASE_URL": "postgresql://u:dbpass1@h/d",
              "REDIS_URL": "redis://127.0.0.1:6379/0", "CELERY_BROKER_URL": "", "CONSUL_HTTP_TOKEN": "abc"}
    found = set(configured_secrets(config))
    assert {"django-key-1", "jwt-key-22", "publickey1", "dbpass1"} <= found
    assert "abc" not in found and "" not in found  # too short to redact by value: it would blank ordinary words
