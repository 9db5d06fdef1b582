"""API keys: ``tge_`` + 32 random characters. Only the SHA-256 is stored; the key itself is shown once.

A plain hash is enough here (unlike passwords): 32 characters from a 62-letter alphabet cannot be guessed,
and a fast hash keeps the per-request lookup to one indexed query.
"""
from __future__ import annotations

import hashlib
import secrets
import string

from django.utils import timezone

from api.models import ApiKey

PREFIX = "tge_"
_ALPHABET = string.ascii_letters + string.digits
_KEY_LENGTH = 32


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_KEY_LENGTH))


def looks_like_secret(raw: str, prefix: str) -> bool:
    return len(raw) == len(prefix) + _KEY_LENGTH and raw.startswith(prefix) and all(
        c in _ALPHABET for c in raw[len(prefix):])


def create_key(name: str, user=None) -> tuple[ApiKey, str]:
    """Store a new key and return it with the raw value — the only time the raw value exists."""
    raw = new_secret(PREFIX)
    key = ApiKey.objects.create(name=name, user=user, prefix=raw[:8], key_hash=hash_key(raw))
    return key, raw


def looks_like_key(raw: str) -> bool:
    return looks_like_secret(raw, PREFIX)


def find_active(raw: str) -> ApiKey | None:
    if not looks_like_key(raw):
        return None
    return ApiKey.objects.select_related("user").filter(key_hash=hash_key(raw), revoked_at__isnull=True).first()


def touch(key: ApiKey, *, every_seconds: int = 60) -> None:
    """Record use, at most once a minute per key: a hot key must not turn every read into a write."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= every_seconds:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
