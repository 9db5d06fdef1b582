"""What the alerts API shows and accepts: subscriptions with their channels, and deliveries."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from rest_framework import serializers

from api import channels
from api.errors import validation_detail
from api.feed_access import feed_urls, new_subscription_feed_secret
from api.models import MAX_ALARM_MINUTES, Channel, Delivery, EventChange, Subscription, TGEEvent
from api.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictModelSerializer,
)

MAX_CHANNELS = 10


def _names(max_length: int) -> serializers.ListField:
    return serializers.ListField(child=StrictCharField(max_length=max_length), required=False, max_length=100,
                                 help_text="Any of these (case ignored); empty = any.")


class ChannelSerializer(StrictModelSerializer):
    kind = serializers.ChoiceField(Channel.Kind.choices)
    url = StrictCharField(max_length=2000, help_text="webhook: an http(s) URL; apprise: an Apprise URL (tgram://, "
                                                     "discord://, mailto://, ntfy://, json://...). Public hosts only.")

    class Meta:
        model = Channel
        fields = ("id", "kind", "url", "paused", "paused_reason", "consecutive_failures")
        read_only_fields = ("id", "paused", "paused_reason", "consecutive_failures")

    def validate(self, attrs):
        if attrs["kind"] == Channel.Kind.WEBHOOK:
            try:
                URLValidator(schemes=channels.WEBHOOK_SCHEMES)(attrs["url"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"url": exc.messages}) from None
        try:
            Channel(**attrs).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from None
        return attrs


class ChannelListField(serializers.ListField):
    """One to MAX_CHANNELS channels (a ListField, so the schema states the bounds); reads a subscription's channels."""

    def __init__(self, **kwargs):
        super().__init__(child=ChannelSerializer(), min_length=1, max_length=MAX_CHANNELS, **kwargs)

    def to_representation(self, data):
        return super().to_representation(data.all() if hasattr(data, "all") else data)


class SubscriptionSerializer(StrictModelSerializer):
    """Empty filter lists filter nothing. ``channels`` given in an update replace the channels (a channel kept with
    the same kind and URL keeps its state)."""

    name = StrictCharField(max_length=120)
    enabled = StrictBooleanField(required=False)
    include_candidates = StrictBooleanField(required=False)
    min_confidence = StrictFloatField(required=False, min_value=0, max_value=1)
    change_kinds = serializers.ListField(child=serializers.ChoiceField(EventChange.Kind.choices), required=False,
                                         help_text="Changes that alert; default: all but `updated`.")
    statuses = serializers.ListField(child=serializers.ChoiceField(TGEEvent.Status.choices), required=False)
    projects = _names(200)
    tickers = _names(20)
    chains = _names(60)
    sources = _names(120)
    channels = ChannelListField()
    alarm_minutes = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_ALARM_MINUTES,
                                       help_text="Calendar reminder (VALARM) this many minutes before the day starts; "
                                                 "null: none.")
    feed_secret_prefix = serializers.CharField(read_only=True, help_text="The start of the current feed secret "
                                               "(empty until one is made by rotate-feed-secret).")
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = ("id", "name", "enabled", "change_kinds", "min_confidence", "include_candidates", "statuses",
                  "projects", "tickers", "chains", "sources", "channels", "alarm_minutes", "feed_secret_prefix",
                  "owner", "created_at", "updated_at")
        read_only_fields = ("id", "owner", "feed_secret_prefix", "created_at", "updated_at")

    def get_owner(self, subscription: Subscription) -> str:
        if subscription.owner_user_id:
            return f"user:{subscription.owner_user.username}"
        return f"api-key:{subscription.owner_key.prefix}"

    def create(self, validated_data):
        wanted = validated_data.pop("channels")
        raw, feed_secret = new_subscription_feed_secret()
        with transaction.atomic():
            subscription = Subscription.objects.create(**validated_data, **feed_secret, secret=channels.new_secret())
            Channel.objects.bulk_create(Channel(subscription=subscription, **c) for c in wanted)
        subscription.raw_feed_secret = raw  # for the answer to this create only
        return subscription

    def update(self, instance, validated_data):
        wanted = validated_data.pop("channels", None)
        with transaction.atomic():
            subscription = super().update(instance, validated_data)
            if wanted is not None:
                keep = {(c["kind"], c["url"]) for c in wanted}
                current = {(c.kind, c.url): c for c in subscription.channels.all()}
                Channel.objects.filter(pk__in=[c.pk for k, c in current.items() if k not in keep]).delete()
                Channel.objects.bulk_create(Channel(subscription=subscription, **c) for c in wanted
                                            if (c["kind"], c["url"]) not in current)
        return subscription


class FeedSecretSerializer(serializers.Serializer):
    """A new feed secret and the calendar and Atom URLs that carry it: shown once (when made or rotated)."""

    feed_secret = serializers.CharField(read_only=True, source="raw_feed_secret",
                                        help_text="`tges_` + 32 characters; shown only now.")
    calendar_url = serializers.SerializerMethodField(help_text="Subscribe a calendar app to it.")
    feed_url = serializers.SerializerMethodField(help_text="Subscribe a feed reader to it.")

    def get_calendar_url(self, subscription) -> str:
        return feed_urls(self.context["request"], subscription.raw_feed_secret)["calendar_url"]

    def get_feed_url(self, subscription) -> str:
        return feed_urls(self.context["request"], subscription.raw_feed_secret)["feed_url"]


class CreatedSubscriptionSerializer(SubscriptionSerializer, FeedSecretSerializer):
    """The answer to a create: the one time the webhook signing secret and the feed URLs are shown."""

    secret = serializers.CharField(read_only=True, help_text="Verify webhook signatures with it; shown only now.")

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret", "feed_secret", "calendar_url", "feed_url")


class RotatedFeedSecretSerializer(FeedSecretSerializer):
    feed_secret_prefix = serializers.CharField(read_only=True)


class DeliverySerializer(serializers.ModelSerializer):
    channel_kind = serializers.CharField(source="channel.kind", read_only=True)
    change_kind = serializers.CharField(source="change.kind", read_only=True)
    merged_changes = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(source="change.published_at", read_only=True)
    fetched_at = serializers.DateTimeField(source="change.fetched_at", read_only=True)
    matched_at = serializers.DateTimeField(source="change.matched_at", read_only=True)
    persisted_at = serializers.DateTimeField(source="change.created_at", read_only=True)

    class Meta:
        model = Delivery
        fields = ("id", "subscription", "channel", "channel_kind", "event", "change", "change_kind", "merged_into",
                  "merged_changes", "state", "attempts", "last_error", "status_code", "published_at", "fetched_at",
                  "matched_at", "persisted_at",
                  "created_at", "send_after", "attempted_at", "delivered_at")
        read_only_fields = fields

    def get_merged_changes(self, delivery: Delivery) -> list[int]:
        return [d.change_id for d in delivery.merged.all()]


class TestResultSerializer(serializers.Serializer):
    channel = serializers.IntegerField()
    ok = serializers.BooleanField()
    error = serializers.CharField()
    status = serializers.IntegerField(allow_null=True)


class TestAlertSerializer(serializers.Serializer):
    channels = TestResultSerializer(many=True)


class ResendSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
