"""The operators' console: sources with their schedule and health, events to review, and what the pipeline read."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from rest_framework.exceptions import ValidationError

from api import alerts
from api import channels as alert_channels
from api.feed_access import feed_urls, new_subscription_feed_secret, rotate_feed_secret
from api.keys import create_key
from api.models import (
    ApiKey,
    Channel,
    DeadLetter,
    Delivery,
    DetectorPromotion,
    Document,
    EventChange,
    FeedToken,
    KeywordRule,
    Mention,
    PipelineFailure,
    ReviewedExample,
    ShadowScore,
    Source,
    Subscription,
    SweepRun,
    SweepSource,
    TGEEvent,
)
from api.review import merge_events, set_review
from workers import enqueue


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the pipeline owns: people look, the pipeline writes."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "enabled", "polling", "last_success_at", "failure_count", "health", "circuit_state",
                    "short_error")
    list_filter = ("kind", "enabled", "circuit_state")
    search_fields = ("name", "url", "query")
    list_select_related = ("periodic_task",)
    readonly_fields = ("etag", "last_modified", "cursor", "last_fetched_at", "last_success_at", "last_failure_at",
                       "failure_count", "last_error", "circuit_state", "circuit_opened_at", "next_fetch_not_before",
                       "adaptive_interval_seconds", "schedule", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "url", "query", "interval_seconds", "enabled", "options")}),
        ("Health", {"fields": ("last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error",
                               "circuit_state", "circuit_opened_at", "next_fetch_not_before")}),
        ("Schedule and caching", {"fields": ("schedule", "adaptive_interval_seconds", "etag", "last_modified", "cursor",
                                             "created_at", "updated_at")}),
    )
    actions = ("sweep_now",)

    @admin.display(description="health")
    def health(self, source: Source) -> str:
        if source.not_configured:
            return format_html('<span style="color:#a60">{}</span>', "not configured")
        if source.failure_count:
            return format_html('<span style="color:#b00">failing ×{}</span>', source.failure_count)
        return "ok" if source.last_success_at else "not fetched yet"

    @admin.display(description="polling", ordering="interval_seconds")
    def polling(self, source: Source) -> str:
        """The interval beat uses now; with adaptive polling, next to the operator's base interval."""
        if source.adaptive_interval_seconds and source.adaptive_interval_seconds != source.interval_seconds:
            return f"{source.adaptive_interval_seconds} s (adaptive; base {source.interval_seconds} s)"
        return f"{source.interval_seconds} s"

    @admin.display(description="last error")
    def short_error(self, source: Source) -> str:
        return Truncator(source.last_error).chars(80)

    @admin.display(description="periodic task")
    def schedule(self, source: Source) -> str:
        task = source.periodic_task
        if task is None:
            return "none"
        state = "enabled" if task.enabled else "disabled"
        return f"{task.name}: every {source.poll_interval_seconds} s ({state}), last run {task.last_run_at or 'never'}"

    @admin.action(description="Sweep now (queue a fetch)")
    def sweep_now(self, request, queryset) -> None:
        count = enqueue.queue_fetches(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued a fetch for {count} source(s).", messages.SUCCESS)


class MentionInline(admin.TabularInline):
    model = Mention
    extra = 0
    can_delete = False
    fields = ("document", "kind", "confidence", "tge_date", "snippet", "created_at")
    readonly_fields = fields
    raw_id_fields = ("document",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReviewQueueFilter(admin.SimpleListFilter):
    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return (("candidates", "Candidates to review (below threshold, unreviewed)"), ("published", "Published"))

    def queryset(self, request, queryset):
        if self.value() == "candidates":
            return queryset.filter(is_candidate=True, review=TGEEvent.Review.UNREVIEWED)
        if self.value() == "published":
            return queryset.filter(published=True)
        return queryset


@admin.register(TGEEvent)
class TGEEventAdmin(admin.ModelAdmin):
    list_display = ("project", "ticker", "status", "tge_date", "confidence", "is_candidate", "review", "published",
                    "mention_count", "source_count", "first_seen_at", "last_seen_at")
    list_filter = (ReviewQueueFilter, "review", "status", "chain")
    list_select_related = ("merged_into",)
    search_fields = ("project", "ticker", "key")
    date_hierarchy = "first_seen_at"
    fields = ("project", "ticker", "key", "status", "tge_date", "chain", "venues", "confidence", "is_candidate", "review",
              "published", "merged_into", "reviewed_by", "reviewed_at", "mention_count", "source_count", "first_seen_at",
              "last_seen_at")
    readonly_fields = fields  # facts come from mentions, review from the actions below
    inlines = (MentionInline,)
    actions = ("confirm", "reject", "merge")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Confirm (publish whatever the confidence)")
    def confirm(self, request, queryset) -> None:
        self._review(request, queryset, TGEEvent.Review.CONFIRMED)

    @admin.action(description="Reject (never publish)")
    def reject(self, request, queryset) -> None:
        self._review(request, queryset, TGEEvent.Review.REJECTED)

    def _review(self, request, queryset, decision: str) -> None:
        done = 0
        for pk in queryset.exclude(review=TGEEvent.Review.MERGED).values_list("pk", flat=True):
            set_review(pk, decision, request.user)
            done += 1
        self.message_user(request, f"{decision.capitalize()} {done} event(s).", messages.SUCCESS)

    @admin.action(description="Merge selected into the one with the most mentions")
    def merge(self, request, queryset) -> None:
        events = list(queryset.exclude(review=TGEEvent.Review.MERGED).order_by("-mention_count", "pk"))
        if len(events) < 2:
            self.message_user(request, "Select at least two events that are not merged already.", messages.WARNING)
            return
        target = events[0]
        try:
            for other in events[1:]:
                merge_events(other.pk, target.pk, request.user)
        except ValidationError as exc:
            self.message_user(request, f"Merge stopped: {exc.detail}", messages.ERROR)
            return
        self.message_user(request, f"Merged {len(events) - 1} event(s) into {target}.", messages.SUCCESS)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "source", "published_at", "date_missing", "matched", "fetched_at")
    list_filter = ("matched", "date_missing", "source")
    list_select_related = ("source",)
    search_fields = ("title", "url", "external_id")
    date_hierarchy = "published_at"


@admin.register(Mention)
class MentionAdmin(ReadOnlyAdmin):
    list_display = ("event", "document", "kind", "confidence", "tge_date", "created_at")
    list_filter = ("kind",)
    list_select_related = ("event", "document")
    search_fields = ("event__project", "event__ticker", "document__title")
    date_hierarchy = "created_at"


@admin.register(ReviewedExample)
class ReviewedExampleAdmin(ReadOnlyAdmin):
    """Reviewers' decisions as labeled items (``train_detector --with-reviews``): written by confirm, reject, merge."""

    list_display = ("title", "label", "decision", "project", "source", "published_at", "reviewed_by", "reviewed_at")
    list_filter = ("label", "decision")
    list_select_related = ("reviewed_by",)
    search_fields = ("title", "project", "ticker", "url")
    date_hierarchy = "reviewed_at"


@admin.register(DetectorPromotion)
class DetectorPromotionAdmin(ReadOnlyAdmin):
    """Who made which detector model live, when, and what it replaced (``manage.py promote_detector``)."""

    list_display = ("at", "action", "version", "replaced_version", "by", "note")
    list_filter = ("action",)
    exclude = ("content",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ShadowScore)
class ShadowScoreAdmin(ReadOnlyAdmin):
    """The shadow model's scores (``DETECTOR_SHADOW_MODEL``): never published."""

    list_display = ("document", "model_version", "probability", "confidence", "project", "created_at")
    list_filter = ("model_version",)
    list_select_related = ("document",)
    search_fields = ("document__title", "project")
    raw_id_fields = ("document",)


@admin.register(PipelineFailure)
class PipelineFailureAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "stage", "source", "external_id", "error")
    list_filter = ("stage", "source")
    list_select_related = ("source",)
    search_fields = ("external_id", "error")
    date_hierarchy = "created_at"


class SweepSourceInline(admin.TabularInline):
    model = SweepSource
    extra = 0
    can_delete = False
    fields = ("source", "state", "documents_new", "batches_expected", "batches_done", "not_modified", "error",
              "fetch_seconds", "parse_seconds")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "started_at", "finished_at")
    inlines = (SweepSourceInline,)


def revoke_secrets(model_admin, request, queryset, noun: str) -> None:
    """Revoke API keys or feed tokens at once; those revoked already keep their date."""
    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    model_admin.message_user(request, f"Revoked {count} {noun}.", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Adding a key shows it once in the confirmation message; afterwards only its prefix is known."""

    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    date_hierarchy = "created_at"
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ("revoke",)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return

        key, raw = create_key(obj.name, obj.user)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        self.message_user(request, f"API key created: {raw} — copy it now, it will not be shown again.",
                          messages.WARNING)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset) -> None:
        revoke_secrets(self, request, queryset, "key(s)")


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    """Editable vocabulary; each worker rebuilds its matching engine before its next batch after a change."""

    list_display = ("phrase", "vocabulary", "enabled", "note", "updated_at")
    list_editable = ("enabled",)
    list_filter = ("vocabulary", "enabled")
    search_fields = ("phrase", "note")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Messages parked after they took their worker down on every delivery, or after their task raised an error it
    does not retry; requeue one after fixing the cause."""

    list_display = ("created_at", "task_name", "task_id", "deliveries", "requeued_at")
    list_filter = ("task_name",)
    search_fields = ("task_id", "task_name")
    date_hierarchy = "created_at"
    actions = ("requeue",)

    @admin.action(description="Requeue (as a new message)")
    def requeue(self, request, queryset) -> None:
        self.message_user(request, f"Requeued {enqueue.requeue(queryset)} message(s).", messages.SUCCESS)


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    """Tokens are made through the API (``POST /api/v1/feed-tokens``), which shows the secret once; here they are
    seen and revoked."""

    list_display = ("__str__", "user", "api_key", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user", "api_key")
    search_fields = ("name", "prefix", "user__username", "api_key__name")
    fields = ("name", "prefix", "user", "api_key", "created_at", "revoked_at")
    readonly_fields = ("prefix", "user", "api_key", "created_at")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected feed tokens")
    def revoke(self, request, queryset) -> None:
        revoke_secrets(self, request, queryset, "feed token(s)")


# --- alerts ------------------------------------------------------------------------------------------

class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 1
    fields = ("kind", "url", "paused", "paused_reason", "consecutive_failures")
    readonly_fields = ("paused_reason", "consecutive_failures")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Who hears about which changes, where. Adding one shows its webhook secret and its calendar/feed URLs once (the
    rotate action shows new URLs and ends the old ones); the owner starts as you."""

    list_display = ("name", "owner_user", "owner_key", "enabled", "min_confidence", "channel_states", "created_at")
    list_filter = ("enabled",)
    search_fields = ("name", "owner_user__username", "owner_key__name")
    list_select_related = ("owner_user", "owner_key")
    raw_id_fields = ("owner_user", "owner_key")
    readonly_fields = ("feed_secret_prefix",)
    inlines = (ChannelInline,)
    actions = ("send_test_alert", "resume_channels", "rotate_feed_secrets")

    @admin.display(description="channels")
    def channel_states(self, subscription: Subscription) -> str:
        return ", ".join(f"{c.kind}{' (paused)' if c.paused else ''}" for c in subscription.channels.all()) or "none"

    def get_changeform_initial_data(self, request) -> dict:
        return {"owner_user": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.secret = alert_channels.new_secret()
            raw, feed_secret = new_subscription_feed_secret()
            for name, value in feed_secret.items():
                setattr(obj, name, value)
        super().save_model(request, obj, form, change)
        if not change:
            self.message_user(request, f"Webhook signing secret: {obj.secret} — copy it now, it will not be shown "
                                       "again.", messages.WARNING)
            self._show_feed_urls(request, obj, raw)

    def _show_feed_urls(self, request, subscription: Subscription, raw: str) -> None:
        urls = feed_urls(request, raw)
        self.message_user(request, f"{subscription}: calendar {urls['calendar_url']} · Atom feed {urls['feed_url']} — "
                                   "copy them now, they will not be shown again.", messages.WARNING)

    @admin.action(description="Rotate the feed secret (new calendar/feed URLs; the old ones stop working)")
    def rotate_feed_secrets(self, request, queryset) -> None:
        for subscription in queryset:
            self._show_feed_urls(request, subscription, rotate_feed_secret(subscription))

    @admin.action(description="Send a test alert to each channel (un-pauses those it reaches)")
    def send_test_alert(self, request, queryset) -> None:
        for subscription in queryset:
            for result in alerts.send_test(subscription):
                level = messages.SUCCESS if result["ok"] else messages.ERROR
                self.message_user(request, f"{subscription} channel {result['channel']}: "
                                           f"{'delivered' if result['ok'] else result['error']}", level)

    @admin.action(description="Resume paused channels")
    def resume_channels(self, request, queryset) -> None:
        count = alerts.resume(Channel.objects.filter(subscription__in=queryset).values_list("pk", flat=True))
        self.message_user(request, f"Resumed {count} channel(s).", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """One alert of one change to one channel, with its attempts and error; failed ones can be sent again."""

    list_display = ("created_at", "subscription", "channel", "event", "change", "state", "attempts", "short_error",
                    "delivered_at")
    list_filter = ("state", "channel__kind")
    list_select_related = ("subscription", "channel", "event", "change__event")
    search_fields = ("event__project", "event__ticker", "last_error")
    date_hierarchy = "created_at"
    actions = ("resend",)

    @admin.display(description="error")
    def short_error(self, delivery: Delivery) -> str:
        return Truncator(delivery.last_error).chars(80)

    @admin.action(description="Resend failed deliveries")
    def resend(self, request, queryset) -> None:
        ids = alerts.resend(queryset)
        enqueue.send_deliveries(ids)
        self.message_user(request, f"Queued {len(ids)} delivery(ies) again.", messages.SUCCESS)


@admin.register(EventChange)
class EventChangeAdmin(ReadOnlyAdmin):
    """What each persist and review changed about an event (the outbox notify and alerts read)."""

    list_display = ("created_at", "event", "kind", "batch_id", "source_kind", "published_at")
    list_filter = ("kind", "source_kind")
    list_select_related = ("event",)
    search_fields = ("event__project", "event__ticker", "batch_id")
    date_hierarchy = "created_at"
