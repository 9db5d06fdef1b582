"""ASGI entry point: the dashboard's live channel at /socket.io/ (``api.live_socket``) and, for every other path,
Django (API, admin, the dashboard at /app/) — one application that uvicorn serves (``make run``'s Procfile,
``make web``, the image).

Django runs as its WSGI application in a pool of ``WEB_THREADS`` threads (a2wsgi): under Django's own ASGI handler
every synchronous view of a process would take turns on one thread, so one slow request would hold up the rest.
"""
import os

import socketio
from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")
django_application = WSGIMiddleware(get_wsgi_application(), workers=settings.CONFIG["WEB_THREADS"])

from api import live_socket  # noqa: E402, PLC0415 - needs Django's settings and apps, loaded just above

application = socketio.ASGIApp(live_socket.sio, other_asgi_app=django_application, socketio_path="socket.io",
                               on_startup=live_socket.start, on_shutdown=live_socket.stop)
