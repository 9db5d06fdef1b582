"""The dashboard (``dashboard/``, built by ``make dashboard``) served at ``/app/``, and its login.

Its files are served by WhiteNoise (``DashboardWhiteNoiseMiddleware``); every other path under ``/app/`` is a client
route and gets ``index.html`` (the SPA fallback) with a Content-Security-Policy and the CSRF cookie.

Login: ``/app/auth/login`` checks the password (with the admin's lockout) and answers with an access JWT, which the
page keeps in memory only; the refresh JWT goes into an HttpOnly, SameSite=Strict cookie scoped to ``/app/auth/``,
which no script can read. ``/app/auth/refresh`` rotates it (the old one is blacklisted) and returns a new access
token; ``/app/auth/logout`` blacklists it and clears the cookie. All three are POSTs under Django's CSRF check.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from whitenoise.middleware import WhiteNoiseMiddleware

REFRESH_COOKIE = "tge_refresh"
COOKIE_PATH = "/app/auth/"
MAX_BODY = 4096

# Scripts, styles and fonts from this origin only (the build inlines nothing); the live channel is this origin's
# /socket.io/ (websockets included: CSP 3's 'self' matches ws: and wss: on the same host).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def dist_dir():
    return settings.DASHBOARD_DIST


def add_dashboard_headers(headers, path: str, url: str) -> None:
    """Headers of the files WhiteNoise serves under /app/: the same policy as the pages."""
    if url.startswith("/app/"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"


class DashboardWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise for static files, plus the dashboard's built files at /app/ (hashed assets cached forever)."""

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        self.add_headers_function = add_dashboard_headers
        if dist_dir().is_dir():
            self.add_files(str(dist_dir()), prefix="app/")

    def immutable_file_test(self, path, url):
        return url.startswith("/app/assets/") or super().immutable_file_test(path, url)


@never_cache
@ensure_csrf_cookie
def index(request, route: str = ""):
    """index.html for every client route of the dashboard (the SPA fallback)."""
    page = dist_dir() / "index.html"
    if not page.is_file():
        response = HttpResponse(
            "The dashboard is not built yet: run `make dashboard` (or `make run`, which builds it).",
            status=503, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(page.read_bytes(), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Referrer-Policy"] = "same-origin"
    return response


def _session(response_status: int, refresh: str, access: str, user) -> JsonResponse:
    expires = datetime.fromtimestamp(AccessToken(access)["exp"], tz=UTC)
    response = JsonResponse({"access": access, "access_expires_at": expires.isoformat(),
                             "user": {"username": user.get_username(), "is_staff": user.is_staff}},
                            status=response_status)
    response.set_cookie(REFRESH_COOKIE, refresh, max_age=int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
                        path=COOKIE_PATH, httponly=True, samesite="Strict", secure=settings.CONFIG.production)
    response["Cache-Control"] = "no-store"
    return response


def _refused(message: str, status: int = 401) -> JsonResponse:
    response = JsonResponse({"error": message, "detail": {}}, status=status)
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, samesite="Strict")
    return response


@require_POST
def login(request):
    if len(request.body) > MAX_BODY:
        return _refused("Request too large.", 400)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _refused("Expected a JSON body with username and password.", 400)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("username", "password")):
        return _refused("Expected a JSON body with username and password.", 400)
    serializer = TokenObtainPairSerializer(data={"username": body["username"], "password": body["password"]},
                                           context={"request": request})
    try:
        serializer.is_valid(raise_exception=True)
    except Exception:
        return _refused("Wrong username or password, or too many failed attempts.")
    return _session(200, serializer.validated_data["refresh"], serializer.validated_data["access"], serializer.user)


@require_POST
def refresh(request):
    token = request.COOKIES.get(REFRESH_COOKIE)
    if not token:
        return _refused("Not logged in.")
    serializer = TokenRefreshSerializer(data={"refresh": token})
    try:
        serializer.is_valid(raise_exception=True)
    except Exception:
        return _refused("The session has ended; log in again.")
    new_refresh = serializer.validated_data.get("refresh", token)
    user_id = RefreshToken(new_refresh)[settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id")]
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return _refused("The account is disabled.")
    return _session(200, new_refresh, serializer.validated_data["access"], user)


@require_POST
def logout(request):
    token = request.COOKIES.get(REFRESH_COOKIE)
    if token:
        try:
            RefreshToken(token).blacklist()
        except TokenError:
            pass  # already expired or blacklisted: the cookie goes anyway
    response = JsonResponse({}, status=200)
    response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH, samesite="Strict")
    return response
