"""The pipeline's stage functions: each joins the domain core (sources, matching) to the store.

Tasks in ``workers.tasks`` call exactly one of these and pass on what it returns. Every input and
output is a plain JSON-ready dict, so a message never carries an ORM object.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import logging
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone as dj_timezone

from api import alerts, detector_models, keyword_rules, live_stream, store
from api.models import Source
from tgesweeper import circuit, net, throttle
from tgesweeper.matching import MatchEngine, MatchInput
from tgesweeper.matching.detector import DetectorError
from tgesweeper.sources import Fetched, SourceKind, SourceSpec, kind_for
from tgesweeper.sources.documents import NormalizedDocument
from workers import metrics, observability, schedule
from workers.task_base import UNAVAILABLE

log = logging.getLogger(__name__)


# The shared request budgets a kind may declare (``SourceKind.budget``): who they are, and their limit settings.
SHARED_BUDGETS = {"x-api": ("X API", "X_RATE_LIMIT_REQUESTS", "X_RATE_LIMIT_WINDOW")}


def fetch_policy(kind: SourceKind) -> net.FetchPolicy:
    """The fetch limits from the settings; each request spends the budget the kind declares."""
    config = settings.CONFIG
    return net.FetchPolicy(
        connect_timeout=config["SCRAPING_CONNECT_TIMEOUT"],
        read_timeout=config["SCRAPING_READ_TIMEOUT"],
        total_timeout=config["SCRAPING_TIMEOUT"],
        max_bytes=config["SCRAPING_MAX_BYTES"],
        allow_private=config["SCRAPING_ALLOW_PRIVATE_NETWORKS"],
        before_request=spend_host_budget if kind.budget is None else functools.partial(spend_shared_budget, kind.budget),
    )


def kind_config(kind: SourceKind) -> dict:
    """The settings the kind's fetch reads (``SourceKind.config_keys``), read now so per-test overrides apply."""
    return {key: settings.CONFIG[key] for key in kind.config_keys}


def spend_host_budget(url: str) -> None:
    """One request of the host's budget (NEWS_SCRAPER_RATE_LIMIT per NEWS_SCRAPER_RATE_PERIOD), shared by every worker."""
    config = settings.CONFIG
    host = (urlsplit(url).hostname or "").lower()
    limit, period = config["NEWS_SCRAPER_RATE_LIMIT"], config["NEWS_SCRAPER_RATE_PERIOD"]
    wait = throttle.reserve(f"host:{host}", limit, period)
    if wait > 0:
        raise net.RateLimited(f"{host}: our budget of {limit} requests per {period:g}s is spent; next window in "
                              f"{wait:.0f}s", url=url, retry_after=wait)


def spend_shared_budget(budget: str, url: str) -> None:
    """One request of a shared budget (e.g. the X API quota: X_RATE_LIMIT_REQUESTS per X_RATE_LIMIT_WINDOW), shared by
    every worker."""
    label, limit_key, window_key = SHARED_BUDGETS[budget]
    limit, window = settings.CONFIG[limit_key], settings.CONFIG[window_key]
    wait = throttle.reserve(budget, limit, window)
    if wait > 0:
        raise net.RateLimited(f"{label} budget of {limit} requests per {window}s is spent; next window in {wait:.0f}s",
                              url=url, retry_after=wait)


def claim_scheduled_fetch(source_id: int, interval_seconds: int, run_id: str | None = None) -> bool:
    """One scheduled run per source per interval, even if two beat processes run by mistake.

    The claim belongs to the run, named by its beat message's task id: that message delivered again after its worker
    died finds the claim its own and goes on. The run's retries do not ask again (``fetch(claimed=True)``).
    """
    key = f"fetch-claim:{source_id}"
    if cache.add(key, run_id or "", timeout=max(1, int(interval_seconds * 0.8))):
        return True
    return bool(run_id) and cache.get(key) == run_id


# --- fetch -------------------------------------------------------------------------------------------

def fetch(source_id: int, *, sweep_source_id: int | None = None, scheduled: bool = False, run_id: str | None = None,
          claimed: bool = False, final_attempt: bool = True, can_defer: bool = False) -> dict | None:
    """Fetch a source's bytes. Returns the parse message, or None when there is nothing to parse.

    A transient error is re-raised for the task to retry unless this is the final attempt, a spent rate
    limit whenever the task may still put the fetch off (``can_defer``); anything else is recorded on the
    Source (and the sweep ledger) and ends the fetch. A source whose circuit is open is not fetched.
    A scheduled run (``run_id``: its task id) claims the source for the interval once; its retries are
    ``claimed`` already, so their outcome is recorded like the first attempt's.
    """
    sources = Source.objects.filter(pk=source_id)
    source = (sources.filter(enabled=True) if scheduled else sources).first()
    if source is None:  # deleted, or disabled since beat read its schedule: a quiet no-op
        store.mark_fetch_failed(sweep_source_id, "source deleted", 0.0)
        return None
    observability.bind(source_name=source.name)
    if scheduled and not claimed and not claim_scheduled_fetch(source.pk, source.poll_interval_seconds, run_id):
        log.info("skip %s: already fetched in this interval", source.name)
        metrics.FETCHES.labels(source_id=source.pk, outcome="skipped").inc()
        return None
    resting = circuit_refusal(source)
    if resting:
        log.info("skip %s: %s", source.name, resting)
        metrics.FETCHES.labels(source_id=source.pk, outcome="skipped").inc()
        store.mark_fetch_failed(sweep_source_id, resting, 0.0)
        return None

    kind = kind_for(source.kind)
    started = time.monotonic()
    try:
        fetched = kind.fetch(source_spec(source), fetch_policy(kind), kind_config(kind))
    except net.RateLimited as exc:
        if can_defer:
            raise
        count_fetch_failure(source.pk, exc)
        store.fetch_failed(source.pk, sweep_source_id, f"fetch: {exc.reason} (put off too often)",
                           time.monotonic() - started)
        return None
    except net.NotConfigured as exc:
        count_fetch_failure(source.pk, exc)
        store.record_not_configured(source.pk, exc.reason)
        store.mark_fetch_failed(sweep_source_id, f"{store.NOT_CONFIGURED}{exc.reason}", time.monotonic() - started)
        return None
    except net.FetchError as exc:
        if exc.transient and not final_attempt:
            raise
        count_fetch_failure(source.pk, exc)
        store.fetch_failed(source.pk, sweep_source_id, f"fetch: {exc.reason}", time.monotonic() - started)
        return None

    elapsed = time.monotonic() - started
    metrics.FETCHES.labels(source_id=source.pk, outcome="not_modified" if fetched.not_modified else "ok").inc()
    if fetched.not_modified:
        store.record_fetch_success(source.pk, etag=fetched.etag or source.etag,
                                   last_modified=fetched.last_modified or source.last_modified,
                                   cursor=fetched.cursor or source.cursor)
        store.mark_not_modified(sweep_source_id, elapsed)
        schedule.adapt_interval(source.pk, new_items=0)
        return None
    return payload_for_parse(source_spec(source), fetched, sweep_source_id=sweep_source_id, fetch_seconds=elapsed)


def payload_for_parse(spec: SourceSpec, fetched: Fetched, *, sweep_source_id: int | None = None,
                      fetch_seconds: float = 0.0) -> dict:
    """The parse stage's message for bytes read from a source: a fetch's, or a message a push source's stream sent
    (``fetched.url`` is then the stream's)."""
    assert fetched.body is not None
    return {
        "source_id": spec.id,
        "sweep_source_id": sweep_source_id,
        "kind": spec.kind,
        "options": spec.options or {},
        "url": fetched.url,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "cursor": fetched.cursor,
        "fetched_at": datetime.now(timezone.utc).isoformat(),
        "fetch_seconds": fetch_seconds,
        "body": base64.b64encode(zlib.compress(fetched.body, 6)).decode("ascii"),
    }


def count_fetch_failure(source_id: int, exc: net.FetchError) -> None:
    """Count and log a fetch that failed for good (a transient error with attempts left is retried first)."""
    reason = metrics.fetch_error_reason(exc)
    log.warning("fetch failed (%s): %s", reason, exc.reason)
    metrics.FETCHES.labels(source_id=source_id, outcome="error").inc()
    metrics.FETCH_ERRORS.labels(source_id=source_id, reason=reason).inc()


def circuit_refusal(source: Source) -> str | None:
    """Why this fetch must not happen now (circuit open, or another worker's trial), or None to go ahead."""
    admission = circuit.admit(source.circuit_state, source.circuit_opened_at, dj_timezone.now(),
                              settings.CONFIG["CIRCUIT_BREAKER_RECOVERY_TIMEOUT"])
    if not admission.allowed:
        return f"circuit open after {source.failure_count} failed fetches; resting until {admission.resume_at:%H:%M:%S} UTC"
    if admission.trial and not store.claim_circuit_trial(source):
        return "circuit half-open: another worker is making the trial fetch"
    return None


def source_spec(source: Source) -> SourceSpec:
    return SourceSpec(id=source.pk, name=source.name, kind=source.kind, url=source.url, query=source.query,
                      options=source.options or {}, etag=source.etag, last_modified=source.last_modified,
                      cursor=source.cursor)


# --- parse -------------------------------------------------------------------------------------------

def parse(payload: dict) -> list[dict]:
    """Bytes to new, normalized documents in batches for the match stage.

    A body the kind cannot read (its ``parse_error``, or anything else its pure ``parse`` raises, logged with the
    traceback) is recorded as a failure of the source and of its sweep row; nothing is published.
    """
    started = time.monotonic()
    source_id, sweep_source_id = payload["source_id"], payload.get("sweep_source_id")
    body = zlib.decompress(base64.b64decode(payload["body"]))
    kind = kind_for(payload["kind"])
    try:
        documents = kind.parse(body, feed_url=payload["url"], fetched_at=datetime.fromisoformat(payload["fetched_at"]),
                               max_items=settings.CONFIG["SCRAPING_MAX_ITEMS"], options=payload.get("options") or {})
    except kind.parse_error as exc:
        metrics.FETCH_ERRORS.labels(source_id=source_id, reason="parse").inc()
        store.fetch_failed(source_id, sweep_source_id, f"parse: {exc}", payload.get("fetch_seconds", 0.0))
        return []
    except UNAVAILABLE:  # a kind's parse does no I/O, but an outage is never the source's fault: retry
        raise
    except Exception as exc:  # a body the kind did not foresee: the source fails, the sweep finishes, the worker goes on
        log.exception("the %s parse of source %s raised %s (a gap in the kind's checks: fix it)",
                      payload["kind"], source_id, type(exc).__name__)
        metrics.FETCH_ERRORS.labels(source_id=source_id, reason="parse").inc()
        store.fetch_failed(source_id, sweep_source_id, f"parse: unexpected {type(exc).__name__}: {exc}",
                           payload.get("fetch_seconds", 0.0))
        return []

    store.record_fetch_success(source_id, etag=payload.get("etag"), last_modified=payload.get("last_modified"),
                               cursor=payload.get("cursor"))
    new = store.unseen(source_id, documents)
    metrics.DOCUMENTS_PARSED.labels(source_id=source_id).inc(len(documents))
    metrics.DOCUMENTS_NEW.labels(source_id=source_id).inc(len(new))
    schedule.adapt_interval(source_id, new_items=len(new))
    size = settings.CONFIG["SCRAPING_BATCH_SIZE"]
    chunks = [new[i:i + size] for i in range(0, len(new), size)]
    batches = [
        {
            "batch_id": batch_id(source_id, chunk),
            "source_id": source_id,
            "sweep_source_id": sweep_source_id,
            "fetched_at": payload["fetched_at"],
            "documents": [d.to_dict() for d in chunk],
        }
        for chunk in chunks
    ]
    store.mark_parsed(sweep_source_id, documents_new=len(new), batch_ids=[b["batch_id"] for b in batches],
                      fetch_seconds=payload.get("fetch_seconds", 0.0), parse_seconds=time.monotonic() - started)
    return batches


def batch_id(source_id: int, documents: list[NormalizedDocument]) -> str:
    """Same documents, same id: a re-fetched feed whose batch was already stored is recognized."""
    digest = hashlib.sha256("\n".join(sorted(d.external_id for d in documents)).encode()).hexdigest()[:32]
    return f"{source_id}:{digest}"


# --- match -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Engines:
    """A worker process's engines: the live one and the shadow one (None without ``DETECTOR_SHADOW_MODEL``), and
    what they were built from (``key``: the rules' and the promotions' version numbers; ``files``: the model files)."""

    key: tuple
    files: tuple
    live: MatchEngine
    shadow: MatchEngine | None

    def current(self, key: tuple) -> bool:
        return self.key == key and self.files == tuple(detector_models.model_state(state[0]) for state in self.files)


_engines: Engines | None = None
_engines_lock = threading.Lock()


def engines() -> Engines:
    """One pair of engines per worker process, rebuilt only when the keyword rules change, a model is promoted or
    rolled back, or a model file changes (building costs ~1 s). Under a threads pool the threads share them, and only
    one of them builds. A shadow model that cannot be loaded is logged and left out: it must never stop the live
    pipeline."""
    global _engines

    key = (keyword_rules.version(), detector_models.promotion_version())
    built = _engines
    if built is not None and built.current(key):
        return built
    with _engines_lock:
        if _engines is None or not _engines.current(key):
            _engines = _build_engines(key)
        return _engines


def _build_engines(key: tuple) -> Engines:
    live_path, shadow_path = detector_models.live_model(), detector_models.shadow_model()
    live = keyword_rules.build_engine(live_path or False)
    shadow = None
    if shadow_path:
        try:
            shadow = MatchEngine(live.config, detector_models.load_detector(shadow_path))
        except DetectorError as exc:
            log.error("shadow model left out: %s", exc)
    return Engines(key, (detector_models.model_state(live_path), detector_models.model_state(shadow_path)),
                   live, shadow)


def engine() -> MatchEngine:
    """The live engine the match stage runs (``engines``)."""
    return engines().live


def match(batch: dict, *, source_name: str | None = None) -> dict:
    """Run the engine over a batch; an item that raises is recorded as failed, the rest go on. Each document gets
    its launches in ``matches`` (``match_message``).

    With a shadow model, each item past the prefilter is also scored by it (``shadow``: one entry per document, None
    for the others); persist stores those scores and never publishes them."""
    started = time.monotonic()
    running = engines()
    matcher, shadow = running.live, running.shadow
    name = source_name or Source.objects.filter(pk=batch["source_id"]).values_list("name", flat=True).first() or ""
    matches, failures, shadows = [], [], []
    for doc in batch["documents"]:
        try:
            published = datetime.fromisoformat(doc["published_at"]) if doc.get("published_at") else None
            item = MatchInput(title=doc["title"], text=doc["text"], published_at=published, source=name, url=doc["url"])
            if shadow is None:
                found = matcher.find(item)
            else:
                assessment = matcher.assess(item)
                found = matcher.decide(item, assessment).matches
                shadows.append(shadow_score(shadow, item, assessment))
            matches.append(match_message(found))
        except Exception as exc:  # one bad item must not sink its batch (one poisoned item in a batch)
            log.exception("match failed for %s", doc.get("external_id"))
            matches.append(None)
            failures.append({"external_id": doc.get("external_id", ""), "error": f"{type(exc).__name__}: {exc}"})
            if shadow is not None and len(shadows) < len(matches):
                shadows.append(None)
    metrics.MATCHES.labels(source_id=batch["source_id"]).inc(sum(found is not None for found in matches))
    extra = {"shadow": shadows} if shadow is not None else {}
    return {**batch, "matches": matches, "failures": failures, "match_seconds": time.monotonic() - started,
            "matched_at": datetime.now(timezone.utc).isoformat(), **extra}


def match_message(found: list) -> dict | list[dict] | None:
    """A document's entry in ``matches``: None, one Match dict, or a list of them when the item reports several
    launches (persist reads all three, so messages from before several launches were found still work)."""
    if not found:
        return None
    return found[0].to_dict() if len(found) == 1 else [m.to_dict() for m in found]


def shadow_score(shadow: MatchEngine, item: MatchInput, assessment) -> dict | None:
    """The shadow engine's word on an assessed item past the prefilter: its model's probability and its verdict.
    A shadow model that fails on an item is logged; the item's live verdict stands."""
    if not assessment.hits or shadow.detector is None:
        return None
    try:
        return shadow.shadow_score(item, assessment)
    except Exception:  # the shadow is an experiment: it never costs the live pipeline an item
        log.exception("shadow model %s failed on an item", shadow.detector.version)
        return None


# --- persist and notify ------------------------------------------------------------------------------

def persist(batch: dict) -> list[int]:
    """Store a matched batch once; returns the ids of the changes it recorded (EventChange).

    A batch stored before (a redelivery, perhaps after a crash between the commit and sending notify) returns the
    changes its first delivery recorded: notify is at-least-once, and what it sets off happens once.
    """
    outcome = store.persist_batch(batch)
    if not outcome.duplicate:
        metrics.DOCUMENTS_STORED.labels(source_id=batch["source_id"]).inc(outcome.documents)
        metrics.EVENTS_CHANGED.inc(len(outcome.changed_event_ids))
        metrics.observe_publication_delays([d.get("published_at") for d in batch["documents"]],
                                           datetime.now(timezone.utc))
    if batch.get("failures") and not outcome.duplicate:
        store.record_failures(batch["source_id"], "match", batch["failures"])
    return outcome.change_ids


def notify(change_ids: list[int]) -> list[int]:
    """Publish the changed events on the Redis channel, each with what changed, and record the alerts the changes
    call for; returns the ids of the deliveries to send now."""
    metrics.EVENTS_PUBLISHED.inc(live_stream.publish_changes(change_ids))
    return alerts.plan_deliveries(change_ids)


def deliver(delivery_id: int) -> float | None:
    """Send one alert delivery; returns seconds to wait before the next attempt, or None when it is done."""
    return alerts.deliver(delivery_id)
