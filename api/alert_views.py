"""``/api/v1/subscriptions`` and ``/api/v1/deliveries``: each caller sees and changes only what it owns (staff: all).

The owner is the calling user, or the API key when the key has no user. Someone else's subscription is a 404, as if
it did not exist.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api import alerts
from api.alert_serializers import (
    CreatedSubscriptionSerializer,
    DeliverySerializer,
    ResendSerializer,
    RotatedFeedSecretSerializer,
    SubscriptionSerializer,
    TestAlertSerializer,
)
from api.auth import ApiKeyUser
from api.feed_access import rotate_feed_secret
from api.filters import DeliveryFilter
from api.models import Delivery, Subscription
from workers import enqueue


def owner_of(user) -> dict:
    return {"owner_key": user.api_key} if isinstance(user, ApiKeyUser) else {"owner_user": user}


def owned(queryset, user, prefix: str = ""):
    """What ``user`` may see of ``queryset``: staff everything, others what they own (nothing while the OpenAPI
    schema is generated, by a view with no user behind it)."""
    if not user.is_authenticated:
        return queryset.none()
    if user.is_staff:
        return queryset
    if not user.is_authenticated:  # only the schema generator's fake request gets this far
        return queryset.none()
    return queryset.filter(**{f"{prefix}{field}": value for field, value in owner_of(user).items()})


@extend_schema_view(
    list=extend_schema(summary="Your alert subscriptions (staff: everyone's)"),
    create=extend_schema(summary="Subscribe: filters and channels; the answer shows the webhook secret and the "
                                 "calendar and feed URLs, once",
                         responses={201: CreatedSubscriptionSerializer}),
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    serializer_class = SubscriptionSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return owned(Subscription.objects.select_related("owner_user", "owner_key").prefetch_related("channels"),
                     self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = serializer.save(**owner_of(request.user))
        answer = CreatedSubscriptionSerializer(subscription, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Give the subscription a new feed secret: the answer shows the new calendar and feed URLs, "
                           "once; the old ones are 404 from now on", request=None,
                   responses={200: RotatedFeedSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-feed-secret")
    def rotate_feed_secret(self, request, pk=None):
        subscription = self.get_object()
        subscription.raw_feed_secret = rotate_feed_secret(subscription)
        return Response(RotatedFeedSecretSerializer(subscription, context=self.get_serializer_context()).data)

    @extend_schema(summary="Send a test alert to each channel now; one that gets through is un-paused", request=None,
                   responses={200: TestAlertSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        return Response({"channels": alerts.send_test(self.get_object())})

    @extend_schema(summary="Un-pause every channel of this subscription", request=None,
                   responses={200: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        subscription = self.get_object()
        alerts.resume(subscription.channels.values_list("pk", flat=True))
        return Response(SubscriptionSerializer(self.get_object()).data)


@extend_schema_view(
    list=extend_schema(summary="Alert deliveries of your subscriptions, newest first"),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"
    filterset_class = DeliveryFilter

    def get_queryset(self):
        queryset = Delivery.objects.select_related("channel", "change").prefetch_related("merged")
        return owned(queryset.order_by("-created_at", "-id"), self.request.user, "subscription__")

    @extend_schema(summary="Send a failed delivery again (attempts start over)", request=None,
                   responses={202: ResendSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        ids = alerts.resend(Delivery.objects.filter(pk=self.get_object().pk))
        enqueue.send_deliveries(ids)
        return Response({"queued": len(ids)}, status=status.HTTP_202_ACCEPTED)
