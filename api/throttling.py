"""One request budget per identity: the API key, the feed token or subscription feed secret, else the user, else the
client address (API_THROTTLE_RATE)."""
from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class IdentityRateThrottle(SimpleRateThrottle):
    scope = "identity"

    def get_cache_key(self, request, view) -> str:
        key = getattr(request, "auth", None)
        if key is not None and hasattr(key, "key_hash"):
            ident = f"key:{key.pk}"
        elif getattr(key, "throttle_ident", None):  # api.feed_access.FeedAccess (its module imports DRF's settings)
            ident = key.throttle_ident
        elif request.user and request.user.is_authenticated and getattr(request.user, "pk", None):
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
