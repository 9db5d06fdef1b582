"""``/metrics`` in Prometheus' text format; open like the health probes, so scrapers need no key."""
from __future__ import annotations

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.system_metrics import SweeperCollector

_registry = CollectorRegistry(auto_describe=False)
_registry.register(SweeperCollector())


def metrics(request):
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
