"""Sending one alert to one channel: a signed webhook, or an Apprise URL. Each target is checked before it is used.

Webhooks follow the Standard Webhooks spec (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``: HMAC-SHA256
by the ``standardwebhooks`` library with the subscription's secret) and go through ``tgesweeper.net`` — URL and every
connection's peer checked, deadlines, response size cap, no redirects followed.

Apprise makes its own connections (HTTP, SMTP, ...). Before handing a URL over, the host Apprise will talk to —
the URL's host, or an email URL's SMTP server — is resolved and refused when it is not public; services at a fixed
address (Telegram, Discord: the plugin's ``notify_url``) need no check. What this does not guard: Apprise following
redirects, and a DNS answer that changes between the check and Apprise's own lookup (docs/alerts.md).
"""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import apprise
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from tgesweeper import net

WEBHOOK_SCHEMES = ("http", "https")
MAX_RESPONSE_BYTES = 64 * 1024


class InvalidChannel(ValueError):
    """A channel URL that cannot be used: its message says why (shown to the person saving it)."""


@dataclass
class SendError(Exception):
    """A send that did not get through; ``transient``: another attempt may (timeouts, 5xx, 429)."""

    reason: str
    transient: bool = True
    retry_after: float | None = None
    status: int | None = None

    def __str__(self) -> str:
        return self.reason


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def check_target(kind: str, url: str) -> None:
    """Refuse a channel URL whose target is not a public address (unless SCRAPING_ALLOW_PRIVATE_NETWORKS).

    A host that does not resolve now is accepted, as for Source URLs: a webhook's send resolves (and checks) it again
    and fails the attempt; the host part of some Apprise URLs is a token, not a host (``slack://T1JJ3T3L2/...``), and
    a real host that does not resolve fails in Apprise's own lookup as well.
    """
    allow_private = settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]
    target = url if kind == "webhook" else apprise_target(url)
    if kind == "webhook" and url.split(":", 1)[0].lower() not in WEBHOOK_SCHEMES:
        raise InvalidChannel("A webhook URL starts with http:// or https://.")
    if target is None:
        return
    try:
        net.check_url(target, allow_private=allow_private)
    except net.ConnectionFailed:
        return
    except net.BlockedURL as exc:
        raise InvalidChannel(exc.reason) from None


def apprise_target(url: str) -> str | None:
    """``http://host:port/`` of the server Apprise will connect to for ``url``; None for a service at a fixed address."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise InvalidChannel("Apprise does not know this URL (see the Apprise wiki for the services and their URLs).")
    if isinstance(getattr(type(plugin), "notify_url", None), str):
        return None
    host = getattr(plugin, "smtp_host", None) or getattr(plugin, "host", None)
    if not host:
        return None
    port = plugin.port or (443 if plugin.secure else 80)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def policy() -> net.FetchPolicy:
    config = settings.CONFIG
    return net.FetchPolicy(connect_timeout=config["SCRAPING_CONNECT_TIMEOUT"], read_timeout=config["ALERT_TIMEOUT"],
                           total_timeout=config["ALERT_TIMEOUT"], max_bytes=MAX_RESPONSE_BYTES,
                           allow_private=config["SCRAPING_ALLOW_PRIVATE_NETWORKS"], max_redirects=0)


def send_webhook(url: str, secret: str, message_id: str, payload: dict) -> int:
    """POST the payload signed; returns the HTTP status. ``message_id`` stays the same across retries (receivers
    drop what they have seen)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    sent_at = datetime.now(timezone.utc)
    headers = {"Content-Type": "application/json", "webhook-id": message_id,
               "webhook-timestamp": str(int(sent_at.timestamp())),
               "webhook-signature": Webhook(secret).sign(message_id, sent_at, body)}
    try:
        return net.post(url, body.encode("utf-8"), headers=headers, policy=policy()).status
    except net.BlockedURL as exc:
        raise SendError(exc.reason, transient=False) from None
    except net.HTTPStatusError as exc:
        raise SendError(exc.reason, transient=exc.transient, retry_after=exc.retry_after, status=exc.status) from None
    except net.FetchError as exc:
        raise SendError(exc.reason, transient=exc.transient) from None


def send_apprise(url: str, title: str, body: str) -> None:
    """Hand the alert to Apprise (markdown; plain where the service renders none). Apprise says only whether it got
    through, so a failure is taken as transient and its log lines are the error."""
    try:
        check_target("apprise", url)
    except InvalidChannel as exc:
        raise SendError(str(exc), transient=False) from None
    notifier = apprise.Apprise()
    notifier.add(url)
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        sent = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
    if not sent:
        lines = [line.split(" - ", 2)[-1] for line in log.getvalue().splitlines() if line.strip()]
        raise SendError("Apprise: " + ("; ".join(lines[-3:]) or "the service did not accept the alert")[:1000])
