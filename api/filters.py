"""The filters of ``GET tge-events`` and ``POST tge-events/search`` (one FilterSet serves both) and of documents.

List filters take comma-separated values (``ticker=ABC,XYZ``); an unknown parameter, status or ordering, a malformed
date, a confidence outside [0, 1], a parameter given twice or given empty (``until=``) is a 400 that names the
parameter: leave a parameter out to leave it unfiltered.
"""
from __future__ import annotations

from datetime import timezone

from django import forms
from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from api.models import MAX_ID, Delivery, Document, Mention, Source, TGEEvent
from api.pagination import CappedLimitOffsetPagination
from tgesweeper.matching.events import event_key

MAX_VALUES = 100
NOT_FILTERS = {CappedLimitOffsetPagination.limit_query_param, CappedLimitOffsetPagination.offset_query_param,
               api_settings.URL_FORMAT_OVERRIDE}  # paging, and DRF's ?format=json


class StrictFilterSet(filters.FilterSet):
    """A query parameter that names no filter is a 400: a typo (``tickr=``) must not silently widen the list."""

    def is_valid(self) -> bool:
        unknown = set(self.data) - set(self.filters) - NOT_FILTERS
        if unknown:
            raise ValidationError({name[:60]: ["Unknown filter."] for name in sorted(unknown)[:20]})
        problems = {}
        for name in self.data:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if len(values) > 1:
                problems[name] = ["Given more than once; give it once (lists are comma-separated)."]
            elif values[0] == "" or (name in self.filters and isinstance(self.filters[name], filters.BaseCSVFilter)
                                     and "" in values[0].split(",")):
                problems[name] = ["Empty; give a value, or leave the parameter out."]
        if problems:
            raise ValidationError(problems)
        return super().is_valid()


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A row id: an integer from 1 to MAX_ID (NumberFilter reads decimals, and ``1.9`` would become id 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class UnitIntervalFilter(filters.NumberFilter):
    """A number from 0 to 1 (a confidence)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=0, max_value=1, **kwargs)


@extend_schema_field({"type": "string", "maxLength": 200})
class TextFilter(filters.CharFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, max_length=200, **kwargs)


class CSVCharFilter(filters.BaseCSVFilter, filters.CharFilter):
    """Comma-separated strings, at most MAX_VALUES of them."""

    def filter(self, qs, value):
        return super().filter(qs, value[:MAX_VALUES] if value else value)


class CSVChoiceFilter(filters.BaseCSVFilter, filters.ChoiceFilter):
    pass


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400 (django-filter's BooleanFilter reads 'perhaps' as absent)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=(("true", "true"), ("false", "false")), coerce=lambda v: v == "true", **kwargs)


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """ISO-8601 with any offset, compared in UTC (PostgreSQL refuses offsets past ±15:59, e.g. "+19:16")."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(timezone.utc)
            except (OverflowError, ValueError):
                raise ValidationError({self.field_name: ["Date and time out of range."]}) from None
        return super().filter(qs, value)


class EventFilter(StrictFilterSet):
    project = CSVCharFilter(method="filter_project", help_text="project or company names (normalized: "
                            "'Foo Protocol' = 'foo'), comma-separated")
    company = CSVCharFilter(method="filter_project", help_text="alias of project (the seed's name)")
    ticker = CSVCharFilter(method="filter_ticker", help_text="tickers, comma-separated, with or without $")
    confidence_min = UnitIntervalFilter(field_name="confidence", lookup_expr="gte")
    status = CSVChoiceFilter(field_name="status", lookup_expr="in", choices=TGEEvent.Status.choices)
    review = CSVChoiceFilter(field_name="review", lookup_expr="in", choices=TGEEvent.Review.choices)
    chain = CSVCharFilter(method="filter_chain", help_text="chains, comma-separated (case-insensitive)")
    source = CSVCharFilter(method="filter_source", help_text="events with a mention from these source names "
                           "(case-insensitive)")
    since = UTCDateTimeFilter(field_name="first_seen_at", lookup_expr="gte", help_text="first seen at or after")
    until = UTCDateTimeFilter(field_name="first_seen_at", lookup_expr="lt", help_text="first seen before")
    tge_date_from = filters.DateFilter(field_name="tge_date", lookup_expr="gte")
    tge_date_to = filters.DateFilter(field_name="tge_date", lookup_expr="lte")
    q = TextFilter(method="filter_text", help_text="free text in project or ticker")
    include_candidates = StrictBooleanFilter(method="filter_candidates",
                                             help_text="true: also events below the confidence threshold, rejected "
                                                       "and merged ones (default: published only)")
    ordering = filters.OrderingFilter(
        fields=(("first_seen_at", "first_seen_at"), ("tge_date", "tge_date"), ("confidence", "confidence")),
        help_text="first_seen_at, tge_date or confidence; '-' for descending (default -first_seen_at)")

    class Meta:
        model = TGEEvent
        fields: list[str] = []

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_candidates"):
            queryset = queryset.filter(published=True)
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by("-first_seen_at", "-id")
        return queryset

    def filter_candidates(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which must also see its absence

    def filter_project(self, queryset, name, value):
        return queryset.filter(key__in={event_key(v, None) for v in value if v.strip()})

    def filter_ticker(self, queryset, name, value):
        return queryset.filter(ticker__in={v.strip().lstrip("$").upper() for v in value if v.strip()})

    def filter_chain(self, queryset, name, value):
        return queryset.filter(_any_iexact("chain", value))

    def filter_source(self, queryset, name, value):
        source_ids = list(Source.objects.filter(_any_iexact("name", value)).values_list("pk", flat=True))
        return queryset.filter(Exists(Mention.objects.filter(event=OuterRef("pk"), source_id__in=source_ids)))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(project__icontains=value) | Q(ticker=value.lstrip("$").upper()))


def _any_iexact(field: str, values: list[str]) -> Q:
    query = Q()
    for value in values:
        query |= Q(**{f"{field}__iexact": value.strip()})
    return query


def subscription_filters(subscription) -> dict[str, str]:
    """An alert subscription's selection as ``EventFilter`` parameters: what its calendar and feed show.

    Its floor, candidates, statuses, projects, tickers, chains and sources; blank names are left out (an empty list
    selects everything, as for alerts). Which changes alert (``change_kinds``) is no filter of events."""
    params = {"confidence_min": str(subscription.min_confidence),
              "include_candidates": "true" if subscription.include_candidates else "false"}
    for name, values in (("status", subscription.statuses), ("project", subscription.projects),
                         ("ticker", subscription.tickers), ("chain", subscription.chains),
                         ("source", subscription.sources)):
        given = [str(v).strip() for v in values if str(v).strip()] if isinstance(values, list) else []
        if given:
            params[name] = ",".join(given[:MAX_VALUES])
    return params


class DocumentFilter(StrictFilterSet):
    source = IdFilter(field_name="source_id", help_text="source id")
    matched = StrictBooleanFilter()
    since = UTCDateTimeFilter(field_name="published_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="published_at", lookup_expr="lt")

    class Meta:
        model = Document
        fields: list[str] = []


class SourceFilter(StrictFilterSet):
    kind = filters.ChoiceFilter(choices=Source.Kind.choices)
    enabled = StrictBooleanFilter()
    circuit_state = filters.ChoiceFilter(choices=Source.Circuit.choices)

    class Meta:
        model = Source
        fields: list[str] = []


class DeliveryFilter(StrictFilterSet):
    """An id, not a choice among subscriptions: whether someone else's subscription exists is none of the caller's
    business."""

    state = filters.ChoiceFilter(choices=Delivery.State.choices)
    subscription = IdFilter(field_name="subscription_id", help_text="subscription id")

    class Meta:
        model = Delivery
        fields: list[str] = []
