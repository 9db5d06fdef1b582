"""Reads need an identity (unless API_PUBLIC_READ); writes and review actions need staff."""
from __future__ import annotations

from django.conf import settings
from rest_framework import permissions


class ReadWithIdentityWriteWithStaff(permissions.BasePermission):
    message = "Reading needs an API key or a token; changing needs a staff account."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in permissions.SAFE_METHODS or getattr(view, "action", None) in getattr(
                view, "read_only_actions", ()):
            return settings.CONFIG["API_PUBLIC_READ"] or bool(user and user.is_authenticated)
        return bool(user and user.is_authenticated and user.is_staff)
