"""Who is calling: an API key (``Authorization: Api-Key tge_...`` or ``X-API-Key``), a JWT, or an admin session."""
from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api import keys


class ApiKeyUser(AnonymousUser):
    """The identity of a key without a user: authenticated for reads, never staff."""

    def __init__(self, key):
        super().__init__()
        self.api_key = key

    @property
    def is_authenticated(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY", "").strip()
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not raw and header.lower().startswith(self.keyword.lower() + " "):
            raw = header[len(self.keyword) + 1:].strip()
        if not raw:
            return None
        key = keys.find_active(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        keys.touch(key)
        user = key.user if key.user is not None and key.user.is_active else ApiKeyUser(key)
        return user, key

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "`tge_` + 32 characters; also accepted as `Authorization: Api-Key tge_...`."}
