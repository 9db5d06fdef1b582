"""Source URLs are checked when saved: http(s) only, no private networks unless explicitly allowed."""
import pytest
from django.core.exceptions import ValidationError

from api.models import Source

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/feed.xml",
    "http://2130706433/feed.xml",
    "http://0x7f.1/feed.xml",
    "http://[::1]/feed.xml",
    "http://[::ffff:10.0.0.1]/feed.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.10/rss",
    "file:///etc/passwd",
    "ftp://example.com/feed.xml",
])
def test_it_refuses_private_and_non_http_urls(url):
    with pytest.raises(ValidationError) as caught:
        Source(name="bad", url=url).full_clean()
    assert "url" in caught.value.message_dict


def test_it_allows_local_urls_when_the_setting_says_so(allow_local):
    Source(name="local", url="http://127.0.0.1:8123/feed.xml").full_clean()


def test_it_accepts_a_public_address():
    Source(name="public", url="http://93.184.215.14/feed.xml").full_clean()


def test_an_x_source_needs_no_url_but_sane_options():
    Source(name="x search", kind="x").full_clean()
    Source(name="x accounts", kind="x", settings={"accounts": ["binance", "@okx"], "max_results": 100}).full_clean()
    for settings, problem in [
        ({"accounts": "binance"}, "list of X user names"),
        ({"accounts": ["not a name!"]}, "not X user names"),
        ({"max_results": 1000}, "max_results"),
        ({"search": False}, "needs \"accounts\""),
        ({"acounts": ["binance"]}, "unknown settings"),
    ]:
        with pytest.raises(ValidationError) as caught:
            Source(name="x bad", kind="x", settings=settings).full_clean()
        assert problem in " ".join(caught.value.message_dict["settings"])
    with pytest.raises(ValidationError) as caught:
        Source(name="x long", kind="x", query="TGE " * 200).full_clean()
    assert "query" in caught.value.message_dict


def test_a_browser_source_needs_a_public_url_and_valid_selectors():
    with pytest.raises(ValidationError) as caught:
        Source(name="page", kind="browser", url="http://10.0.0.1/launches").full_clean()
    assert "url" in caught.value.message_dict
    Source(name="page", kind="browser", url="http://93.184.215.14/launches",
           settings={"wait_for": "#list li", "item": "#list li", "title": "h3"}).full_clean()
    with pytest.raises(ValidationError) as caught:
        Source(name="page", kind="browser", url="http://93.184.215.14/launches",
               settings={"item": "li[[", "wait_until": "never"}).full_clean()
    messages = " ".join(caught.value.message_dict["settings"])
    assert "not a valid CSS selector" in messages and "wait_until" in messages
