"""Consul registration (optional): with ``CONSUL_HTTP_ADDR`` set, the web (tgesweeper/asgi.py) and each worker
(workers/observability.py) register as a service with an HTTP health check when they are ready and deregister when
they stop. An agent that does not answer is logged and skipped: Consul never keeps the sweeper from running."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import consul

log = logging.getLogger(__name__)
CHECK_INTERVAL, CHECK_TIMEOUT, DEREGISTER_AFTER = "15s", "5s", "10m"


def agent(config: Mapping[str, Any]) -> consul.Consul | None:
    address = config["CONSUL_HTTP_ADDR"]
    if not address:
        return None
    parts = urlsplit(address if "://" in address else f"http://{address}")
    return consul.Consul(
        host=parts.hostname, port=parts.port or 8500, scheme=parts.scheme, token=config["CONSUL_HTTP_TOKEN"] or None
    )


def register(
    config: Mapping[str, Any], name: str, instance: str, port: int | None, *, health_path: str | None, tags: Sequence[str] = ()
) -> str | None:
    """Register ``name`` (e.g. ``tge-web``); returns the service id to deregister with, or None."""
    client = agent(config)
    if client is None:
        return None
    address = config["CONSUL_SERVICE_ADDRESS"] or socket.gethostname()
    service_id = f"{name}-{instance}"
    check = None
    if port and health_path:
        check = consul.Check.http(
            f"http://{address}:{port}{health_path}", CHECK_INTERVAL, timeout=CHECK_TIMEOUT, deregister=DEREGISTER_AFTER
        )
    try:
        client.agent.service.register(
            name, service_id=service_id, address=address, port=port, tags=["tge-sweeper", *tags], check=check
        )
    except (consul.ConsulException, OSError) as exc:
        log.warning("could not register %s with Consul at %s: %s", service_id, config["CONSUL_HTTP_ADDR"], exc)
        return None
    log.info("registered %s with Consul", service_id)
    return service_id


def deregister(config: Mapping[str, Any], service_id: str | None) -> None:
    client = agent(config)
    if client is None or service_id is None:
        return
    try:
        client.agent.service.deregister(service_id)
    except (consul.ConsulException, OSError) as exc:
        log.warning("could not deregister %s from Consul: %s", service_id, exc)
        return
    log.info("deregistered %s from Consul", service_id)
