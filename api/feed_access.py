"""Who may read the calendar and the Atom feed: the API's credentials, or a revocable secret in the URL.

Calendar apps and feed readers cannot send headers, so a secret in the URL stands for its owner there.
``feed_access`` is the one place that reads it: ``?token=tgef_...`` is a ``FeedToken`` (owned by an API key or a
user; the URL's filters decide), ``?token=tges_...`` an alert subscription's feed secret (its owner, its filters —
``api.filters.subscription_filters`` — and its reminder; the URL's filters narrow further). A subscription's feed
secret is its own, never its webhook signing secret: rotating it revokes the old URLs.
A wrong, revoked or rotated secret, a disabled subscription, or an owner who lost access is a 404: the secret address
does not exist (any more).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api import keys
from api.auth import ApiKeyUser
from api.filters import subscription_filters
from api.models import ApiKey, FeedToken, Subscription
from api.serializers import StrictCharField

TOKEN_PARAM = "token"
PREFIX = "tgef_"
SUBSCRIPTION_PREFIX = "tges_"


@dataclass(frozen=True)
class FeedAccess:
    """The identity a secret URL stands for, the filters it fixes and its calendar reminder (none for a FeedToken:
    the URL's own parameters decide)."""

    user: object
    token: FeedToken | None = None
    filters: dict[str, str] = field(default_factory=dict)
    alarm_minutes: int | None = None
    subscription: Subscription | None = None

    @property
    def throttle_ident(self) -> str:
        """Each secret URL has its own request budget."""
        return f"feed:{self.token.pk}" if self.token is not None else f"subscription-feed:{self.subscription.pk}"


def feed_access(request) -> FeedAccess | None:
    """``None`` when the URL carries no secret (the API's credentials decide); raises NotFound for a wrong one."""
    values = request.query_params.getlist(TOKEN_PARAM)
    if not values:
        return None
    raw, access = values[0], None
    if len(values) == 1 and keys.looks_like_secret(raw, PREFIX):
        access = _token_access(raw)
    elif len(values) == 1 and keys.looks_like_secret(raw, SUBSCRIPTION_PREFIX):
        access = _subscription_access(raw)
    if access is None:
        raise exceptions.NotFound("No feed at this address: the token is wrong or was revoked.")
    return access


def _token_access(raw: str) -> FeedAccess | None:
    token = (FeedToken.objects.select_related("api_key__user", "user")
             .filter(token_hash=keys.hash_key(raw), revoked_at__isnull=True)
             .filter(Q(api_key__isnull=True) | Q(api_key__revoked_at__isnull=True))
             .first())
    if token is None or (token.user is not None and not token.user.is_active):
        return None
    if token.user is not None:
        return FeedAccess(token.user, token)
    owner = token.api_key.user
    return FeedAccess(owner if owner is not None and owner.is_active else ApiKeyUser(token.api_key), token)


def _subscription_access(raw: str) -> FeedAccess | None:
    """An enabled subscription whose owner still has access, as for alerts (``Subscription.objects.active``)."""
    subscription = (Subscription.objects.active().select_related("owner_user", "owner_key")
                    .filter(feed_secret_hash=keys.hash_key(raw)).first())
    if subscription is None:
        return None
    owner = subscription.owner_user if subscription.owner_user_id else ApiKeyUser(subscription.owner_key)
    return FeedAccess(owner, filters=subscription_filters(subscription), alarm_minutes=subscription.alarm_minutes,
                      subscription=subscription)


def new_subscription_feed_secret() -> tuple[str, dict]:
    """A fresh feed secret and the subscription fields that store it (its hash and prefix); the secret is shown once."""
    raw = keys.new_secret(SUBSCRIPTION_PREFIX)
    return raw, {"feed_secret_hash": keys.hash_key(raw), "feed_secret_prefix": raw[:9]}


def rotate_feed_secret(subscription: Subscription) -> str:
    """Replace the subscription's feed secret: the old calendar and feed URLs are 404 from now on."""
    raw, fields = new_subscription_feed_secret()
    Subscription.objects.filter(pk=subscription.pk).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(subscription, name, value)
    return raw


def feed_urls(request, raw: str) -> dict[str, str]:
    """The calendar and Atom addresses that carry ``raw``."""
    return {field_name: request.build_absolute_uri(reverse(view) + f"?{TOKEN_PARAM}={raw}")
            for field_name, view in (("calendar_url", "calendar"), ("feed_url", "event-feed"))}


class FeedTokenAuthentication(authentication.BaseAuthentication):
    """``?token=`` on the calendar and the feed; without one, the next authentication classes decide."""

    def authenticate(self, request):
        if request.method not in ("GET", "HEAD"):
            return None  # the feeds are read; any other method is answered as the view answers it (405)
        access = feed_access(request)
        return None if access is None else (access.user, access)

    def authenticate_header(self, request) -> str:
        return "Api-Key"  # without a token, the API's credentials are wanted: a 401 that says so


FEED_AUTHENTICATION = [FeedTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]


class FeedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.feed_access.FeedTokenAuthentication"
    name = "FeedToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": TOKEN_PARAM,
                "description": "A feed token (`tgef_` + 32 characters) from `POST /api/v1/feed-tokens`, or an alert "
                               "subscription's feed secret (`tges_` + 32 characters): for calendar apps and feed "
                               "readers, which cannot send headers. Wrong, revoked or rotated: 404."}


def create_feed_token(name: str, *, user=None, api_key: ApiKey | None = None) -> tuple[FeedToken, str]:
    """A token of ``user``, or of ``api_key`` when there is no user; returns it with its secret, shown once."""
    raw = keys.new_secret(PREFIX)
    token = FeedToken.objects.create(name=name, user=user, api_key=None if user is not None else api_key,
                                     prefix=raw[:9], token_hash=keys.hash_key(raw))
    return token, raw


def owner_of(request) -> dict:
    """Who owns what the caller creates: its user, or its API key when the key acts for no user."""
    if getattr(request.user, "pk", None):
        return {"user": request.user}
    return {"api_key": request.auth}


def visible_to(request):
    """The caller's own tokens; staff see and revoke everyone's."""
    if request.user.is_staff:
        return FeedToken.objects.all()
    return FeedToken.objects.filter(**owner_of(request))


class FeedTokenSerializer(serializers.ModelSerializer):
    name = StrictCharField(max_length=120, required=False, allow_blank=True, help_text="what the token is for")
    token = serializers.SerializerMethodField(help_text="The secret: shown in the answer to the POST only.")
    calendar_url = serializers.SerializerMethodField()
    feed_url = serializers.SerializerMethodField()

    class Meta:
        model = FeedToken
        fields = ["id", "name", "prefix", "created_at", "revoked_at", "token", "calendar_url", "feed_url"]
        read_only_fields = ["id", "prefix", "created_at", "revoked_at"]

    def get_token(self, obj) -> str | None:
        return self.context.get("raw")

    def _url(self, name: str) -> str | None:
        raw = self.context.get("raw")
        return None if raw is None else feed_urls(self.context["request"], raw)[name]

    def get_calendar_url(self, obj) -> str | None:
        return self._url("calendar_url")

    def get_feed_url(self, obj) -> str | None:
        return self._url("feed_url")


class HasIdentity(permissions.BasePermission):
    """A token needs an owner: an API key or a user, whatever API_PUBLIC_READ says."""

    message = "Feed tokens belong to an API key or a user: authenticate with one."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class FeedTokenViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                       viewsets.GenericViewSet):
    """Your feed tokens: create one (its secret is shown once), list them, revoke one (DELETE). Others' are 404
    (staff manage everyone's)."""

    serializer_class = FeedTokenSerializer
    permission_classes = [HasIdentity]
    lookup_value_regex = "[0-9]+"
    filterset_class = None

    def get_queryset(self):
        return visible_to(self.request)

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, raw = create_feed_token(body.validated_data.get("name", ""), **owner_of(request))
        answer = FeedTokenSerializer(token, context={**self.get_serializer_context(), "raw": raw})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        if instance.revoked_at is None:
            FeedToken.objects.filter(pk=instance.pk).update(revoked_at=timezone.now())
