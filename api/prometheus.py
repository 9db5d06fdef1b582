"""``/metrics`` in Prometheus' text format. It names sources and their health, so like every read it needs an
identity: give the scraper an API key (``authorization: {type: Api-Key, credentials: tge_...}``).

Two parts: the figures read from the database and the broker (``SweeperCollector``, the same whichever web process
answers), and the process-counted ones — request counts and latencies (django-prometheus) and, where workers share
this host's ``PROMETHEUS_MULTIPROC_DIR`` (``make run``), the pipeline's. With that folder set (uvicorn with several
workers), every process's counts are gathered from it; without it, this process's own are served.
"""

from __future__ import annotations

import os

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from rest_framework.views import APIView

from api.latency_metrics import LatencyCollector
from api.system_metrics import SweeperCollector

_registry = CollectorRegistry(auto_describe=False)
_registry.register(SweeperCollector())
_registry.register(LatencyCollector())


def process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    gathered = CollectorRegistry()
    multiprocess.MultiProcessCollector(gathered)
    return gathered


class PrometheusMetricsView(APIView):
    @extend_schema(
        summary="The figures of system/metrics, request and pipeline metrics in Prometheus' text format",
        responses={(200, CONTENT_TYPE_LATEST): OpenApiTypes.STR},
    )
    def get(self, request):
        return HttpResponse(generate_latest(_registry) + generate_latest(process_registry()), content_type=CONTENT_TYPE_LATEST)
