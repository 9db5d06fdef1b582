"""Logging for every process (web, workers, beat, commands): structlog over the standard library.

One formatter renders both structlog's events and the standard library's records (Django's, Celery's, ours): JSON
lines when ``LOG_FORMAT`` is ``json`` (``auto``: in production), readable text elsewhere. Context bound with
``structlog.contextvars`` (the task, source, sweep, batch and events a worker is on; a request's id) joins every line.
Every line goes through ``Redactor`` last before rendering, exceptions included: secrets never reach a log.
No Django here; ``settings.LOGGING`` is ``dict_config(CONFIG)``.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import structlog

REDACTED = "[redacted]"
# A value under a key with one of these names is never logged.
SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|dsn|api[_-]?key|authorization|cookie|signature|credential|"
    r"private[_-]?key|bearer",
    re.I,
)
# Secrets recognized by their shape, wherever they appear in a line.
SENSITIVE_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\btge_[A-Za-z0-9]{8,}"), f"tge_{REDACTED}"),  # our API keys
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+"), REDACTED),  # JWTs
    # Authorization values (with a digit: "bearer instruments" is prose)
    (re.compile(r"\b(bearer|api-key)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"\b(authorization['\"]?\s*[:=]\s*['\"]?basic)\s+[A-Za-z0-9+/=]{8,}", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.I), rf"\1{REDACTED}@"),  # URL user (DSN key) and password
    (
        re.compile(r"((?:password|passwd|secret|token|api[_-]?key|signature)['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,;}]+", re.I),
        rf"\1{REDACTED}",
    ),
)
# The settings whose values are secrets (besides the passwords inside the service URLs).
SECRET_SETTINGS = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "X_BEARER_TOKEN", "SENTRY_DSN", "CONSUL_HTTP_TOKEN")
URL_SETTINGS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
MIN_SECRET_LENGTH = 6


def configured_secrets(config: Mapping[str, Any]) -> list[str]:
    """The secret values this process holds: they are redacted wherever they appear, whatever their shape."""
    found = [str(config.get(name) or "") for name in SECRET_SETTINGS]
    for name in (*URL_SETTINGS, "SENTRY_DSN"):
        parts = urlsplit(str(config.get(name) or ""))
        found += [parts.password or "", parts.username or ""] if name == "SENTRY_DSN" else [parts.password or ""]
    return sorted({value for value in found if len(value) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


class Redactor:
    """A structlog processor (and Sentry's ``before_send`` helper): blanks sensitive keys and scrubs every string."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        for pattern, replacement in SENSITIVE_TEXT:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any, key: str = "") -> Any:
        if key and SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        if isinstance(value, (bytes, bytearray)):
            return self.text(value.decode("utf-8", "replace"))
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self.text(repr(value))

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key.startswith("_") else self.value(value, key) for key, value in event_dict.items()}


def wants_json(config: Mapping[str, Any]) -> bool:
    return config["LOG_FORMAT"] == "json" or (config["LOG_FORMAT"] == "auto" and config["APP_ENV"] == "production")


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def dict_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of every process: one console handler, rendered by structlog."""
    renderer = (
        structlog.processors.JSONRenderer(sort_keys=False) if wants_json(config) else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _shared_processors(),
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    Redactor(configured_secrets(config)),
                    renderer,
                ],
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": config["LOG_LEVEL"].upper()},
    }


def configure_structlog() -> None:
    """structlog's loggers hand their events to the standard library, whose formatter renders them."""
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure(config: Mapping[str, Any]) -> None:
    """For a process whose logging nobody else sets up (a Celery worker, which would otherwise install its own)."""
    configure_structlog()
    logging.config.dictConfig(dict_config(config))
