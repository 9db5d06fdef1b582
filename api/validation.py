"""Checks on Source rows made when people save them (admin, API); fetch time checks again in ``tgesweeper.net``."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from tgesweeper import net
from tgesweeper.sources import html, json_api

# kind -> validate_options(settings) -> list of problems, each naming the option
OPTION_VALIDATORS = {
    "html": html.validate_options,
    "json": json_api.validate_options,
}


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
    """Refuse settings that lack or garble the options the source's kind needs (each message names the option)."""
    validator = OPTION_VALIDATORS.get(source.kind)
    problems = validator(source.settings if source.settings is not None else {}) if validator else []
    if problems:
        raise ValidationError({"settings": problems})
