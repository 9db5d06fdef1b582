"""Alerts: which subscriptions a recorded change concerns, one Delivery per channel and change, and sending them.

``plan_deliveries`` runs in notify: it creates each delivery once (unique per channel and change), so notify may run
again for the same changes. The first change of an event to a channel is sent at once; changes arriving within
ALERT_COALESCE_SECONDS of that alert join one follow-up delivery sent when the window closes (``merged_into``).
``deliver`` sends one delivery (and whatever merged into it); it returns how long to wait before trying again, and
after ALERT_MAX_ATTEMPTS the delivery is failed. ALERT_PAUSE_AFTER_FAILURES failed deliveries in a row pause the channel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from prometheus_client import Counter
from rest_framework.exceptions import ValidationError

from api import channels
from api.filters import EventFilter, subscription_filters
from api.models import Channel, Delivery, EventChange, Mention, Subscription, TGEEvent
from tgesweeper import net

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2000
LEASE_MARGIN = 30  # s beyond a send's own deadline before another worker may take a delivery over


# --- which subscriptions a change concerns -----------------------------------------------------------

def plan_deliveries(change_ids: list[int]) -> list[int]:
    """Record a delivery for each channel of each subscription a change concerns; returns those to send now
    (new ones, and pending ones from an earlier run of this notify)."""
    found = list(EventChange.objects.filter(pk__in=change_ids).order_by("pk"))
    if not found:
        return []
    subscriptions = list(Subscription.objects.active().prefetch_related("channels"))
    if not subscriptions:
        return []
    selection = Selection({change.event_id for change in found})
    to_send: list[int] = []
    for change in found:
        for subscription in subscriptions:
            if not concerns(subscription, change, selection):
                continue
            for channel in subscription.channels.all():
                delivery_id = _plan(channel, change)
                if delivery_id is not None and delivery_id not in to_send:
                    to_send.append(delivery_id)
    return to_send


def concerns(subscription: Subscription, change: EventChange, selection: Selection) -> bool:
    """A change alerts a subscription that hears its kind and selects its event."""
    if subscription.change_kinds and change.kind not in subscription.change_kinds:
        return False
    return change.event_id in selection.of(subscription, rejected_too=change.kind == EventChange.Kind.REJECTED)


class Selection:
    """Which of a notify's events each subscription selects, by the rule its calendar and feed use
    (``subscription_filters`` through ``EventFilter``), so that what alerts and what the calendar lists never
    disagree. One query per distinct selection, whatever the number of changes."""

    def __init__(self, event_ids: set[int]):
        self.events = TGEEvent.objects.filter(pk__in=event_ids).exclude(review=TGEEvent.Review.MERGED)
        self.params: dict[int, dict[str, str]] = {}
        self.found: dict[tuple, set[int]] = {}

    def of(self, subscription: Subscription, *, rejected_too: bool = False) -> set[int]:
        """``rejected_too``: a rejection is news to whoever followed the event, though it is published no more."""
        if subscription.pk not in self.params:
            self.params[subscription.pk] = subscription_filters(subscription)
        params = self.params[subscription.pk]
        key = (rejected_too, *sorted(params.items()))
        if key not in self.found:
            events = self.events
            if rejected_too:
                params = {**params, "include_candidates": "true"}
                if not subscription.include_candidates:
                    events = events.filter(Q(published=True) | Q(review=TGEEvent.Review.REJECTED, is_candidate=False))
            query = QueryDict(mutable=True)
            query.update(params)
            self.found[key] = _filtered(subscription, EventFilter(data=query, queryset=events))
        return self.found[key]


def _filtered(subscription: Subscription, filterset: EventFilter) -> set[int]:
    """The filter's event ids; a subscription its filters refuse (saved before a rule tightened) selects nothing,
    and the others' alerts go on."""
    try:
        problems = None if filterset.is_valid() else filterset.errors
    except ValidationError as error:  # unknown, repeated or empty parameters
        problems = error.detail
    if problems:
        log.warning("subscription %s selects nothing, its filters are refused: %s", subscription.pk, problems)
        return set()
    return set(filterset.qs.values_list("pk", flat=True))


def _plan(channel: Channel, change: EventChange) -> int | None:
    """The delivery of ``change`` to ``channel``: a new one, or merged into the event's alert still waiting to go."""
    window = timedelta(seconds=settings.CONFIG["ALERT_COALESCE_SECONDS"])
    now = timezone.now()
    with transaction.atomic():
        Channel.objects.select_for_update().filter(pk=channel.pk).first()  # plans for one channel, one at a time
        existing = Delivery.objects.filter(channel=channel, change=change).values_list("pk", "state").first()
        if existing:
            return existing[0] if existing[1] == Delivery.State.PENDING else None
        recent = (Delivery.objects.select_for_update().filter(channel=channel, event_id=change.event_id,
                                                              merged_into__isnull=True, created_at__gte=now - window)
                  .order_by("-created_at", "-pk").first())
        fields = {"channel": channel, "subscription_id": channel.subscription_id, "event_id": change.event_id,
                  "change": change}
        try:
            with transaction.atomic():
                if recent is not None and recent.state == Delivery.State.PENDING and recent.attempts == 0 \
                        and recent.lease_until is None:
                    Delivery.objects.create(**fields, state=Delivery.State.MERGED, merged_into=recent)
                    return None
                send_after = max(recent.created_at, recent.send_after) + window if recent is not None else now
                return Delivery.objects.create(**fields, send_after=max(now, send_after)).pk
        except IntegrityError:  # another notify planned it meanwhile
            return None


# --- sending -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    """What one delivery says: a title and markdown body for Apprise, a JSON payload for webhooks."""

    title: str
    body: str
    payload: dict


def compose(event: TGEEvent, changes: list[EventChange], *, test: bool = False) -> Alert:
    link = f"{settings.CONFIG['ALERT_LINK_BASE_URL'].rstrip('/')}/api/v1/tge-events/{event.pk}"
    name = f"{event.project} ({event.ticker})" if event.ticker else event.project
    what = ", ".join(dict.fromkeys(_describe(c) for c in changes)) or "test alert"
    sources = list(Mention.objects.filter(event_id=event.pk).order_by("-created_at")
                   .values_list("source__name", "document__url", "document__title")[:5])
    lines = [f"**{name}** — {what}", "",
             f"- Date: {event.tge_date.isoformat() if event.tge_date else 'not announced'}",
             f"- Status: {event.status}" + (f" · review: {event.review}" if event.review != "unreviewed" else ""),
             f"- Confidence: {event.confidence:.2f}" + (" (candidate)" if event.is_candidate else ""),
             *([f"- Chain: {event.chain}"] if event.chain else []),
             *([f"- Venues: {', '.join(event.venues)}"] if event.venues else []),
             "", "Sources:", *(f"- {src}: [{title or url}]({url})" if url else f"- {src}: {title}"
                               for src, url, title in sources),
             "", f"[The event]({link})"]
    payload = {"type": "tge.test" if test else "tge.event.changed",
               "timestamp": timezone.now().isoformat(),
               "data": {"event": _event_data(event, link), "changes": [c.as_message() for c in changes],
                        "sources": [{"source": s, "url": u, "title": t} for s, u, t in sources]}}
    title = f"{'[test] ' if test else ''}TGE: {name} — {what}"
    return Alert(title=title, body="\n".join(lines), payload=payload)


def _describe(change: EventChange) -> str:
    old, new = change.old or {}, change.new or {}
    if change.kind == EventChange.Kind.DATE_SET:
        return f"date set: {new.get('tge_date')}"
    if change.kind == EventChange.Kind.DATE_CHANGED:
        return f"date changed: {old.get('tge_date') or 'none'} → {new.get('tge_date') or 'none'}"
    if change.kind == EventChange.Kind.POSTPONED:
        return "postponed"
    return change.get_kind_display()


def _event_data(event: TGEEvent, link: str) -> dict:
    return {"id": event.pk, "project": event.project, "ticker": event.ticker or None,
            "tge_date": event.tge_date.isoformat() if event.tge_date else None, "status": event.status,
            "review": event.review, "confidence": round(event.confidence, 4), "is_candidate": event.is_candidate,
            "chain": event.chain or None, "venues": event.venues, "url": link}


def send(channel: Channel, alert: Alert, message_id: str) -> int | None:
    """One attempt, its target checked again (``tgesweeper.net`` for a webhook, ``channels.check_target`` for Apprise);
    raises ``channels.SendError``. Returns the webhook's HTTP status (None for Apprise)."""
    if channel.kind == Channel.Kind.WEBHOOK:
        return channels.send_webhook(channel.url, channel.subscription.secret, message_id, alert.payload)
    channels.send_apprise(channel.url, alert.title, alert.body)
    return None


# Every attempt's outcome, by channel kind: "delivered", or "failed" (retried or given up); alerts.yml watches failures.
DELIVERIES = Counter("tge_alert_deliveries_total", "Alert delivery attempts by channel kind and outcome (delivered, failed)",
                     ["channel", "outcome"])


def deliver(delivery_id: int) -> float | None:
    """Send one delivery; returns seconds to wait before calling again (a retry, a coalescing window, another
    worker's send in progress), or None when it is done (delivered, failed, or nothing to do)."""
    config = settings.CONFIG
    now = timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("channel__subscription", "event", "change")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.state != Delivery.State.PENDING:
            return None
        if delivery.send_after > now:
            return (delivery.send_after - now).total_seconds()
        if delivery.lease_until and delivery.lease_until > now:
            return (delivery.lease_until - now).total_seconds()
        channel = delivery.channel
        if channel.paused:
            _fail(delivery, f"channel paused: {channel.paused_reason}", count=False)
            return None
        delivery.attempts += 1
        delivery.attempted_at = now
        delivery.lease_until = now + timedelta(seconds=config["ALERT_TIMEOUT"] + LEASE_MARGIN)
        delivery.save(update_fields=["attempts", "attempted_at", "lease_until"])
        changes = [delivery.change, *EventChange.objects.filter(deliveries__merged_into=delivery).order_by("pk")]
    try:
        status = send(channel, compose(delivery.event, changes), f"msg_{delivery.pk}")
    except channels.SendError as exc:
        DELIVERIES.labels(channel=channel.kind, outcome="failed").inc()
        return _attempt_failed(delivery, exc)
    DELIVERIES.labels(channel=channel.kind, outcome="delivered").inc()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.DELIVERED, delivered_at=timezone.now(),
                                                       status_code=status, last_error="", lease_until=None)
        Channel.objects.filter(pk=channel.pk).update(consecutive_failures=0)
    return None


def _attempt_failed(delivery: Delivery, exc: channels.SendError) -> float | None:
    config = settings.CONFIG
    error = f"attempt {delivery.attempts}: {exc.reason}"[:MAX_ERROR_CHARS]
    if exc.transient and delivery.attempts < config["ALERT_MAX_ATTEMPTS"]:
        Delivery.objects.filter(pk=delivery.pk).update(last_error=error, status_code=exc.status, lease_until=None)
        return net.backoff_delay(delivery.attempts - 1, base=config["ALERT_RETRY_BASE_DELAY"],
                                 cap=config["ALERT_RETRY_MAX_DELAY"], retry_after=exc.retry_after)
    delivery.status_code = exc.status
    _fail(delivery, error)
    return None


def _fail(delivery: Delivery, error: str, *, count: bool = True) -> None:
    """The delivery failed for good; ``count``: as one more failure in a row of its channel, which may pause it."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.FAILED, last_error=error[:MAX_ERROR_CHARS],
                                                       status_code=delivery.status_code, lease_until=None)
        if not count:
            return
        channel = Channel.objects.select_for_update().get(pk=delivery.channel_id)
        channel.consecutive_failures += 1
        limit = settings.CONFIG["ALERT_PAUSE_AFTER_FAILURES"]
        if channel.consecutive_failures >= limit and not channel.paused:
            channel.paused = True
            channel.paused_reason = (f"paused after {channel.consecutive_failures} failed alerts in a row; the last: "
                                     f"{error}")[:MAX_ERROR_CHARS]
            log.warning("channel %s paused: %s", channel.pk, channel.paused_reason)
        channel.save(update_fields=["consecutive_failures", "paused", "paused_reason"])


# --- what owners do ----------------------------------------------------------------------------------

def resend(deliveries) -> list[int]:
    """Make failed deliveries pending again (attempts from zero); returns the ids to queue."""
    ids = list(deliveries.filter(state=Delivery.State.FAILED).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(state=Delivery.State.PENDING, attempts=0, lease_until=None,
                                               send_after=timezone.now())
    return ids


def resume(channel_ids) -> int:
    return Channel.objects.filter(pk__in=list(channel_ids)).update(paused=False, paused_reason="",
                                                                   consecutive_failures=0)


def send_test(subscription: Subscription) -> list[dict]:
    """A test alert to each channel, now (about the newest event, or a sample); one that gets through un-pauses its
    channel. Returns per channel whether it got through and the error."""
    event = TGEEvent.objects.exclude(review=TGEEvent.Review.MERGED).order_by("-last_seen_at").first() or TGEEvent(
        pk=0, key="sample", project="Sample Project", ticker="SMPL", confidence=1.0, is_candidate=False)
    alert = compose(event, [], test=True)
    results = []
    for channel in subscription.channels.all():
        try:
            status = send(channel, alert, f"test_{channel.pk}_{timezone.now().timestamp():.0f}")
        except channels.SendError as exc:
            results.append({"channel": channel.pk, "ok": False, "error": exc.reason, "status": exc.status})
            continue
        resume([channel.pk])
        results.append({"channel": channel.pk, "ok": True, "error": "", "status": status})
    return results
