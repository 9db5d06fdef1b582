"""What the API shows and accepts. Pipeline-owned fields are read-only; a Source is validated like in the admin."""
from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.errors import Conflict, validation_detail
from api.models import MAX_ID, Document, Mention, Source, TGEEvent


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]})
class OptionalURLField(serializers.URLField):
    """A URL, or "" where the source gave none (e.g. an X source reads an API, not a page)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only, as the schema says (DRF also reads "yes", "1", 0...)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=str(data)[:40])


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF also reads 12 as "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number only (DRF also reads "12" and true)."""

    def to_internal_value(self, data):
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, (str, bool)):
            self.fail("invalid")
        return super().to_internal_value(data)


class MentionSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)
    url = OptionalURLField(source="document.url", read_only=True)
    title = serializers.CharField(source="document.title", read_only=True)
    published_at = serializers.DateTimeField(source="document.published_at", read_only=True)

    class Meta:
        model = Mention
        fields = ("id", "source", "url", "title", "snippet", "published_at", "kind", "confidence", "tge_date", "chain",
                  "venues", "copy_group", "created_at")


class EventSerializer(serializers.ModelSerializer):
    previous_tge_date = serializers.DateField(
        read_only=True, allow_null=True,
        help_text="The TGE date before its last move (what a postponed event was set for); null if it never moved.")

    class Meta:
        model = TGEEvent
        fields = ("id", "project", "ticker", "tge_date", "previous_tge_date", "chain", "venues", "status", "confidence",
                  "is_candidate", "review", "published", "merged_into", "mention_count", "source_count",
                  "first_seen_at", "last_seen_at")
        read_only_fields = fields


class EventDetailSerializer(EventSerializer):
    mentions = MentionSerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = (*EventSerializer.Meta.fields, "mentions")
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    into = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="id of the event that absorbs this one")


MAX_OPTIONS_CHARS = 20_000
KIND_UNIT_DEFAULTS = {"url": "", "options": {}}
MAX_OPTIONS_DEPTH = 8


class StrictModelSerializer(serializers.ModelSerializer):
    """A model's strings, booleans and counts read from JSON strings, booleans and numbers only."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.BooleanField: StrictBooleanField, models.PositiveIntegerField: StrictIntegerField,
                                models.CharField: StrictCharField}


class SourceSerializer(StrictModelSerializer):
    """Health fields come from the pipeline (last success, last error, consecutive failures, circuit state)."""

    options = serializers.DictField(required=False, help_text="Per-kind options (docs/sources.md).")
    url = OptionalURLField(max_length=1000, required=False, help_text="http/https, public hosts only")

    class Meta:
        model = Source
        fields = ("id", "name", "kind", "url", "query", "interval_seconds", "enabled", "options",
                  "last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error",
                  "circuit_state", "circuit_opened_at", "next_fetch_not_before", "adaptive_interval_seconds",
                  "created_at", "updated_at")
        read_only_fields = ("last_fetched_at", "last_success_at", "last_failure_at", "failure_count", "last_error",
                            "circuit_state", "circuit_opened_at", "next_fetch_not_before", "adaptive_interval_seconds",
                            "created_at", "updated_at")
        extra_kwargs = {"interval_seconds": {"min_value": 10, "max_value": 86400},
                        "name": {"validators": []}}  # a clash is a 409 (validate), not a field error


    def validate_options(self, value: dict) -> dict:
        """Options are small, shallow JSON without NUL characters (PostgreSQL's jsonb cannot store "\\u0000")."""
        if len(json.dumps(value)) > MAX_OPTIONS_CHARS:
            raise serializers.ValidationError(f"At most {MAX_OPTIONS_CHARS:,} characters of JSON.")
        stack = [(value, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_OPTIONS_DEPTH:
                raise serializers.ValidationError(f"Nested deeper than {MAX_OPTIONS_DEPTH} levels.")
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, child in items:
                if "\x00" in str(key) or (isinstance(child, str) and "\x00" in child):
                    raise serializers.ValidationError("NUL characters are not allowed.")
                if isinstance(child, (dict, list)):
                    stack.append((child, depth + 1))
        return value

    def validate(self, attrs):
        attrs = self._with_kind_unit(attrs)
        candidate = Source(**{**self._current(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from None
        return attrs

    def save(self, **kwargs):
        """A taken name is a 409, found by the insert itself: no query beforehand, and no race between the two."""
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError:
            name = self.validated_data.get("name")
            if name and Source.objects.filter(name=name).exclude(pk=getattr(self.instance, "pk", None)).exists():
                raise Conflict({"name": [f"A source named {name!r} already exists."]}) from None
            raise

    def _with_kind_unit(self, attrs: dict) -> dict:
        """Kind, URL and options are checked together, so a request gives them together and is valid on its own.

        A PUT replaces the source: what it leaves out takes the default, as in a POST. A PATCH that changes the URL
        or the options names the kind, and the URL and options it leaves out are reset with it.
        """
        if self.instance is None:
            return attrs
        if not self.partial:
            return {**KIND_UNIT_DEFAULTS, **{f: Source._meta.get_field(f).get_default() for f in ("kind", "query",
                    "interval_seconds", "enabled")}, **attrs}
        if "kind" not in attrs and ({"url", "options"} & set(attrs)):
            raise serializers.ValidationError({"kind": ["Give the kind with url or options: the three are checked "
                                                        "together."]})
        return {**KIND_UNIT_DEFAULTS, **attrs} if "kind" in attrs else attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("name", "kind", "url", "query", "interval_seconds", "enabled",
                                                       "options")}


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
