"""``benchmark dashboard --events N``: seed N events (as ``benchmark api`` does), serve the site with uvicorn, and time
each dashboard page in the system Chromium from the click that opens it to its content on screen."""
from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

from django.contrib.auth.models import User
from django.db import connections

from api.models import TGEEvent
from tgesweeper.bench.api_benchmark import remove_seeded, seed_events
from tgesweeper.bench.local_web import LocalWeb

CHROMIUM = "/usr/bin/chromium"


def _timed(page, open_page, ready: str, timeout_ms: int = 30_000) -> float:
    started = time.monotonic()
    open_page()
    page.locator(ready).first.wait_for(timeout=timeout_ms)
    return round((time.monotonic() - started) * 1000)


def run_dashboard_benchmark(events: int, *, rounds: int = 3, keep: bool = False, progress=None) -> dict:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only this benchmark drives a browser

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"needs the system Chromium at {CHROMIUM} (apt-get install chromium)")
    seed_seconds = seed_events(events, progress=progress)
    password = secrets.token_urlsafe(16)
    user = User.objects.create_user(f"bench-{secrets.token_hex(4)}", password=password, is_staff=True)
    event_id = TGEEvent.objects.filter(published=True).order_by("-first_seen_at").values_list("pk", flat=True).first()
    connections.close_all()
    timings: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tge-dashboard-bench-") as tmp, \
                LocalWeb(env={**os.environ, "ALLOWED_HOSTS": "127.0.0.1"}, log_path=Path(tmp) / "web.log") as web, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            pages = {
                "login → Live": (lambda: page.get_by_role("button", name="Log in").click(), "h1:has-text('Live')"),
                "Events": (lambda: page.get_by_role("link", name="Events").click(), "tbody tr"),
                "Events, page 20, by confidence": (
                    lambda: page.goto(web.url + "/app/events?ordering=-confidence&page=20"), "tbody tr"),
                "Events, chain + confidence + text": (
                    lambda: page.goto(web.url + "/app/events?chain=ethereum&confidence_min=0.9&q=a"),
                    "tbody tr, p:has-text('No events')"),
                "Event": (lambda: page.goto(web.url + f"/app/events/{event_id}"), "h2:has-text('Timeline')"),
                "Calendar (month)": (lambda: page.get_by_role("link", name="Calendar").click(), "ol li a"),
                "Sources": (lambda: page.get_by_role("link", name="Sources").click(), "tbody tr"),
                "Metrics": (lambda: page.get_by_role("link", name="Metrics").click(), "svg.recharts-surface"),
            }
            try:
                for _ in range(rounds):
                    page.goto(web.url + "/app/")
                    page.get_by_label("Username").fill(user.username)
                    page.get_by_label("Password").fill(password)
                    for name, (open_page, ready) in pages.items():
                        timings.setdefault(name, []).append(_timed(page, open_page, ready))
                    page.get_by_role("button", name="Log out").click()
                    page.get_by_role("button", name="Log in").wait_for()
            except Exception as exc:
                page.screenshot(path=Path(tempfile.gettempdir()) / "dashboard-benchmark-failure.png")
                raise RuntimeError(f"{exc}\n(screenshot: {tempfile.gettempdir()}/dashboard-benchmark-failure.png)\n"
                                   f"{web.log_text()[-3000:]}") from exc
            browser.close()
    finally:
        User.objects.filter(pk=user.pk).delete()
        if not keep:
            remove_seeded()
    return {"events": events, "seed_seconds": round(seed_seconds, 1), "rounds": rounds,
            "ms_first": {name: values[0] for name, values in timings.items()},
            "ms_worst_after_first": {name: max(values[1:]) if len(values) > 1 else None for name, values in timings.items()}}
