"""ASGI entry point: Django (API, admin, the dashboard at /app/) and the dashboard's live channel at /socket.io/
(``api.live_socket``), one application that uvicorn serves (``make run``'s Procfile, ``make web``).

Startup and shutdown also register the web with Consul and deregister it (``CONSUL_HTTP_ADDR``; each uvicorn worker
registers the same service id, so the agent holds one)."""
import asyncio
import os
import socket

import socketio
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from api import live_socket  # noqa: E402, PLC0415 - needs Django's settings and apps, loaded just above
from tgesweeper import service_registry  # noqa: E402

_consul_service: dict[str, str | None] = {"id": None}


async def startup() -> None:
    await live_socket.start()
    port = settings.CONFIG["CONSUL_SERVICE_PORT"]
    _consul_service["id"] = await asyncio.to_thread(
        service_registry.register, settings.CONFIG, "tge-web", f"{socket.gethostname()}-{port}", port,
        health_path="/health/ready")


async def shutdown() -> None:
    await asyncio.to_thread(service_registry.deregister, settings.CONFIG, _consul_service["id"])
    await live_socket.stop()


application = socketio.ASGIApp(live_socket.sio, other_asgi_app=django_application, socketio_path="socket.io",
                               on_startup=startup, on_shutdown=shutdown)
