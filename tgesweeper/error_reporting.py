"""Errors to Sentry when ``SENTRY_DSN`` is set (Django requests, Celery tasks, Redis calls); nothing otherwise.

Every event goes through the log redactor before it leaves the process (``before_send``): no secret, header, cookie
or configured credential reaches Sentry, and no personal data is sent (``send_default_pii=False``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.redis import RedisIntegration
from sentry_sdk.types import Event, Hint

from tgesweeper.config import PROJECT_DIR
from tgesweeper.logs import Redactor, configured_secrets

PROJECT_NAME = "tge-news-sweeper"


@cache
def version() -> str:
    """The project's version, as pyproject.toml states it (the image copies it)."""
    return tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]


def release() -> str:
    return f"{PROJECT_NAME}@{version()}"


def init_sentry(config: Mapping[str, Any]) -> bool:
    """Returns whether Sentry was set up."""
    if not config["SENTRY_DSN"]:
        return False
    redactor = Redactor(configured_secrets(config))

    def scrub(event: Event, hint: Hint) -> Event:
        return redactor.value(event)

    sentry_sdk.init(
        dsn=config["SENTRY_DSN"],
        environment=config["SENTRY_ENVIRONMENT"] or config["APP_ENV"],
        release=release(),
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=config["SENTRY_TRACES_SAMPLE_RATE"],
        before_send=scrub,
        before_send_transaction=scrub,
    )
    return True
