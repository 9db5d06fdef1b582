"""What the API shows and accepts. Pipeline-owned fields are read-only; a Source is validated like in the admin."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from api.models import Document, Mention, Source, TGEEvent


class MentionSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="document.source.name", read_only=True)
    url = serializers.CharField(source="document.url", read_only=True)
    title = serializers.CharField(source="document.title", read_only=True)
    published_at = serializers.DateTimeField(source="document.published_at", read_only=True)

    class Meta:
        model = Mention
        fields = ("id", "source", "url", "title", "snippet", "published_at", "kind", "confidence", "tge_date", "chain",
                  "venues", "created_at")


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TGEEvent
        fields = ("id", "project", "ticker", "tge_date", "chain", "venues", "status", "confidence", "is_candidate",
                  "review", "published", "merged_into", "mention_count", "source_count", "first_seen_at", "last_seen_at")
        read_only_fields = fields


class EventDetailSerializer(EventSerializer):
    mentions = MentionSerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = (*EventSerializer.Meta.fields, "mentions")
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, help_text="id of the event that absorbs this one")


class SourceSerializer(serializers.ModelSerializer):
    """Health fields come from the pipeline (last success, last error, consecutive failures, circuit state)."""

    class Meta:
        model = Source
        fields = ("id", "name", "kind", "url", "query", "interval_seconds", "enabled", "settings",
                  "last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error",
                  "circuit_state", "circuit_opened_at", "next_fetch_not_before", "adaptive_interval_seconds",
                  "created_at", "updated_at")
        read_only_fields = ("last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error",
                            "circuit_state", "circuit_opened_at", "next_fetch_not_before", "adaptive_interval_seconds",
                            "created_at", "updated_at")
        extra_kwargs = {"interval_seconds": {"min_value": 10, "max_value": 86400}}

    def validate_settings(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        return value

    def validate(self, attrs):
        candidate = Source(**{**self._current(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("name", "kind", "url", "query", "interval_seconds", "enabled",
                                                       "settings")}


class DocumentSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)

    class Meta:
        model = Document
        fields = ("id", "source", "source_id", "external_id", "url", "title", "text", "author", "published_at",
                  "date_missing", "fetched_at", "matched")
        read_only_fields = fields


class SweepQueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    source = serializers.IntegerField()
