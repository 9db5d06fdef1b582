"""limit/offset paging where a bad or too large ``limit`` is an error that says so, not a silent clamp."""
from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10_000_000


class CappedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50

    @property
    def max_limit(self) -> int:
        return settings.CONFIG["API_MAX_LIMIT"]

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
