"""The REST API (``/api/v1/``): events and their review, sources, documents, system metrics.

Event lists and searches are answered from the response cache when they can be (``api.response_cache``).
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import response_cache, review
from api.filters import DocumentFilter, EventFilter, SourceFilter
from api.models import Document, Mention, Source, TGEEvent
from api.pagination import MAX_OFFSET
from api.serializers import (
    DocumentSerializer,
    EventDetailSerializer,
    EventSerializer,
    MergeSerializer,
    SourceSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    SweepQueuedSerializer,
)
from api.system_metrics import collect_metrics
from workers import enqueue


class CachedListMixin:
    """Serve a list from the response cache; the key is path + query (+ body), the version bumps on change."""

    def cached(self, request, build, body: bytes = b""):
        key = response_cache.key_for(request.path, request.META.get("QUERY_STRING", ""), body)
        data = response_cache.get(key)
        if data is None:
            data = build()
            response_cache.put(key, data)
        return Response(data)


class SearchFiltersSerializer(serializers.Serializer):
    """The seed's search body: every filter of ``GET tge-events``, lists where a list makes sense."""

    refuses_unknown_fields = True  # the schema says so (api.openapi)

    companies = serializers.ListField(child=StrictCharField(max_length=200), required=False, max_length=100)
    projects = serializers.ListField(child=StrictCharField(max_length=200), required=False, max_length=100)
    tickers = serializers.ListField(child=StrictCharField(max_length=20), required=False, max_length=100)
    chains = serializers.ListField(child=StrictCharField(max_length=60), required=False, max_length=100)
    sources = serializers.ListField(child=StrictCharField(max_length=120), required=False, max_length=100)
    status = serializers.ListField(child=serializers.ChoiceField(TGEEvent.Status.choices), required=False)
    review = serializers.ListField(child=serializers.ChoiceField(TGEEvent.Review.choices), required=False)
    confidence_min = StrictFloatField(required=False, min_value=0, max_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    tge_date_from = serializers.DateField(required=False)
    tge_date_to = serializers.DateField(required=False)
    q = StrictCharField(required=False, max_length=200, allow_blank=True)
    include_candidates = StrictBooleanField(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise ValidationError({name: ["Unknown filter."] for name in sorted(unknown)})
        return super().to_internal_value(data)


class SearchSerializer(serializers.Serializer):
    refuses_unknown_fields = True
    filters = SearchFiltersSerializer(required=False)
    ordering = serializers.ChoiceField(
        choices=["first_seen_at", "-first_seen_at", "tge_date", "-tge_date", "confidence", "-confidence"], required=False)
    limit = StrictIntegerField(required=False, min_value=1, max_value=settings.CONFIG["API_MAX_LIMIT"])
    offset = StrictIntegerField(required=False, min_value=0, max_value=MAX_OFFSET)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object like {\"filters\": {...}}."]})
        unknown = set(data) - set(self.fields)
        if unknown:
            raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return super().to_internal_value(data)

    LISTS = {"companies": "company", "projects": "project", "tickers": "ticker", "chains": "chain",
             "sources": "source", "status": "status", "review": "review"}

    def as_query(self) -> QueryDict:
        """The same parameters ``GET tge-events`` takes, so both go through one FilterSet.

        An empty list or a blank ``q`` is no filter, as a parameter left out of the query is."""
        query = QueryDict(mutable=True)
        for name, value in (self.validated_data.get("filters") or {}).items():
            if name in self.LISTS:
                if value:
                    query[self.LISTS[name]] = ",".join(v.replace(",", " ") for v in value)
            elif isinstance(value, bool):
                query[name] = str(value).lower()
            elif value is not None and str(value).strip():
                query[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        for name in ("ordering", "limit", "offset"):
            if name in self.validated_data:
                query[name] = str(self.validated_data[name])
        return query


@extend_schema_view(
    list=extend_schema(summary="TGE events, newest first", responses={200: EventSerializer(many=True)}),
    retrieve=extend_schema(summary="One event with its mentions",
                           responses={200: EventDetailSerializer}),
)
class EventViewSet(CachedListMixin, viewsets.ReadOnlyModelViewSet):
    queryset = TGEEvent.objects.all()
    filterset_class = EventFilter
    serializer_class = EventSerializer
    lookup_value_regex = "[0-9]+"
    read_only_actions = ("search",)  # a POST that only reads: whoever may read may search

    def get_serializer_class(self):
        return EventDetailSerializer if self.action == "retrieve" else EventSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            mentions = Mention.objects.select_related("document", "source").order_by("-created_at")
            return TGEEvent.objects.with_previous_date().prefetch_related(Prefetch("mentions", queryset=mentions))
        return TGEEvent.objects.with_previous_date()

    def filter_queryset(self, queryset):
        """Filters select lists (``_page``); one event is reachable by id whatever its state."""
        return queryset

    def list(self, request, *args, **kwargs):
        return self.cached(request, lambda: self._page(request.query_params))

    def _page(self, params) -> dict:
        filterset = EventFilter(data=params, queryset=TGEEvent.objects.with_previous_date(), request=self.request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
        page = self.paginator.paginate_queryset(queryset, self._request_with(params), view=self)
        return self.paginator.get_paginated_response(EventSerializer(page, many=True).data).data

    def _request_with(self, params):
        """The paginator reads limit/offset from a request; for a search they come from the body."""
        return self.request if params is self.request.query_params else _ParamsRequest(self.request, params)

    @extend_schema(summary="Search events with a JSON body (the seed's shape)", request=SearchSerializer, filters=False,
                   parameters=[OpenApiParameter("limit", exclude=True), OpenApiParameter("offset", exclude=True)],
                   responses={200: EventSerializer(many=True)})  # paged by the body's limit/offset, not the query's
    @action(detail=False, methods=["post"], url_path="search")
    def search(self, request):
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        query = body.as_query()
        return self.cached(request, lambda: self._page(query), body=query.urlencode().encode())

    @extend_schema(summary="Confirm an event (staff): published whatever its confidence", request=None,
                   responses={200: EventSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def confirm(self, request, pk=None):
        return self._review(request, TGEEvent.Review.CONFIRMED)

    @extend_schema(summary="Reject an event (staff): never published", request=None,
                   responses={200: EventSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def reject(self, request, pk=None):
        return self._review(request, TGEEvent.Review.REJECTED)

    def _review(self, request, decision: str) -> Response:
        return self._event_response(review.set_review(self.get_object().pk, decision, request.user))

    @extend_schema(summary="Merge this event into another (staff): mentions move, later ones follow",
                   request=MergeSerializer, responses={200: EventSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def merge(self, request, pk=None):
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._event_response(review.merge_events(self.get_object().pk, body.validated_data["into"],
                                                        request.user))

    @staticmethod
    def _event_response(event: TGEEvent) -> Response:
        """The event as lists show it after a review action changed it (read again for its annotations)."""
        return Response(EventSerializer(TGEEvent.objects.with_previous_date().get(pk=event.pk)).data)


class _ParamsRequest:
    def __init__(self, request, params: QueryDict):
        self.query_params = params
        self.build_absolute_uri = request.build_absolute_uri


NAME_TAKEN = OpenApiResponse(description="Another source has this name (names are unique).")


@extend_schema_view(
    list=extend_schema(summary="Sources and their health", responses={200: SourceSerializer(many=True)}),
    retrieve=extend_schema(responses={200: SourceSerializer}),
    create=extend_schema(summary="Add a source (staff)", responses={201: SourceSerializer, 409: NAME_TAKEN}),
    update=extend_schema(summary="Replace a source (staff): what the body leaves out takes its default",
                         responses={200: SourceSerializer, 409: NAME_TAKEN}),
    partial_update=extend_schema(responses={200: SourceSerializer, 409: NAME_TAKEN}),
    destroy=extend_schema(responses={204: None}),
)
class SourceViewSet(viewsets.ModelViewSet):
    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    lookup_value_regex = "[0-9]+"
    filterset_class = SourceFilter

    @extend_schema(summary="Queue a fetch of this source now (staff)", request=None,
                   responses={202: SweepQueuedSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def sweep(self, request, pk=None):
        source = self.get_object()
        return Response({"queued": enqueue.queue_fetches([source.pk]), "source": source.pk}, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Documents read from sources", responses={200: DocumentSerializer(many=True)}),
    retrieve=extend_schema(responses={200: DocumentSerializer}),
)
class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Document.objects.select_related("source").order_by("-published_at", "-id")
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    lookup_value_regex = "[0-9]+"


class SystemMetricsView(APIView):
    @extend_schema(summary="Throughput, errors, queues, source health, cache and workers, as JSON",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(collect_metrics())

