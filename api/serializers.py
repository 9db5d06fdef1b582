"""What the API shows and accepts. Pipeline-owned fields are read-only; a Source is validated like in the admin."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import MAX_ID, Document, Mention, Source, TGEEvent


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class OptionalURLField(serializers.URLField):
    """A URL, or "" where the source gave none (e.g. an X source reads an API, not a page)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class MentionSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)
    url = OptionalURLField(source="document.url", read_only=True)
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
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="id of the event that absorbs this one")


MAX_SETTINGS_CHARS = 20_000
MAX_SETTINGS_DEPTH = 8


class SourceSerializer(serializers.ModelSerializer):
    """Health fields come from the pipeline (last success, last error, consecutive failures, circuit state)."""

    settings = serializers.DictField(required=False, help_text="Per-kind options (README: Source kinds).")
    url = OptionalURLField(max_length=1000, required=False, help_text="http/https, public hosts only")

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


    def validate_settings(self, value: dict) -> dict:
        """Options are small, shallow JSON without NUL characters (PostgreSQL's jsonb cannot store "\\u0000")."""
        import json

        if len(json.dumps(value)) > MAX_SETTINGS_CHARS:
            raise serializers.ValidationError(f"At most {MAX_SETTINGS_CHARS:,} characters of JSON.")
        stack = [(value, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_SETTINGS_DEPTH:
                raise serializers.ValidationError(f"Nested deeper than {MAX_SETTINGS_DEPTH} levels.")
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, child in items:
                if "\x00" in str(key) or (isinstance(child, str) and "\x00" in child):
                    raise serializers.ValidationError("NUL characters are not allowed.")
                if isinstance(child, (dict, list)):
                    stack.append((child, depth + 1))
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
    url = OptionalURLField(read_only=True)

    class Meta:
        model = Document
        fields = ("id", "source", "source_id", "external_id", "url", "title", "text", "author", "published_at",
                  "date_missing", "fetched_at", "matched")
        read_only_fields = fields


class SweepQueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    source = serializers.IntegerField()
