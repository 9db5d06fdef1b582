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
