"""JS-rendered pages: the system Chromium through Playwright renders the page, CSS selectors read its items.

Chromium never talks to the network itself. Every request the page makes is intercepted and performed by
``tgesweeper.net`` (URL check, the connection pinned to the checked address, ``before_request``, timeouts, size
cap), then fulfilled into the page; a request to a private address is aborted. Redirects are followed by us, hop
by hop, so each target is checked (Chromium follows a fulfilled redirect without asking the route again). Chromium
is also pointed at a proxy that does not exist, with loopback not exempt, so anything the route cannot see
(preconnects, a missed request type) has nowhere to go; WebSockets and service workers are refused outright.

Parsing is pure: the rendered HTML with BeautifulSoup on lxml and the source's selectors (item, title, link,
date, body). Browser fetches run on a fetch queue of their own, ``browser`` (the KIND declares it), served by a
worker of concurrency 1.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import dateparser
import requests
import soupsieve
from bs4 import BeautifulSoup

from tgesweeper import net
from tgesweeper.sources import BROWSER_QUEUE, NO_CONFIG, Fetched, SourceKind, SourceSpec
from tgesweeper.sources.documents import NormalizedDocument
from tgesweeper.sources.fields import (
    MAX_DATE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    absolute_url,
    clean_text,
    plausible,
    string_options_schema,
    utc,
)

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
NOWHERE_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, so an unrouted connection fails at once
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--dns-prefetch-disable",
    "--proxy-bypass-list=<-loopback>", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]
SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
WAIT_UNTIL = ("load", "domcontentloaded", "networkidle")
DROPPED_REQUEST_HEADERS = frozenset({"host", "connection", "content-length", "accept-encoding", "cookie2"})
DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})
SELECTOR_OPTIONS = ("item", "title", "link", "date", "body")
MAX_SELECTOR_CHARS = 500
DEFAULT_SELECTORS = {"item": "article", "title": "h1, h2, h3", "link": "a[href]", "date": "time", "body": ""}


class BrowserParseError(Exception):
    """The rendered page cannot be read with the source's selectors."""


def option_problems(options: dict, query: str = "") -> dict[str, list[str]]:
    """What is wrong with a browser source's options (the query is unused); empty when it can be fetched."""
    errors = []
    for name in (*SELECTOR_OPTIONS, "wait_for"):
        value = options.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_SELECTOR_CHARS:
            errors.append(f'"{name}" must be a CSS selector (text, at most {MAX_SELECTOR_CHARS} characters)')
            continue
        try:
            if value:
                soupsieve.compile(value)
        except soupsieve.SelectorSyntaxError as exc:
            errors.append(f'"{name}" is not a valid CSS selector: {exc}')
    wait_until = options.get("wait_until", "load")
    if wait_until not in WAIT_UNTIL:
        errors.append(f'"wait_until" must be one of {", ".join(WAIT_UNTIL)}')
    unknown = set(options) - set(OPTIONS_SCHEMA["properties"])
    if unknown:
        errors.append(f"unknown options for a browser source: {', '.join(sorted(unknown))}")
    return {"options": errors}


# --- fetch -----------------------------------------------------------------------------------------

@dataclass
class Rendered:
    url: str
    html: str
    routes: list[tuple[str, str]]  # (url, what the route did: "fetched", "blocked: ...", "skipped", ...)


@dataclass
class _Router:
    """Performs the page's requests through ``net``; remembers what it did and the main document's fate."""

    policy: net.FetchPolicy
    deadline: float
    session: requests.Session = field(default_factory=net.guarded_session)
    routes: list[tuple[str, str]] = field(default_factory=list)
    redirect_to: str | None = None
    main_error: net.FetchError | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def handle(self, route) -> None:
        request = route.request
        main = request.is_navigation_request() and request.frame.parent_frame is None
        if request.resource_type in SKIPPED_RESOURCES:
            self.routes.append((request.url, "skipped"))
            route.abort("blockedbyclient")
            return
        try:
            response = self._send(request.method, request.url, request.all_headers(), request.post_data_buffer)
            if response.status_code in net.REDIRECT_STATUSES and response.headers.get("Location"):
                target = urljoin(request.url, response.headers["Location"])
                if main:  # an empty page now; ``_navigate`` goes to the target, through this route again
                    self.routes.append((request.url, f"redirect to {target}"))
                    self.redirect_to = target
                    route.fulfill(status=200, content_type="text/html", body="")
                    return
                response = self._follow(target, request.all_headers())
        except net.FetchError as exc:
            self.routes.append((request.url, f"blocked: {exc.reason}" if isinstance(exc, net.BlockedURL)
                                else f"failed: {exc.reason}"))
            if main:
                self.main_error = exc
            route.abort("blockedbyclient" if isinstance(exc, net.BlockedURL) else "failed")
            return
        self.routes.append((request.url, "fetched"))
        headers = {k: v for k, v in response.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}
        route.fulfill(status=response.status_code, headers=headers, body=response.content)

    def _follow(self, url: str, headers: dict):
        for _hop in range(self.policy.max_redirects):
            self.routes.append((url, "redirect hop"))
            response = self._send("GET", url, headers, None)
            location = response.headers.get("Location")
            if response.status_code not in net.REDIRECT_STATUSES or not location:
                return response
            url = urljoin(url, location)
        raise net.BlockedURL(f"too many redirects (more than {self.policy.max_redirects})", url=url)

    def _send(self, method: str, url: str, headers: dict, body: bytes | None):
        remaining = self.remaining()
        if remaining <= 0:
            raise net.FetchTimeout(f"rendering took longer than {self.policy.total_timeout:g}s", url=url)
        sent = {k: v for k, v in headers.items() if not k.startswith(":") and k.lower() not in DROPPED_REQUEST_HEADERS}
        sent["Accept-Encoding"] = "gzip, deflate"
        return net.request(self.session, method, url, policy=replace(self.policy, total_timeout=remaining),
                           headers=sent, data=body)


def render(url: str, policy: net.FetchPolicy, options: dict | None = None) -> Rendered:
    """Load ``url`` in a fresh headless Chromium within ``policy`` and return the rendered HTML."""
    # Playwright loads only in the browser worker, the one process that renders pages.
    from playwright.sync_api import Error as PlaywrightError  # noqa: PLC0415
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: PLC0415
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    if not os.access(CHROMIUM, os.X_OK):
        raise net.NotConfigured(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    options = options or {}
    net.check_url(url, allow_private=policy.allow_private, allow_addresses=policy.allow_addresses)
    router = _Router(policy, time.monotonic() + policy.total_timeout)

    def ms() -> float:
        left = router.remaining()
        if left <= 0:
            raise net.FetchTimeout(f"rendering {url} took longer than {policy.total_timeout:g}s", url=url)
        return left * 1000

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=ms(),
                proxy={"server": NOWHERE_PROXY})
            try:
                context = browser.new_context(service_workers="block", accept_downloads=False)
                context.set_default_timeout(ms())
                context.route("**/*", router.handle)
                context.route_web_socket("**/*", lambda socket: socket.close())
                page = context.new_page()
                response = _navigate(page, url, router, options.get("wait_until", "load"), ms)
                if response is not None and response.status >= 400:
                    raise net.HTTPStatusError(
                        f"HTTP {response.status} from {page.url}", status=response.status, url=page.url,
                        retry_after=net.parse_retry_after(response.headers.get("retry-after")))
                if options.get("wait_for"):
                    page.wait_for_selector(options["wait_for"], state="attached", timeout=ms())
                html = page.content()
                final_url = page.url
            finally:
                browser.close()
    except PlaywrightTimeout:
        raise net.FetchTimeout(f"rendering {url} did not finish within {policy.total_timeout:g}s"
                               + (f" (waiting for {options['wait_for']!r})" if options.get("wait_for") else ""),
                               url=url) from None
    except PlaywrightError as exc:
        if router.main_error is not None:
            raise router.main_error from None
        raise net.ConnectionFailed(f"the browser could not load {url}: {exc.message.splitlines()[0]}",
                                   url=url) from None
    if len(html.encode("utf-8")) > policy.max_bytes:
        raise net.BodyTooLarge(f"the rendered page {final_url} is larger than {policy.max_bytes:,} bytes", url=url)
    return Rendered(final_url, html, router.routes)


def _navigate(page, url: str, router: _Router, wait_until: str, ms):
    """``page.goto`` that follows the main document's redirects itself, so the route checks every hop."""
    for _hop in range(router.policy.max_redirects + 1):
        router.redirect_to = None
        response = page.goto(url, wait_until=wait_until, timeout=ms())
        if router.redirect_to is None:
            return response
        url = router.redirect_to
    raise net.BlockedURL(f"too many redirects (more than {router.policy.max_redirects})", url=url)


def fetch_rendered(spec: SourceSpec, policy: net.FetchPolicy, config: Mapping[str, object] = NO_CONFIG) -> Fetched:
    rendered = render(spec.url, policy, spec.options)
    blocked = [url for url, verdict in rendered.routes if verdict.startswith("blocked")]
    if blocked:
        log.info("%s: refused %d request(s) of the page, e.g. %s", spec.name, len(blocked), blocked[0])
    body = rendered.html.encode("utf-8")
    digest = f'"sha256:{hashlib.sha256(body).hexdigest()[:32]}"'
    if spec.etag and spec.etag == digest:
        return Fetched(url=rendered.url, body=None, etag=digest)
    return Fetched(url=rendered.url, body=body, etag=digest)


# --- parse -----------------------------------------------------------------------------------------

def parse_rendered(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
                   options: dict | None = None) -> list[NormalizedDocument]:
    """Items of the rendered page, read with the source's selectors (pure: no I/O)."""
    selectors = {**DEFAULT_SELECTORS, **{k: v for k, v in (options or {}).items() if k in SELECTOR_OPTIONS}}
    fetched_at = utc(fetched_at)
    try:
        soup = BeautifulSoup(body, "lxml")
        for junk in soup.select("script, style, noscript, template"):
            junk.decompose()
        items = soup.select(selectors["item"], limit=max_items * 2)
    except soupsieve.SelectorSyntaxError as exc:
        raise BrowserParseError(f"bad item selector {selectors['item']!r}: {exc}") from None
    except RecursionError:
        raise BrowserParseError("the rendered page is nested too deeply to read") from None
    if not items:
        raise BrowserParseError(f"the item selector {selectors['item']!r} matched nothing on the rendered page")
    documents: dict[str, NormalizedDocument] = {}
    try:
        for item in items:
            document = _document(item, selectors, feed_url, fetched_at)
            if document is not None and document.external_id not in documents:
                documents[document.external_id] = document
                if len(documents) >= max_items:
                    break
    except soupsieve.SelectorSyntaxError as exc:
        raise BrowserParseError(f"bad selector: {exc}") from None
    except RecursionError:
        raise BrowserParseError("the rendered page is nested too deeply to read") from None
    return list(documents.values())


def _document(item, selectors: dict, base_url: str, fetched_at: datetime) -> NormalizedDocument | None:
    title_node = item.select_one(selectors["title"]) if selectors["title"] else None
    body_node = item.select_one(selectors["body"]) if selectors["body"] else item
    title = clean_text(title_node.get_text(" ") if title_node else "", MAX_TITLE_CHARS)
    text = clean_text((body_node or item).get_text(" "), MAX_TEXT_CHARS)
    if item.name == "a" and item.get("href"):
        link_node = item
    else:
        link_node = item.select_one(selectors["link"]) if selectors["link"] else None
    url = absolute_url(link_node.get("href", "") if link_node else "", base_url)
    if not title:
        title = text[:150]
    if not (title or text):
        return None
    published, missing = _published(item.select_one(selectors["date"]) if selectors["date"] else None, fetched_at)
    external_id = url or "sha256:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
    return NormalizedDocument(external_id=external_id[:500], url=url, title=title, text=text, author="",
                              published_at=published.isoformat(), date_missing=missing)


def _published(node, fetched_at: datetime) -> tuple[datetime, bool]:
    fallback = fetched_at.replace(microsecond=0), True
    if node is None:
        return fallback
    value = str(node.get("datetime") or node.get_text(" ")).strip()[:MAX_DATE_CHARS]
    if not value:
        return fallback
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = dateparser.parse(value, settings={"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC",
                                                 "RELATIVE_BASE": fetched_at.replace(tzinfo=None)})
    if when is None:
        return fallback
    when = utc(when).replace(microsecond=0)
    if not plausible(when, fetched_at):
        return fallback
    return when, False


OPTIONS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    **string_options_schema((*SELECTOR_OPTIONS, "wait_for"), "css-selector", max_length=MAX_SELECTOR_CHARS),
    "wait_until": {"type": "string", "enum": list(WAIT_UNTIL)}}}

# Each fetch runs a whole Chromium: a queue of its own, served by a worker of concurrency 1.
KIND = SourceKind("browser", fetch=fetch_rendered, parse=parse_rendered, parse_error=BrowserParseError,
                  option_problems=option_problems, options_schema=OPTIONS_SCHEMA, queue=BROWSER_QUEUE)
