"""What the sweeper stores: sources it reads, documents it read, TGE events it found and the mentions behind them.

The pipeline owns Document, Mention and the facts on TGEEvent; people own Source rows and event review.
Unique keys (source + external id, event key, event + document, batch id) make redelivered work a no-op.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Upper
from django.utils import timezone

from api.validation import validate_channel, validate_source

NOT_CONFIGURED = "not configured: "  # how last_error starts when a source waits for a configuration variable
MAX_ALARM_MINUTES = 7 * 24 * 60  # a calendar reminder at most a week ahead
MAX_ID = 2**63 - 1  # the largest id a row can have (bigint); a larger one in a request is refused, not sent to the database


class Source(models.Model):
    class Kind(models.TextChoices):
        RSS = "rss", "RSS / Atom feed"
        HTML = "html", "HTML page (CSS selectors)"
        JSON = "json", "JSON endpoint (field mapping)"
        X = "x", "X / Twitter (API v2)"
        BROWSER = "browser", "JS-rendered page (headless browser)"
        WEBSOCKET = "websocket", "WebSocket announcement stream (with its JSON list)"

    class Circuit(models.TextChoices):
        CLOSED = "closed", "closed (fetching)"
        OPEN = "open", "open (resting after repeated failures)"
        HALF_OPEN = "half_open", "half-open (one trial fetch)"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RSS)
    url = models.URLField(max_length=1000, blank=True, help_text="Feed or page address (http/https, public hosts only).")
    query = models.CharField(max_length=500, blank=True, help_text="Search query, for kinds that search.")
    interval_seconds = models.PositiveIntegerField(default=300, help_text="Seconds between scheduled fetches.")
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True, help_text="Per-source options for its kind.")

    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    failure_count = models.PositiveIntegerField(default=0, editable=False, help_text="Consecutive failed fetches.")
    last_error = models.TextField(blank=True, editable=False)
    cursor = models.CharField(max_length=200, blank=True, editable=False,
                              help_text="Where the next fetch resumes (e.g. the newest post id already read).")
    circuit_state = models.CharField(max_length=16, choices=Circuit.choices, default=Circuit.CLOSED, editable=False)
    circuit_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_fetch_not_before = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set by a rate limit (429 reset) or an open circuit.")
    adaptive_interval_seconds = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Current polling interval chosen from how often the source publishes.")

    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def not_configured(self) -> bool:
        """The last fetch found a configuration variable unset (``store.record_not_configured``): waiting for an operator."""
        return self.last_error.startswith(NOT_CONFIGURED)

    @property
    def fixed_interval(self) -> bool:
        """An interval under ADAPTIVE_POLL_MIN_SECONDS is the operator's on purpose (an exchange's announcement list
        polled every 10–30 s): adaptive polling leaves it as it is."""
        return self.interval_seconds < settings.CONFIG["ADAPTIVE_POLL_MIN_SECONDS"]

    @property
    def poll_interval_seconds(self) -> int:
        """The interval beat uses: the adaptive one when adaptive polling has set it, else the operator's."""
        if self.fixed_interval:
            return self.interval_seconds
        return self.adaptive_interval_seconds or self.interval_seconds

    def clean(self) -> None:
        validate_source(self)


class Document(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=500)
    url = models.URLField(max_length=2000, blank=True)
    title = models.TextField(blank=True)
    text = models.TextField(blank=True)
    author = models.CharField(max_length=300, blank=True)
    lang = models.CharField(max_length=16, blank=True)
    published_at = models.DateTimeField(db_index=True)
    date_missing = models.BooleanField(default=False, help_text="The source gave no usable date: fetch time used.")
    fetched_at = models.DateTimeField(default=timezone.now, db_index=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    matched = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="document_unique_per_source")]

    def __str__(self) -> str:
        return self.title[:80] or self.external_id


class TGEEventQuerySet(models.QuerySet):
    def with_previous_date(self):
        """Annotate ``previous_tge_date``: the date before the last move (what a postponed event was set for), from
        the outbox, so a list shows it without reading each event's history."""
        moves = EventChange.objects.filter(event=models.OuterRef("pk"), kind=EventChange.Kind.DATE_CHANGED)
        old_date = Cast(KeyTextTransform("tge_date", "old"), models.DateField())
        return self.annotate(previous_tge_date=models.Subquery(
            moves.order_by("-created_at", "-id").annotate(old_date=old_date).values("old_date")[:1]))


class TGEEvent(models.Model):
    """One row per token launch, however many documents mention it.

    The pipeline owns the facts (recomputed from mentions); people own ``review``. ``published`` is what readers
    see by default: confirmed events, plus unreviewed ones at or above the confidence threshold.
    """

    class Status(models.TextChoices):
        ANNOUNCED = "announced"
        SCHEDULED = "scheduled"
        LIVE = "live"
        POSTPONED = "postponed"

    class Review(models.TextChoices):
        UNREVIEWED = "unreviewed"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        MERGED = "merged"

    key = models.CharField(max_length=200, unique=True, help_text="Normalized project name; merges mentions.")
    project = models.CharField(max_length=200)
    ticker = models.CharField(max_length=20, blank=True, db_index=True)
    tge_date = models.DateField(null=True, blank=True, db_index=True)
    chain = models.CharField(max_length=60, blank=True)
    venues = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ANNOUNCED, db_index=True)
    confidence = models.FloatField(default=0.0, db_index=True)
    is_candidate = models.BooleanField(default=True, db_index=True, help_text="Below the confidence threshold: for review.")
    review = models.CharField(max_length=16, choices=Review.choices, default=Review.UNREVIEWED, db_index=True)
    reviewed_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged",
                                    help_text="Later mentions of this key go to that event.")
    published = models.BooleanField(default=False, help_text="Shown to readers: confirmed, or unreviewed and not a candidate.")
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    mention_count = models.PositiveIntegerField(default=0)
    source_count = models.PositiveIntegerField(
        default=0, help_text="Independent sources: outlets that carry copies of one story count once.")
    date_sequence = models.PositiveIntegerField(  # db_default too: the benchmarks insert rows with SQL of their own
        default=0, db_default=0, editable=False,
        help_text="Times the TGE date moved: the calendar's SEQUENCE (store.refresh_event).")

    objects = TGEEventQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        verbose_name = "TGE event"
        indexes = [  # the API's default listing and its orderings read these (EXPLAIN in README)
            models.Index(fields=["published", "-first_seen_at", "-id"], name="event_published_first_seen"),
            models.Index(fields=["published", "-confidence", "-id"], name="event_published_confidence"),
            models.Index(fields=["published", "tge_date", "id"], name="event_published_tge_date"),
            # the chain filter ignores case and usually comes with published and a confidence floor
            models.Index(Upper("chain"), "published", "confidence", name="event_chain_published_conf"),
        ]

    def __str__(self) -> str:
        return f"{self.project} ({self.ticker})" if self.ticker else self.project

    def compute_published(self) -> bool:
        if self.review == self.Review.CONFIRMED:
            return True
        return self.review == self.Review.UNREVIEWED and not self.is_candidate


class Mention(models.Model):
    """A document's evidence for an event: what matched and the text around it."""

    event = models.ForeignKey(TGEEvent, on_delete=models.CASCADE, related_name="mentions")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="mentions")
    # The document's source, copied so the API's source filter reads one index instead of every mention's document.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    tge_date = models.DateField(null=True, blank=True)
    chain = models.CharField(max_length=60, blank=True)
    venues = models.JSONField(default=list, blank=True)
    matched_terms = models.JSONField(default=list, blank=True)
    snippet = models.TextField(blank=True)
    confidence = models.FloatField()
    # The detector model that gave ``confidence`` (its version string); empty when the rules alone scored it.
    model_version = models.CharField(max_length=64, blank=True, default="")
    # Syndicated copies (``tgesweeper.matching.copies``): the item's MinHash, and the id of the document whose story
    # this one copies (its own id when it copies none); set when the event is recomputed (``store.refresh_event``).
    copy_signature = models.BinaryField(blank=True, default=b"", editable=False)
    copy_group = models.BigIntegerField(null=True, blank=True,
                                        help_text="Document id of the first report of this story; copies share it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "document"], name="mention_unique_per_document")]
        indexes = [models.Index(fields=["source", "event"], name="mention_source_event")]

    def __str__(self) -> str:
        return f"{self.event} ← {self.document}"


class SweepRun(models.Model):
    """One requested sweep (``manage.py sweep``, ``make demo``, a benchmark): its progress ledger."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sweep {self.pk} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class SweepSource(models.Model):
    """How one source fared in one sweep. Finished when fetch failed or every batch it produced persisted.

    ``expected_batch_ids`` is the ledger: the batch ids the source's parse published (a redelivered parse replaces
    those not yet stored with its own). ``batches_expected`` and ``batches_done`` are derived from it by
    ``api.store``: its size, and how many of its ids have a PipelineBatch row.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        PARSED = "parsed"
        DONE = "done"
        FAILED = "failed"

    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="sources")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    not_modified = models.BooleanField(default=False)
    documents_new = models.PositiveIntegerField(default=0)
    batches_expected = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    expected_batch_ids = models.JSONField(default=list, blank=True)
    fetch_seconds = models.FloatField(default=0.0)
    parse_seconds = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "source"], name="sweep_source_once")]

    def __str__(self) -> str:
        return f"{self.source} in sweep {self.run_id}: {self.state}"


class PipelineBatch(models.Model):
    """A persisted batch. Its id is claimed in the persist transaction, so a redelivered batch changes nothing."""

    batch_id = models.CharField(max_length=100, primary_key=True)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    sweep_source = models.ForeignKey(SweepSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches")
    documents = models.PositiveIntegerField(default=0)
    mentions = models.PositiveIntegerField(default=0)
    match_seconds = models.FloatField(default=0.0)
    persist_seconds = models.FloatField(default=0.0)
    persisted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.batch_id


class PipelineFailure(models.Model):
    """An item one stage could not handle: recorded with its error so nothing vanishes silently."""

    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stage = models.CharField(max_length=16)
    external_id = models.CharField(max_length=500, blank=True)
    error = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stage} failure: {self.external_id or self.error[:40]}"


class ApiKey(models.Model):
    """A key for programs: ``tge_`` + 32 random characters, shown once, stored only as its SHA-256."""

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, db_index=True, editable=False, help_text="First characters, to recognize it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys",
                             help_text="Acts as this user (staff keys may write); empty = read-only.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…{', revoked' if self.revoked_at else ''})"


class FeedToken(models.Model):
    """A secret that stands for its owner in the address of the calendar and the Atom feed (calendar apps and feed
    readers cannot send headers): ``tgef_`` + 32 random characters, shown once, stored as its SHA-256, revocable.

    Its owner is a user (deactivating the user ends its tokens), or an API key that acts for no user (revoking the
    key ends them)."""

    name = models.CharField(max_length=120, blank=True)
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens")
    user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.CASCADE, related_name="feed_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(api_key__isnull=False, user__isnull=True) | models.Q(api_key__isnull=True,
                                                                                   user__isnull=False),
            name="feed_token_one_owner")]

    def __str__(self) -> str:
        return f"{self.name or 'feed token'} ({self.prefix}…{', revoked' if self.revoked_at else ''})"


class KeywordRule(models.Model):
    """Operators' additions to the engine's vocabulary; workers rebuild their engine when these change."""

    class Vocabulary(models.TextChoices):
        LAUNCH_PHRASE = "tge_keywords", "launch phrase (prefilter)"
        EXCLUSION = "exclusions", "exclusion (rejects an item)"
        WATCHLIST = "watchlist", "watched project (raises confidence)"

    vocabulary = models.CharField(max_length=16, choices=Vocabulary.choices,
                                  help_text="Which list of the engine the phrase joins.")
    phrase = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["vocabulary", "phrase"]
        constraints = [models.UniqueConstraint(fields=["vocabulary", "phrase"], name="keyword_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_vocabulary_display()}: {self.phrase}"


class DeadLetter(models.Model):
    """A message parked after it took its worker down TASK_MAX_DELIVERIES times, or after its task raised what it
    does not retry (``workers.task_base``); requeued from the admin once the cause is fixed."""

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=100, unique=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    deliveries = models.PositiveIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]"


class EventLogEntry(models.Model):
    """The live stream's log where there is no Redis (``api.event_log``): one published message per row, in order."""

    id = models.BigAutoField(primary_key=True)
    message = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = "event log entry"
        verbose_name_plural = "event log"

    def __str__(self) -> str:
        return f"{self.pk}-0"


class EventChange(models.Model):
    """What changed about an event, written in the transaction that changed it: the outbox notify and alerts read.

    The persist transaction records what a batch did to each event (``api.store``), review actions what a reviewer
    did (``api.review``); a redelivered batch finds its changes recorded and notifies them again, never twice recorded.
    """

    class Kind(models.TextChoices):
        NEW = "new", "new event"
        DATE_SET = "date_set", "date set"
        DATE_CHANGED = "date_changed", "date changed"
        POSTPONED = "postponed"
        LIVE = "live"
        UPDATED = "updated", "facts updated (confidence, mentions)"
        CONFIRMED = "confirmed", "confirmed by a reviewer"
        REJECTED = "rejected", "rejected by a reviewer"

    event = models.ForeignKey(TGEEvent, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    old = models.JSONField(default=dict, blank=True, help_text="The event's date, status, confidence before.")
    new = models.JSONField(default=dict, blank=True, help_text="... and after.")
    batch_id = models.CharField(max_length=100, blank=True, db_index=True,
                                help_text="The persisted batch that made the change; empty for a review.")
    reviewed_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_kind = models.CharField(max_length=16, blank=True, help_text="Kind of the source whose batch made it.")
    published_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Newest publication time of the batch's documents about the event.")
    fetched_at = models.DateTimeField(null=True, blank=True)
    matched_at = models.DateTimeField(null=True, blank=True, help_text="When the match stage finished its batch.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, help_text="Persisted at.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event}: {self.get_kind_display()}"

    def as_message(self) -> dict:
        return {"id": self.pk, "kind": self.kind, "old": self.old, "new": self.new}


def default_change_kinds() -> list[str]:
    """What a subscription hears unless it says otherwise: every change but ``updated`` (confidence, mention counts)."""
    return [kind for kind in EventChange.Kind.values if kind != EventChange.Kind.UPDATED]


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        """Enabled, and its owner still has access (key not revoked, user active): these alert and open feeds."""
        return (self.filter(enabled=True).exclude(owner_key__revoked_at__isnull=False)
                .exclude(owner_user__is_active=False))


class Subscription(models.Model):
    """Who hears about which event changes, and where (its channels). Owned by a user or by an API key without one.

    Empty lists filter nothing. ``secret`` signs its webhooks (Standard Webhooks); the API shows it once, at creation.
    The feed secret is another one, for the calendar and Atom URLs (``api.feed_access``): stored hashed, rotated to revoke.
    """

    name = models.CharField(max_length=120)
    owner_user = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="tge_subscriptions")
    owner_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions",
                                  help_text="For a key without a user.")
    enabled = models.BooleanField(default=True)
    change_kinds = models.JSONField(default=default_change_kinds, blank=True,
                                    help_text="Changes that alert: " + ", ".join(EventChange.Kind.values) + ".")
    min_confidence = models.FloatField(default=0.0)
    include_candidates = models.BooleanField(default=False, help_text="Alert on events below the confidence threshold.")
    statuses = models.JSONField(default=list, blank=True)
    projects = models.JSONField(default=list, blank=True)
    tickers = models.JSONField(default=list, blank=True)
    chains = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="Source names; any of the event's sources counts.")
    secret = models.CharField(max_length=100, editable=False, help_text="Signs webhooks (whsec_...).")
    feed_secret_hash = models.CharField(max_length=64, null=True, unique=True, editable=False,
                                        help_text="SHA-256 of the calendar/feed secret (tges_...); none until rotated "
                                                  "for subscriptions made before feed secrets existed.")
    feed_secret_prefix = models.CharField(max_length=12, blank=True, editable=False)
    alarm_minutes = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(MAX_ALARM_MINUTES)],
                                                help_text="Calendar reminder this many minutes before the day starts "
                                                          f"(0 to {MAX_ALARM_MINUTES}); empty: none.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(owner_user__isnull=False) | models.Q(owner_key__isnull=False),
                                              name="subscription_has_owner")]

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """Where a subscription's alerts go: a signed webhook (http/https URL) or an Apprise URL (tgram://, discord://...).

    Paused after ALERT_PAUSE_AFTER_FAILURES failed deliveries in a row; a test alert that gets through, or a resume,
    un-pauses it."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "signed webhook (Standard Webhooks)"
        APPRISE = "apprise", "Apprise URL"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.CharField(max_length=2000, help_text="Public hosts only.")
    paused = models.BooleanField(default=False)
    paused_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.subscription}"

    def clean(self) -> None:
        validate_channel(self)


class Delivery(models.Model):
    """One alert of one change to one channel: unique, so a redelivered persist or notify never sends twice.

    Changes of one event arriving within ALERT_COALESCE_SECONDS of its last alert ride on one delivery (``merged_into``).
    """

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"
        MERGED = "merged", "merged into another delivery"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(TGEEvent, on_delete=models.CASCADE, related_name="+")
    change = models.ForeignKey(EventChange, on_delete=models.CASCADE, related_name="deliveries")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="merged")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True, help_text="The channel's last HTTP answer.")
    send_after = models.DateTimeField(default=timezone.now, help_text="Not sent before (a coalescing window).")
    lease_until = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="A worker is sending it until then.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["channel", "change"], name="delivery_once_per_channel_change")]
        indexes = [models.Index(fields=["channel", "event", "-created_at"], name="delivery_channel_event")]

    def __str__(self) -> str:
        return f"{self.change} → {self.channel}: {self.state}"


class ReviewedExample(models.Model):
    """A reviewer's decision about one event, kept as a labeled news item (``api.reviewed_examples``): what
    ``train_detector --with-reviews`` learns from beside the corpora. One per document; a later decision replaces it.

    The item's fields are copied, so an example outlives its document; ``label`` is empty while a merge waits for the
    target event's review (a merge says which launch the item reports, not whether it is one)."""

    class Label(models.TextChoices):
        TGE = "tge", "a launch"
        OTHER = "other", "not a launch"
        PENDING = "", "waits for the event's review"

    document = models.OneToOneField(Document, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="reviewed_example")
    event = models.ForeignKey(TGEEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=16, choices=TGEEvent.Review.choices)
    label = models.CharField(max_length=8, choices=Label.choices, blank=True)
    project = models.CharField(max_length=200, blank=True)
    ticker = models.CharField(max_length=20, blank=True)
    tge_date = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    title = models.TextField(blank=True)
    text = models.TextField(blank=True)
    source = models.CharField(max_length=120, blank=True, help_text="The source's name, as the match stage saw it.")
    url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField()
    reviewed_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.title[:80]}"


class DetectorPromotion(models.Model):
    """One change of the live detector model (``manage.py promote_detector``): the newest row is what workers run.

    The model's JSON is kept here, so a worker whose ``TGE_VAR_DIR`` is not the one the command wrote to writes its
    own copy (``api.detector_models``). An empty ``version`` means the configured ``DETECTOR_MODEL`` (or the rules
    alone). ``rollback_to`` is what ``--rollback`` returns to from this row: the row that was live before it."""

    class Action(models.TextChoices):
        PROMOTE = "promote"
        ROLLBACK = "rollback"

    action = models.CharField(max_length=16, choices=Action.choices)
    version = models.CharField(max_length=64, blank=True, help_text="Live from now on; empty: DETECTOR_MODEL.")
    replaced_version = models.CharField(max_length=64, blank=True, help_text="What was live before.")
    content = models.TextField(blank=True, editable=False, help_text="The model file (JSON).")
    metadata = models.JSONField(default=dict, blank=True, help_text="Its sidecar: training figures, data, libraries.")
    rollback_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by = models.CharField(max_length=150, help_text="Who ran the command.")
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.version or 'DETECTOR_MODEL'} by {self.by} at {self.at:%Y-%m-%d %H:%M}"


class ShadowScore(models.Model):
    """What the shadow model (``DETECTOR_SHADOW_MODEL``) said of a document past the prefilter: stored beside the live
    verdict, never published or alerted. ``confidence`` is its engine's match confidence (null: it would not
    match), ``probability`` the model's calibrated probability that the item reports a launch."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="shadow_scores")
    model_version = models.CharField(max_length=64)
    probability = models.FloatField()
    confidence = models.FloatField(null=True, blank=True)
    project = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["document", "model_version"], name="shadow_score_once")]

    def __str__(self) -> str:
        return f"{self.model_version} on {self.document_id}: p={self.probability:.3f}"
