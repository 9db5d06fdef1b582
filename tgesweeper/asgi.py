"""ASGI entry point: the dashboard's live channel at /socket.io/ (``api.live_socket``) and, for every other path,
Django (API, admin, the dashboard at /app/) — one application that uvicorn serves (``make run``'s Procfile,
``make web``, the image). Django's ASGI handler runs each request's synchronous code in a thread of its own, so a slow
request does not hold up the others (``tests/integration/test_web_server.py``)."""
import os

import socketio
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")
django_application = get_asgi_application()

from api import live_socket  # noqa: E402, PLC0415 - needs Django's settings and apps, loaded just above

application = socketio.ASGIApp(live_socket.sio, other_asgi_app=django_application, socketio_path="socket.io",
                               on_startup=live_socket.start, on_shutdown=live_socket.stop)
