"""Login lockout for the admin and the token endpoint: too many failed passwords for one username, or from one
client address, and logins are refused for a while.

The address is the socket's (REMOTE_ADDR), never ``X-Forwarded-For``: a client cannot dodge the lockout by
sending a different header. Behind a proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn's --forwarded-allow-ips).
"""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from tgesweeper.counters import increment


def _keys(username: str | None, request) -> list[str]:
    user = hashlib.sha256((username or "").strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    keys = [f"login-fail:user:{user}"]  # hashed: any text is a valid cache key
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    if address:
        keys.append(f"login-fail:addr:{address}")
    return keys


def is_locked(username: str | None, request) -> bool:
    limit = settings.CONFIG["LOGIN_MAX_FAILURES"]
    return any(int(cache.get(key) or 0) >= limit for key in _keys(username, request))


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    window = settings.CONFIG["LOGIN_LOCKOUT_SECONDS"]
    for key in _keys(credentials.get("username"), request):
        increment(key, timeout=window)


class LockoutModelBackend(ModelBackend):
    """Django's password check, refused outright while the username or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_locked(username or kwargs.get(self._username_field()), request):
            raise PermissionDenied("too many failed logins; try again later")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        return get_user_model().USERNAME_FIELD
