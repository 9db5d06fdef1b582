"""Checks on Source rows made when people save them (admin, API); fetch time checks again in ``tgesweeper.net``."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from tgesweeper import net
from tgesweeper.sources import html, json_api


def validate_source(source) -> None:
    """The URL where the kind reads one (an x source reads the X API instead), then the kind's options."""
    if source.kind != "x":
        validate_source_url(source)
    validate_source_options(source)


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


def validate_source_options(source) -> None:
    """``settings`` must be a JSON object with the options the kind needs; each message names the option."""
    options = source.settings if source.settings is not None else {}
    if not isinstance(options, dict):
        raise ValidationError({"settings": "Settings must be a JSON object."})
    if source.kind == "x":
        from tgesweeper.sources.x_api import option_errors

        problems = option_errors(options, source.query or "")
        if problems and problems[0].startswith("the query"):
            raise ValidationError({"query": problems})
    elif source.kind == "browser":
        from tgesweeper.sources.browser import option_errors

        problems = option_errors(options)
    elif source.kind in ("html", "json"):
        problems = (html if source.kind == "html" else json_api).validate_options(options)
    else:
        problems = [f"unknown rss option {name!r} (an rss source takes none)" for name in sorted(options)]
    if problems:
        raise ValidationError({"settings": problems})
