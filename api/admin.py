"""The operators' console: sources with their schedule and health, events to review, and what the pipeline read."""
from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator

from api.models import Document, Mention, PipelineFailure, Source, SweepRun, SweepSource, TGEEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the pipeline owns: people look, the pipeline writes."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "enabled", "interval_seconds", "last_success_at", "failure_count", "health", "short_error")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "url", "query")
    list_select_related = ("periodic_task",)
    readonly_fields = ("etag", "last_modified", "last_fetched_at", "last_success_at", "last_failure_at", "failure_count",
                       "last_error", "schedule", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "url", "query", "interval_seconds", "enabled", "settings")}),
        ("Health", {"fields": ("last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error")}),
        ("Schedule and caching", {"fields": ("schedule", "etag", "last_modified", "created_at", "updated_at")}),
    )
    actions = ("sweep_now",)

    @admin.display(description="health")
    def health(self, source: Source) -> str:
        if source.not_configured:
            return format_html('<span style="color:#a60">{}</span>', "not configured")
        if source.failure_count:
            return format_html('<span style="color:#b00">failing ×{}</span>', source.failure_count)
        return "ok" if source.last_success_at else "not fetched yet"

    @admin.display(description="last error")
    def short_error(self, source: Source) -> str:
        return Truncator(source.last_error).chars(80)

    @admin.display(description="periodic task")
    def schedule(self, source: Source) -> str:
        task = source.periodic_task
        if task is None:
            return "none"
        state = "enabled" if task.enabled else "disabled"
        return f"{task.name}: every {source.interval_seconds} s ({state}), last run {task.last_run_at or 'never'}"

    @admin.action(description="Sweep now (queue a fetch)")
    def sweep_now(self, request, queryset) -> None:
        from workers.sweeps import queue_fetches

        count = queue_fetches(list(queryset.values_list("pk", flat=True)))
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


@admin.register(TGEEvent)
class TGEEventAdmin(admin.ModelAdmin):
    list_display = ("project", "ticker", "status", "tge_date", "confidence", "is_candidate", "mention_count",
                    "source_count", "first_seen_at", "last_seen_at")
    list_filter = ("is_candidate", "status", "chain")
    search_fields = ("project", "ticker", "key")
    date_hierarchy = "first_seen_at"
    readonly_fields = ("key", "confidence", "mention_count", "source_count", "first_seen_at", "last_seen_at")
    inlines = (MentionInline,)


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
