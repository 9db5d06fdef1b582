"""``/metrics`` in Prometheus' text format. It names sources and their health, so like every read it needs an
identity: give the scraper an API key (``authorization: {type: Api-Key, credentials: tge_...}``)."""
from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from rest_framework.views import APIView

from api.latency_metrics import LatencyCollector
from api.system_metrics import SweeperCollector

_registry = CollectorRegistry(auto_describe=False)
_registry.register(SweeperCollector())
_registry.register(LatencyCollector())


class PrometheusMetricsView(APIView):
    @extend_schema(summary="The figures of system/metrics in Prometheus' text format",
                   responses={(200, CONTENT_TYPE_LATEST): OpenApiTypes.STR})
    def get(self, request):
        return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
