"""The browser kind against pages served on 127.0.0.1: JS-built lists parsed, private-network requests refused."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import psutil
import pytest

from api.models import Source
from tgesweeper import net
from tgesweeper.bench.feedserver import FeedServer
from tgesweeper.sources import SourceSpec
from tgesweeper.sources.browser import CHROMIUM, BrowserParseError, fetch_rendered, parse_rendered, render
from workers import pipeline

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"needs the system Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)")

HTML = "text/html; charset=utf-8"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
OPTIONS = {"wait_for": "#launches li", "item": "#launches li", "title": "h3", "link": "a", "date": "time", "body": "p"}

JS_PAGE = b"""<!doctype html><html><head><title>Launchpad</title></head><body>
<ul id="launches"></ul>
<script>
const launches = [
  {slug: "lumen", title: "Lumen TGE on March 20", when: "2026-03-01T10:00:00Z", note: "LUM claim opens at 14:00 UTC."},
  {slug: "orbit", title: "OrbitDEX token launch", when: "2026-02-27T08:00:00Z", note: "$ORB lists on three venues."},
];
setTimeout(() => {
  document.getElementById("launches").innerHTML = launches.map(l =>
    `<li><h3>${l.title}</h3><a href="/news/${l.slug}">read</a><time datetime="${l.when}">${l.when}</time><p>${l.note}</p></li>`
  ).join("");
}, 50);
</script></body></html>"""


def probing_page(internal: str) -> bytes:
    return f"""<!doctype html><html><body><ul id="launches"></ul>
<img src="{internal}/pixel.gif">
<script>
const targets = ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "{internal}/admin"];
Promise.allSettled(targets.map(t => fetch(t))).then(() => {{
  document.getElementById("launches").innerHTML = '<li><h3>Probe done</h3><a href="/done">x</a><p>ok</p></li>';
}});
</script></body></html>""".encode()


@pytest.fixture
def site():
    with FeedServer() as server:
        server.add("/launches", JS_PAGE, HTML)
        yield server


@pytest.fixture
def internal():
    """Stands in for a service on the private network: it must never see a request."""
    with FeedServer() as server:
        server.add("/admin", b"secret", "text/plain")
        yield server


def only(server: FeedServer) -> net.FetchPolicy:
    return net.FetchPolicy(allow_addresses=frozenset({server.address}), total_timeout=30)


def test_a_javascript_built_list_becomes_documents(site):
    fetched = fetch_rendered(SourceSpec(id=1, name="Launchpad", kind="browser", url=site.url("/launches"),
                                        options=OPTIONS), only(site))
    documents = parse_rendered(fetched.body, feed_url=fetched.url, fetched_at=NOW, options=OPTIONS)

    assert [d.title for d in documents] == ["Lumen TGE on March 20", "OrbitDEX token launch"]
    assert documents[0].url == site.url("/news/lumen")
    assert documents[0].text == "LUM claim opens at 14:00 UTC."
    assert documents[0].published_at == "2026-03-01T10:00:00+00:00" and not documents[0].date_missing
    assert fetched.etag and fetched.etag.startswith('"sha256:')


def test_the_pages_requests_to_private_networks_are_aborted(site, internal):
    site.add("/probe", probing_page(internal.url("")), HTML)
    rendered = render(site.url("/probe"), only(site), {"wait_for": "#launches li"})

    verdicts = dict(rendered.routes)
    assert verdicts[site.url("/probe")] == "fetched"
    assert verdicts["http://10.0.0.1/"].startswith("blocked")
    assert verdicts["http://169.254.169.254/latest/meta-data/"].startswith("blocked")
    assert verdicts[internal.url("/admin")].startswith("blocked")
    assert verdicts[internal.url("/pixel.gif")] == "skipped"
    assert internal.hits == {}
    assert "Probe done" in rendered.html


def test_a_redirect_to_a_private_address_is_refused(site, internal):
    site.add_route("/moved", lambda h: _redirect(h, site.url("/launches")))
    site.add_route("/sneaky", lambda h: _redirect(h, internal.url("/admin")))

    followed = render(site.url("/moved"), only(site), {"wait_for": "#launches li"})
    assert followed.url == site.url("/launches") and "Lumen TGE" in followed.html

    with pytest.raises(net.BlockedURL):
        render(site.url("/sneaky"), only(site))
    assert internal.hits == {}


def test_a_private_page_is_refused_before_the_browser_starts(internal):
    with pytest.raises(net.BlockedURL):
        render(internal.url("/admin"), net.FetchPolicy())
    assert internal.hits == {}


def test_the_rendered_page_is_capped(site):
    with pytest.raises(net.BodyTooLarge):
        render(site.url("/launches"), net.FetchPolicy(allow_addresses=frozenset({site.address}), max_bytes=200))


def test_a_selector_that_never_appears_times_out(site):
    policy = net.FetchPolicy(allow_addresses=frozenset({site.address}), total_timeout=3)
    with pytest.raises(net.FetchTimeout, match="never-there"):
        render(site.url("/launches"), policy, {"wait_for": "#never-there"})


@pytest.mark.parametrize("script", ["while (true) {}", "setTimeout(function () { while (true) {} }, 0)"])
def test_a_script_that_never_ends_times_out_and_leaves_no_browser(site, script):
    site.add("/spin", f"<html><body><p>Launches</p><script>{script}</script></body></html>".encode(), HTML)
    policy = net.FetchPolicy(allow_addresses=frozenset({site.address}), total_timeout=3)
    with pytest.raises(net.FetchTimeout, match="did not finish within 3s"):
        render(site.url("/spin"), policy)
    assert not [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]


def test_the_pipeline_reads_a_browser_source(site, allow_local, db):
    source = Source.objects.create(name="Launchpad", kind="browser", url=site.url("/launches"), options=OPTIONS)
    [batch] = pipeline.parse(pipeline.fetch(source.pk))
    assert {d["title"] for d in batch["documents"]} == {"Lumen TGE on March 20", "OrbitDEX token launch"}


def test_parse_reports_a_layout_it_cannot_read():
    with pytest.raises(BrowserParseError, match="matched nothing"):
        parse_rendered(b"<html><body><p>nothing here</p></body></html>", feed_url="https://example.com/",
                       fetched_at=NOW, options={"item": "li.launch"})


def _redirect(handler, location: str) -> None:
    handler.send_response(302)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()
