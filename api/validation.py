"""Checks on Source rows made when people save them (admin, API); fetch time checks again in ``tgesweeper.net``.

What a kind accepts is the kind's own knowledge (``SourceKind.check_options``); this module only turns its answer
into the model's ValidationError.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from api import channels
from tgesweeper import net
from tgesweeper.sources import InvalidOptions, SourceKind, kind_for


def validate_source(source) -> None:
    """The URL where the kind reads one, then the kind's options. An unknown kind is the ``kind`` field's own error."""
    try:
        kind = kind_for(source.kind)
    except ValueError:
        return
    if kind.reads_url:
        validate_source_url(source)
    validate_source_options(source, kind)
    if kind.stream_url is not None:
        validate_stream_url(kind.stream_url(source.options or {}))


def validate_source_url(source) -> None:
    """Refuse non-http(s) and private-network URLs unless SCRAPING_ALLOW_PRIVATE_NETWORKS is set.

    A host that does not resolve right now is accepted: the same guard runs again at every fetch,
    and a temporary DNS failure should not stop an operator from adding a feed.
    """
    if not source.url:
        raise ValidationError({"url": f"A {source.get_kind_display()} source needs a URL."})
    try:
        net.check_url(source.url, allow_private=settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"])
    except net.ConnectionFailed:
        return
    except net.FetchError as exc:
        raise ValidationError({"url": exc.reason}) from None


def validate_stream_url(url: str) -> None:
    """A push kind's stream: ws or wss, and the host rule of Source URLs."""
    try:
        net.check_stream_url(url, allow_private=settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"])
    except net.ConnectionFailed:
        return
    except net.FetchError as exc:
        raise ValidationError({"options": f"stream: {exc.reason}"}) from None


def validate_source_options(source, kind: SourceKind) -> None:
    """``options`` must be a JSON object with the options the kind needs; each message names the option.

    The kind names each problem by the Source field it belongs to (``options`` or ``query``)."""
    try:
        kind.check_options(source.options if source.options is not None else {}, source.query or "")
    except InvalidOptions as exc:
        raise ValidationError(exc.problems) from None


def validate_channel(channel) -> None:
    """A channel's URL must suit its kind and reach a public host (the rule and setting of Source URLs); the same
    check runs again at every send (``api.channels``)."""
    try:
        channels.check_target(channel.kind, channel.url or "")
    except channels.InvalidChannel as exc:
        raise ValidationError({"url": str(exc)}) from None
