"""limit/offset paging where a bad or too large ``limit`` is an error that says so, not a silent clamp.

Counting every match of a filter over a million events costs more than reading the page, so ``count`` counts at
most COUNT_AHEAD rows past the requested page; ``count_exact`` says whether it is the whole total.
"""
from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

MAX_OFFSET = 10_000_000
COUNT_AHEAD = 1_000


class CappedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50

    @property
    def max_limit(self) -> int:
        return settings.CONFIG["API_MAX_LIMIT"]

    def get_count(self, queryset) -> int:
        self.count_bound = self.get_offset(self.request) + self.limit + COUNT_AHEAD  # DRF reads limit first
        return queryset.order_by()[:self.count_bound].count()  # any rows will do for counting

    def get_paginated_response(self, data):
        return Response({"count": self.count, "count_exact": self.count < self.count_bound,
                         "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["required"].append("count_exact")
        schema["properties"]["count"]["description"] = (
            f"matches, counted up to {COUNT_AHEAD:,} past the requested page")
        schema["properties"]["count_exact"] = {
            "type": "boolean", "description": "false: there are at least `count` matches, maybe more"}
        return schema

    def get_limit(self, request) -> int:
        return self._read(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request) -> int:
        return self._read(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    @staticmethod
    def _read(request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: [f"Expected an integer, got {raw[:40]!r}."]}) from None
        if not low <= value <= high:
            raise ValidationError({name: [f"Must be between {low} and {high}."]})
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update({"minimum": low, "maximum": high})
        return parameters
