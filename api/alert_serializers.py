"""What the alerts API shows and accepts: subscriptions with their channels, and deliveries."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import channels
from api.errors import validation_detail
from api.models import Channel, Delivery, EventChange, Subscription, TGEEvent
from api.serializers import StrictBooleanField, StrictCharField, StrictFloatField, StrictModelSerializer

MAX_CHANNELS = 10


def _names(max_length: int) -> serializers.ListField:
    return serializers.ListField(child=StrictCharField(max_length=max_length), required=False, max_length=100,
                                 help_text="Any of these (case ignored); empty = any.")


@extend_schema_field({"type": "string", "format": "channel-url", "maxLength": 2000})
class ChannelURLField(StrictCharField):
    """Its schema names the format ``channel-url``: which URLs are valid is Apprise's knowledge (or http(s) for a
    webhook), beyond what a pattern can say."""


class ChannelSerializer(StrictModelSerializer):
    kind = serializers.ChoiceField(Channel.Kind.choices)
    url = ChannelURLField(max_length=2000, help_text="webhook: an http(s) URL; apprise: an Apprise URL (tgram://, "
                                                     "discord://, mailto://, ntfy://, json://...). Public hosts only.")

    class Meta:
        model = Channel
        fields = ("id", "kind", "url", "paused", "paused_reason", "consecutive_failures")
        read_only_fields = ("id", "paused", "paused_reason", "consecutive_failures")

    def validate(self, attrs):
        try:
            Channel(**attrs).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(validation_detail(exc)) from None
        return attrs


class SubscriptionSerializer(StrictModelSerializer):
    """Empty filter lists filter nothing. ``channels`` given in an update replace the channels (a channel kept with
    the same kind and URL keeps its state)."""

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
    channels = ChannelSerializer(many=True, min_length=1, max_length=MAX_CHANNELS)
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = ("id", "name", "enabled", "change_kinds", "min_confidence", "include_candidates", "statuses",
                  "projects", "tickers", "chains", "sources", "channels", "owner", "created_at", "updated_at")
        read_only_fields = ("id", "owner", "created_at", "updated_at")
        extra_kwargs = {"name": {"max_length": 120}}

    def get_owner(self, subscription: Subscription) -> str:
        if subscription.owner_user_id:
            return f"user:{subscription.owner_user.username}"
        return f"api-key:{subscription.owner_key.prefix}"

    def create(self, validated_data):
        wanted = validated_data.pop("channels")
        with transaction.atomic():
            subscription = Subscription.objects.create(**validated_data, secret=channels.new_secret())
            Channel.objects.bulk_create(Channel(subscription=subscription, **c) for c in wanted)
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


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    """The answer to a create: the one time the webhook signing secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="Verify webhook signatures with it; shown only now.")

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret")


class DeliverySerializer(serializers.ModelSerializer):
    channel_kind = serializers.CharField(source="channel.kind", read_only=True)
    change_kind = serializers.CharField(source="change.kind", read_only=True)
    merged_changes = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(source="change.published_at", read_only=True)
    persisted_at = serializers.DateTimeField(source="change.created_at", read_only=True)

    class Meta:
        model = Delivery
        fields = ("id", "subscription", "channel", "channel_kind", "event", "change", "change_kind", "merged_into",
                  "merged_changes", "state", "attempts", "last_error", "status_code", "published_at", "persisted_at",
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
