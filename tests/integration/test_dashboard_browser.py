"""The dashboard in a real browser (Playwright driving the system Chromium) against the served site (uvicorn) on
PostgreSQL + Redis with a real Celery worker: login, filters and paging in the URL, review, the live page fed by a
sweep, a restart of the server, a reader without review powers, and axe-core on every page.

Screenshots of every page go to ``var/screenshots/dashboard/`` (printed by the test); look at them after a change.
"""
from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections

from api.models import Document, EventChange, Mention, Source, TGEEvent
from tests.conftest import needs_postgres, needs_redis
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.local_process import ROOT
from workers import sweeps

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "dashboard" / "dist" / "index.html"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct horse battery"


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"needs the system Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)"
    if not DIST.exists() or not AXE.exists():
        return "needs the built dashboard and its node_modules (make dashboard; make test builds it)"
    return None


if _missing() and CI:
    raise RuntimeError(f"CI=true: {_missing()}")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_postgres, needs_redis,
              pytest.mark.skipif(_missing() is not None, reason=_missing() or ""), pytest.mark.timeout(600)]

SCREENSHOTS = Path(settings.CONFIG.var_dir) / "screenshots" / "dashboard"
LONG_NAME = "The Extraordinarily Long-Named Decentralised Autonomous Interplanetary Liquidity Protocol Foundation"


@pytest.fixture(autouse=True)
def _playwright_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
        # The test's queries ran beside Playwright's event loop, where Django keeps connections apart from the
        # ones pytest-django closes: close them here, or the test database cannot be dropped at the end.
        connections.close_all()


class Watched:
    """A page with what went wrong in it recorded: uncaught errors and Content-Security-Policy refusals."""

    def __init__(self, browser, base_url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text)
                     if "Content Security Policy" in msg.text else None)

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    def accessible(self, name: str) -> None:
        """axe-core on the page as it is: no serious or critical violation."""
        self.page.evaluate(AXE.read_text())
        found = self.page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`)""")
        assert found == [], f"{name}: {found}"

    def visit(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        self.shoot(name)
        self.accessible(name)


def eventually(page, check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the page did not get there in time"
        page.wait_for_timeout(100)


def login(watched: Watched, username: str) -> None:
    page = watched.page
    page.goto(watched.base_url + "/app/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Live").wait_for()


def seed(feed_url: str) -> dict:
    """Sources, 60 published events over this month (one with a very long name, one postponed with its old
    date in an earlier mention) and one document per event."""
    wire = Source.objects.create(name="Local wire", url=feed_url, enabled=True)
    broken = Source.objects.create(name="An exchange notice board whose name goes on and on and on", enabled=True,
                                   url="https://notices.example.com/feed", failure_count=7, circuit_state="open",
                                   last_error="HTTP 503 from notices.example.com (seven failures in a row)",
                                   last_failure_at=datetime.now(timezone.utc) - timedelta(minutes=3))
    today = date.today()
    statuses = ["announced", "scheduled", "live", "scheduled"]
    events = []
    for i in range(60):
        project = LONG_NAME if i == 7 else f"Testcoin {i:02d}"
        events.append(TGEEvent.objects.create(
            key=f"testcoin-{i:02d}", project=project, ticker=f"TC{i:02d}", status=statuses[i % 4],
            confidence=0.6 + (i % 40) / 100, is_candidate=False, published=True, chain="Ethereum",
            tge_date=today.replace(day=1) + timedelta(days=i % 27), venues=["Binance"] if i % 2 else [],
            first_seen_at=datetime.now(timezone.utc) - timedelta(hours=i)))
    moved = TGEEvent.objects.create(key="postponia", project="Postponia", ticker="PSP", status="postponed",
                                    confidence=0.9, is_candidate=False, published=True, chain="Solana",
                                    tge_date=today.replace(day=25), mention_count=2, source_count=1)
    old_date = today.replace(day=5)
    for n, (when, tge) in enumerate(((timedelta(days=2), old_date), (timedelta(hours=1), moved.tge_date))):
        published = datetime.now(timezone.utc) - when
        document = Document.objects.create(
            source=wire, external_id=f"psp-{n}", url=f"https://wire.example.com/psp-{n}", content_hash=f"psp{n}",
            title=f"Postponia TGE {'set' if n == 0 else 'postponed'}", published_at=published, matched=True)
        Mention.objects.create(event=moved, document=document, source=wire, kind="scheduled" if n == 0 else "postponed",
                               confidence=0.9, tge_date=tge, chain="Solana", snippet=f"Postponia moves its TGE ({n})",
                               created_at=published)
    EventChange.objects.create(event=moved, kind=EventChange.Kind.DATE_CHANGED,  # as the persist that moved it records
                               old={"tge_date": old_date.isoformat()}, new={"tge_date": moved.tge_date.isoformat()})
    return {"wire": wire, "broken": broken, "events": events, "moved": moved, "old_date": old_date}


def feed(*items: tuple[str, str, str]) -> bytes:
    now = datetime.now(timezone.utc)
    return render_rss("Local wire", [{"guid": guid, "title": title, "description": text, "pub_date": now,
                                      "link": f"https://wire.example.com/{guid}"} for guid, title, text in items])


LAUNCH_1 = ("zeph-1", "Zephyrine Labs to launch ZPH token on December 14, 2026",
            "Zephyrine Labs said the token generation event for its ZPH token will take place on December 14, 2026.")
LAUNCH_2 = ("corv-1", "Corvalis Network to launch CRVL token on December 18, 2026",
            "Corvalis Network said the token generation event for its CRVL token will take place on December 18, 2026.")


def appears_after_persist(page, ticker: str, text: str, timeout: float = 60.0) -> float:
    """Seconds between the event's row existing in the database and its row showing on the page."""
    deadline = time.monotonic() + timeout
    persisted = None
    while time.monotonic() < deadline:
        if persisted is None and TGEEvent.objects.filter(ticker=ticker).exists():
            persisted = time.monotonic()
        if page.get_by_role("list", name="Live events").get_by_text(text).count():
            assert persisted is not None or TGEEvent.objects.filter(ticker=ticker).exists()
            return time.monotonic() - (persisted or time.monotonic())
        page.wait_for_timeout(50)
    raise AssertionError(f"{text} not on the live page after {timeout:.0f} s (in the database: {persisted is not None})")


def test_staff_watch_filter_review_and_follow_live_events(browser, feed_server, start_web, start_worker, live_channels,
                                                           fresh_cache, capsys):
    feed_server.add("/live.xml", feed())
    data = seed(feed_server.url("/live.xml"))
    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    start_worker(**live_channels)
    web = start_web()
    watched = Watched(browser, web.url)
    page = watched.page
    with capsys.disabled():
        print(f"\ndashboard screenshots: {SCREENSHOTS}")

    page.goto(web.url + "/app/events?status=live")
    page.get_by_role("button", name="Log in").wait_for()
    watched.visit("login")
    login(watched, "ops")
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    refresh_cookie = next(c for c in watched.context.cookies() if c["name"] == "tge_refresh")
    assert refresh_cookie["httpOnly"] and refresh_cookie["sameSite"] == "Strict"
    assert "tge_refresh" not in page.evaluate("() => document.cookie")
    page.locator("[data-testid=connection][data-state=live]").wait_for()
    watched.visit("live-empty")

    # Live: a launch published on the feed, swept with the Sources page's button, shows without a reload.
    feed_server.add("/live.xml", feed(LAUNCH_1))
    page.get_by_role("link", name="Sources").click()
    page.get_by_role("button", name="Sweep now: Local wire").click()
    page.get_by_text("Sweep of Local wire queued.").wait_for()
    page.get_by_role("link", name="Live", exact=True).click()
    delay = appears_after_persist(page, "ZPH", "Zephyrine Labs")
    assert delay < 2.0, f"the live row came {delay:.2f} s after the event was stored"
    with capsys.disabled():
        print(f"live row on the page {delay:.2f} s after the event was stored")
    watched.visit("live")

    # Events: filters, sorting and paging live in the URL; the URL alone gives the same view after a reload.
    page.get_by_role("link", name="Events").click()
    page.get_by_role("table").wait_for()
    page.get_by_label("Status").select_option("scheduled")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"status=scheduled"))
    eventually(page, lambda: set(page.locator("tbody tr td:nth-child(3)").all_inner_texts()) == {"scheduled"})
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name=re.compile("^TGE date")).focus()  # sorting works from the keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"ordering=-tge_date"))
    page.get_by_role("button", name=re.compile("^Confidence")).click()
    page.wait_for_url(re.compile(r"ordering=-confidence"))
    first_page = page.locator("tbody tr").all_inner_texts()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.get_by_text("Page 2 of 2").wait_for()
    eventually(page, lambda: page.locator("tbody tr").all_inner_texts() != first_page)
    watched.visit("events")
    page.screenshot(path=SCREENSHOTS / "readme-events.png", clip={"x": 0, "y": 0, "width": 1280, "height": 560})
    page.reload()  # the access token was in memory only: the refresh cookie brings the session back
    page.get_by_text("Page 2 of 2").wait_for()
    assert "ordering=-confidence" in page.url

    # Event: the postponed one, its evidence and timeline; confirm it and see the result at once.
    page.goto(web.url + f"/app/events/{data['moved'].pk}")
    page.get_by_role("heading", name=re.compile("Postponia")).wait_for()
    page.get_by_text(re.compile("TGE date moved from")).wait_for()
    page.get_by_role("button", name="Merge…").focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    watched.shoot("event-merge-dialog")
    watched.accessible("event-merge-dialog")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="hidden")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Event confirmed.").wait_for()
    page.get_by_text("review: confirmed").wait_for()
    assert TGEEvent.objects.get(pk=data["moved"].pk).review == "confirmed"
    watched.visit("event")
    page.goto(web.url + f"/app/events/{data['events'][7].pk}")
    page.get_by_role("heading", name=re.compile("Extraordinarily")).wait_for()
    watched.visit("event-long-name")
    source, target = data["events"][58], data["events"][59]
    page.goto(web.url + f"/app/events/{source.pk}")
    page.get_by_role("button", name="Merge…").click()
    page.get_by_label("Id of the event that absorbs this one").fill(str(target.pk))
    page.get_by_role("dialog").get_by_role("button", name="Merge").click()
    page.get_by_text(f"Merged into event {target.pk} (Testcoin 59).").wait_for()
    page.get_by_text("review: merged").wait_for()
    assert TGEEvent.objects.get(pk=source.pk).merged_into_id == target.pk

    # Calendar: this month, the postponed event marked with its old date.
    page.get_by_role("link", name="Calendar").click()
    page.get_by_text(f"postponed (was {data['old_date']:%-d %b %Y})").wait_for()
    watched.visit("calendar-month")
    page.get_by_role("button", name="Week", exact=True).click()
    page.wait_for_url(re.compile("view=week"))
    watched.visit("calendar-week")

    # Sources: health, and the staff actions.
    page.get_by_role("link", name="Sources").click()
    page.get_by_text("open", exact=True).wait_for()
    page.get_by_role("button", name="Disable: Local wire").click()
    page.get_by_text("Local wire disabled.").wait_for()
    assert not Source.objects.get(pk=data["wire"].pk).enabled
    watched.visit("sources")

    # Metrics: Recharts draws the series of /api/v1/system/metrics.
    page.get_by_role("link", name="Metrics").click()
    page.get_by_role("heading", name="Metrics").wait_for()
    page.locator("svg.recharts-surface").first.wait_for()
    published = TGEEvent.objects.filter(published=True).count()
    page.locator("div", has=page.get_by_text("Published events", exact=True)).get_by_text(str(published),
                                                                                         exact=True).first.wait_for()
    watched.visit("metrics")

    # The server goes away: the indicator says so, and a page that asks the API shows a message, not a blank.
    web.stop()
    page.locator("[data-testid=connection][data-state=offline]").wait_for()
    page.get_by_role("link", name="Calendar").click()
    page.get_by_role("button", name="Next month →").click()
    page.get_by_role("alert").get_by_text("The server cannot be reached").wait_for(timeout=20_000)
    watched.shoot("api-down")
    # ... meanwhile the pipeline stores another launch; after the restart the page catches up on it.
    feed_server.add("/live.xml", feed(LAUNCH_1, LAUNCH_2))
    run_id = sweeps.start_sweep([data["wire"].pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120)
    assert TGEEvent.objects.filter(ticker="CRVL").exists()
    web.start()
    page.get_by_role("link", name="Live", exact=True).click()
    page.locator("[data-testid=connection][data-state=live]").wait_for(timeout=30_000)
    page.get_by_role("list", name="Live events").get_by_text("Corvalis Network").wait_for(timeout=10_000)
    page.wait_for_timeout(1000)  # the follower, which resumes from its saved cursor, sends it too: shown once
    assert page.get_by_role("list", name="Live events").get_by_text("Corvalis Network").count() == 1
    watched.visit("live-after-restart")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for()
    assert not [c for c in watched.context.cookies() if c["name"] == "tge_refresh"]
    assert watched.errors == [], watched.errors


def test_a_reader_sees_no_review_buttons_and_the_api_refuses_them(browser, start_web, feed_server, fresh_cache):
    data = seed(feed_server.url("/live.xml"))
    User.objects.create_user("reader", password=PASSWORD)
    web = start_web()
    watched = Watched(browser, web.url)
    page = watched.page
    login(watched, "reader")
    page.goto(web.url + f"/app/events/{data['moved'].pk}")
    page.get_by_role("heading", name=re.compile("Postponia")).wait_for()
    assert page.get_by_role("button", name="Confirm").count() == 0
    assert page.get_by_role("button", name="Merge…").count() == 0
    watched.visit("event-reader")
    page.get_by_role("link", name="Sources").click()
    page.get_by_role("table").wait_for()
    assert page.get_by_role("button", name=re.compile("Sweep|Disable|Enable")).count() == 0

    # The same login, outside the browser: the API refuses a reader's review and source actions.
    session = requests.Session()
    session.get(web.url + "/app/", timeout=10)
    token = session.post(web.url + "/app/auth/login", json={"username": "reader", "password": PASSWORD},
                         headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": web.url + "/app/"},
                         timeout=10).json()["access"]
    bearer = {"Authorization": f"Bearer {token}"}
    for path in (f"tge-events/{data['moved'].pk}/confirm", f"tge-events/{data['moved'].pk}/reject",
                 f"sources/{data['wire'].pk}/sweep"):
        assert requests.post(f"{web.url}/api/v1/{path}", headers=bearer, timeout=10).status_code == 403, path
    assert TGEEvent.objects.get(pk=data["moved"].pk).review == "unreviewed"
    assert watched.errors == [], watched.errors
