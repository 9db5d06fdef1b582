"""The events where people already look: an iCalendar feed of TGE dates and an Atom feed of new and changed events.

Both take the filters of ``GET tge-events`` (``api.filters.EventFilter``) and the API's credentials or a secret in
the URL (``api.feed_access``): a feed token, or an alert subscription's feed secret (its selection, narrowed by the
URL's filters, and its reminder).
"""
from __future__ import annotations

from datetime import timedelta

import icalendar
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.settings import api_settings

from api.event_stream import NegotiationFreeView
from api.feed_access import FEED_AUTHENTICATION, TOKEN_PARAM, FeedAccess
from api.filters import EventFilter
from api.models import MAX_ALARM_MINUTES, TGEEvent

CALENDAR_MAX_EVENTS = 1000
CALENDAR_PAST_DAYS = 30  # a launch stays in calendars this long after its date
FEED_DEFAULT_LIMIT = 50
UID_DOMAIN = "tge-news-sweeper"
CANCELLED = (TGEEvent.Review.REJECTED, TGEEvent.Review.MERGED)
NO_FEED_TOKEN = OpenApiResponse(description="No feed at this address: the feed token or subscription feed secret "
                                            "is wrong, revoked or rotated (or its subscription disabled).")
TOKEN_PARAMETER = OpenApiParameter(TOKEN_PARAM, OpenApiTypes.STR, pattern="^tge[fs]_[A-Za-z0-9]{32}$",
                                   description="a feed token (tgef_), or an alert subscription's feed secret (tges_: "
                                               "its selection and reminder), for apps that cannot send headers (else "
                                               "use the API's credentials)")


def _integer_param(params: QueryDict, name: str, *, low: int, high: int, default: int | None) -> int | None:
    values = params.getlist(name)
    if not values:
        return default
    if len(values) > 1 or not values[0].isascii() or not values[0].isdigit() or not low <= int(values[0]) <= high:
        raise exceptions.ValidationError({name: [f"An integer from {low} to {high}, given once."]})
    return int(values[0])


def filtered_events(request, own: tuple[str, ...], *, cancelled_too: bool):
    """The events ``GET tge-events`` would list for these filters (without this view's ``own`` parameters), within
    what the secret URL's subscription selects (``FeedAccess.filters``): the URL may narrow it, never widen it.

    ``cancelled_too``: also rejected and merged events, which a calendar must show as cancelled."""
    params = request.query_params.copy()
    for name in (TOKEN_PARAM, *own):
        params.pop(name, None)
    unknown = [name for name in ("limit", "offset", api_settings.URL_FORMAT_OVERRIDE) if name in params]
    if unknown:
        raise exceptions.ValidationError({name: ["Not a parameter of this feed."] for name in unknown})
    preset = request.auth.filters if isinstance(request.auth, FeedAccess) else {}
    if "include_candidates" in preset and "include_candidates" not in params:
        params["include_candidates"] = preset["include_candidates"]  # unsaid in the URL: the subscription's choice
    events, wants_candidates = TGEEvent.objects.all(), True
    for data in ([_query(preset)] if preset else []) + [params]:
        given = data.getlist("include_candidates")
        wants_candidates = wants_candidates and given == ["true"]
        if cancelled_too and given in ([], ["true"], ["false"]):  # anything else: the filters' 400
            data.setlist("include_candidates", ["true"])
        filterset = EventFilter(data=data, queryset=events, request=request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        events = filterset.qs
    if cancelled_too and not wants_candidates:
        events = events.filter(Q(published=True) | Q(review__in=CANCELLED))
    return events, params


def _query(values: dict[str, str]) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(values)
    return query


def event_url(request, event: TGEEvent) -> str:
    return request.build_absolute_uri(reverse("tge-event-detail", args=[event.pk]))


def describe(event: TGEEvent) -> str:
    lines = [f"Status: {event.status}" + (f" ({event.review})" if event.review != TGEEvent.Review.UNREVIEWED else ""),
             f"Confidence: {event.confidence:.2f} from {event.source_count} source(s), {event.mention_count} mention(s)"]
    if event.chain:
        lines.append(f"Chain: {event.chain}")
    if event.venues:
        lines.append("Venues: " + ", ".join(map(str, event.venues)))
    return "\n".join(lines)


def title(event: TGEEvent) -> str:
    return f"{event.project} ({event.ticker})" if event.ticker else event.project


def calendar_status(event: TGEEvent) -> str:
    if event.review in CANCELLED:
        return "CANCELLED"
    return "CONFIRMED" if event.review == TGEEvent.Review.CONFIRMED else "TENTATIVE"


def changed_at(event: TGEEvent):
    """When the event last changed for a reader: seen again, or reviewed."""
    return max(event.last_seen_at, event.reviewed_at or event.last_seen_at)


class EventsFeedView(NegotiationFreeView):
    """A feed of events: the API's credentials or a feed token; the list's filters (``filtered_events``)."""

    authentication_classes = FEED_AUTHENTICATION
    queryset = TGEEvent.objects.all()
    filter_backends = [DjangoFilterBackend]  # for the schema: the filters are applied by filtered_events
    filterset_class = EventFilter


def render_calendar(request, events, *, alarm_minutes: int | None) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//TGE News Sweeper//TGE dates//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "TGE dates")
    now = timezone.now()
    for event in events:
        entry = icalendar.Event()
        entry.add("uid", f"tge-event-{event.pk}@{UID_DOMAIN}")
        entry.add("dtstamp", now)
        entry.add("dtstart", event.tge_date)
        entry.add("dtend", event.tge_date + timedelta(days=1))
        entry.add("sequence", event.date_sequence)
        entry.add("status", calendar_status(event))
        entry.add("summary", f"TGE: {title(event)}")
        entry.add("description", describe(event))
        entry.add("url", event_url(request, event))
        entry.add("last-modified", changed_at(event))
        entry.add("transp", "TRANSPARENT")
        if alarm_minutes is not None and calendar_status(event) != "CANCELLED":
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"TGE: {title(event)}")
            alarm.add("trigger", timedelta(minutes=-alarm_minutes))
            entry.add_component(alarm)
        calendar.add_component(entry)
    return calendar.to_ical()


class CalendarView(EventsFeedView):

    @extend_schema(
        operation_id="calendar_ics",
        summary="TGE dates as an iCalendar feed (subscribe from a calendar app)",
        description=f"One all-day VEVENT per event with a TGE date from {CALENDAR_PAST_DAYS} days ago on (or from "
                    "`tge_date_from`), ordered by date, at most 1000: UID stable per event, SEQUENCE counting the "
                    "times its date moved, STATUS CANCELLED once rejected or merged (TENTATIVE, or CONFIRMED by a "
                    "reviewer). The filters of `GET tge-events`.",
        filters=True,
        parameters=[TOKEN_PARAMETER,
                    OpenApiParameter("alarm_minutes", {"type": "integer", "minimum": 0, "maximum": MAX_ALARM_MINUTES},
                                     description="add a reminder this many "
                                     f"minutes before the day starts (0 to {MAX_ALARM_MINUTES})")],
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="an iCalendar file"),
                   404: NO_FEED_TOKEN},
    )
    def get(self, request):
        preset = request.auth.alarm_minutes if isinstance(request.auth, FeedAccess) else None
        alarm = _integer_param(request.query_params, "alarm_minutes", low=0, high=MAX_ALARM_MINUTES, default=preset)
        events, params = filtered_events(request, ("alarm_minutes",), cancelled_too=True)
        events = events.filter(tge_date__isnull=False)
        if "tge_date_from" not in params:
            events = events.filter(tge_date__gte=timezone.now().date() - timedelta(days=CALENDAR_PAST_DAYS))
        events = events.order_by("tge_date", "id")[:CALENDAR_MAX_EVENTS]
        response = HttpResponse(render_calendar(request, events, alarm_minutes=alarm),
                                content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="tge-dates.ics"'
        return response


class EventAtomFeed(Feed):
    """Django's syndication framework over the events a request selected (``get_object`` receives them)."""

    feed_type = Atom1Feed
    title = "TGE events"
    subtitle = "Token Generation Events found in crypto news and social sources"
    author_name = "TGE News Sweeper"
    feed_guid = f"tag:{UID_DOMAIN},2026:tge-events"

    def get_object(self, request, events):
        self.requested = request.get_full_path()
        return events

    def feed_url(self):
        """rel=self: the address as asked for, with its filters (and its token: only its holder sees it)."""
        return self.requested

    def link(self):
        return reverse("tge-event-list")

    def items(self, events):
        return events

    def item_title(self, event):
        when = f" on {event.tge_date.isoformat()}" if event.tge_date else ""
        return f"{title(event)}: TGE{when} ({event.status})"

    def item_description(self, event):
        return describe(event)

    def item_link(self, event):
        return reverse("tge-event-detail", args=[event.pk])

    def item_guid(self, event):
        return f"tag:{UID_DOMAIN},2026:tge-event:{event.pk}"

    def item_pubdate(self, event):
        return event.first_seen_at

    def item_updateddate(self, event):
        return changed_at(event)

    def item_categories(self, event):
        return [value for value in (event.status, event.chain) if value]


class EventFeedView(EventsFeedView):

    @extend_schema(
        operation_id="tge_events_feed_atom",
        summary="New and changed events as an Atom feed (subscribe from a feed reader)",
        description="The events `GET tge-events` lists for the same filters and ordering (newest first), at most "
                    "`limit` of them; each entry's id is stable, `updated` moves when the event changes.",
        filters=True,
        parameters=[TOKEN_PARAMETER,
                    OpenApiParameter("limit", {"type": "integer", "minimum": 1,
                                               "maximum": settings.CONFIG["API_MAX_LIMIT"]}, description=f"entries (1 to "
                                     f"{settings.CONFIG['API_MAX_LIMIT']}, default {FEED_DEFAULT_LIMIT})")],
        responses={(200, "application/atom+xml"): OpenApiResponse(OpenApiTypes.STR, description="an Atom feed"),
                   404: NO_FEED_TOKEN},
    )
    def get(self, request):
        limit = _integer_param(request.query_params, "limit", low=1, high=settings.CONFIG["API_MAX_LIMIT"],
                               default=FEED_DEFAULT_LIMIT)
        events, _ = filtered_events(request, ("limit",), cancelled_too=False)
        return EventAtomFeed()(request._request, events=events[:limit])
