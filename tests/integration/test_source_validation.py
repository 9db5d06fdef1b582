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
    Source(name="x accounts", kind="x", options={"accounts": ["binance", "@okx"], "max_results": 100}).full_clean()
    for options, problem in [
        ({"accounts": "binance"}, "list of X user names"),
        ({"accounts": ["not a name!"]}, "not X user names"),
        ({"max_results": 1000}, "max_results"),
        ({"search": False}, "needs \"accounts\""),
        ({"acounts": ["binance"]}, "unknown options"),
        ({"stream": "yes"}, '"stream" must be true or false'),
        ({"stream": True, "accounts": [f"account{n}" for n in range(40)]}, "filtered-stream rule"),
    ]:
        with pytest.raises(ValidationError) as caught:
            Source(name="x bad", kind="x", options=options).full_clean()
        assert problem in " ".join(caught.value.message_dict["options"])
    with pytest.raises(ValidationError) as caught:
        Source(name="x long", kind="x", query="TGE " * 200).full_clean()
    assert "query" in caught.value.message_dict


def test_an_x_sources_query_and_options_problems_each_name_their_own_field():
    with pytest.raises(ValidationError) as caught:
        Source(name="x both", kind="x", query="TGE " * 200, options={"acounts": ["binance"]}).full_clean()
    errors = caught.value.message_dict
    assert "the query is 800 characters; the X API accepts at most 512" in errors["query"]
    assert not any("acounts" in message for message in errors["query"])
    assert errors["options"] == ["unknown options for an x source: acounts"]


def test_options_that_are_not_an_object_are_refused_for_every_kind():
    for kind in Source.Kind.values:
        with pytest.raises(ValidationError) as caught:
            Source(name="odd", kind=kind, url="http://93.184.215.14/feed", options=["item"]).full_clean()
        assert caught.value.message_dict["options"] == ["Options must be a JSON object."], kind


def test_a_browser_source_needs_a_public_url_and_valid_selectors():
    with pytest.raises(ValidationError) as caught:
        Source(name="page", kind="browser", url="http://10.0.0.1/launches").full_clean()
    assert "url" in caught.value.message_dict
    Source(name="page", kind="browser", url="http://93.184.215.14/launches",
           options={"wait_for": "#list li", "item": "#list li", "title": "h3"}).full_clean()
    with pytest.raises(ValidationError) as caught:
        Source(name="page", kind="browser", url="http://93.184.215.14/launches",
               options={"item": "li[[", "wait_until": "never"}).full_clean()
    messages = " ".join(caught.value.message_dict["options"])
    assert "not a valid CSS selector" in messages and "wait_until" in messages


# --- manage.py load_sources checks the YAML's sources as the admin checks a saved Source ------------------

def load_sources_from(monkeypatch, entries):
    """Run load_sources on ``entries`` as if they were scraping.news.sources; returns its output."""
    import io

    from django.conf import settings
    from django.core.management import call_command

    monkeypatch.setattr(type(settings.CONFIG), "default_sources", property(lambda config: entries))
    out = io.StringIO()
    call_command("load_sources", stdout=out)
    return out.getvalue()


GOOD = {"name": "Public wire", "type": "rss", "url": "http://93.184.215.14/feed.xml", "interval": 300}


def test_load_sources_refuses_a_private_url_naming_the_source_and_loads_nothing(monkeypatch):
    from django.core.management import CommandError

    entries = [GOOD, {"name": "Metadata", "type": "rss", "url": "http://169.254.169.254/latest/"},
               {"name": "Loopback", "type": "json", "url": "http://2130706433/feed",
                "options": {"items": "data", "title": "title"}}]
    with pytest.raises(CommandError) as caught:
        load_sources_from(monkeypatch, entries)
    message = str(caught.value)
    assert "nothing loaded" in message
    assert "Metadata: url: refused http://169.254.169.254/latest/" in message
    assert "Loopback: url: " in message and "refused http://2130706433/feed" in message
    assert "Public wire" not in message
    assert not Source.objects.exists()


def test_load_sources_never_moves_a_saved_source_to_a_private_url(monkeypatch):
    load_sources_from(monkeypatch, [GOOD])
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Public wire: url: refused"):
        load_sources_from(monkeypatch, [{**GOOD, "url": "http://[::ffff:10.0.0.1]/feed.xml"}])
    assert Source.objects.get(name="Public wire").url == GOOD["url"]


def test_load_sources_names_a_bad_interval_and_bad_options(monkeypatch):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as caught:
        load_sources_from(monkeypatch, [{**GOOD, "interval": "soon"},
                                        {"name": "Listing", "type": "json", "url": "http://93.184.215.14/x.json"}])
    message = str(caught.value)
    assert "Public wire: interval: expected a number of seconds, got 'soon'" in message
    assert "Listing: options:" in message and not Source.objects.exists()


def test_load_sources_refuses_two_entries_with_one_name(monkeypatch):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Public wire: a second entry with this name"):
        load_sources_from(monkeypatch, [GOOD, {**GOOD, "url": "http://93.184.215.14/other.xml"}])
    assert not Source.objects.exists()


def test_load_sources_takes_local_urls_when_private_networks_are_allowed(monkeypatch, allow_local):
    output = load_sources_from(monkeypatch, [GOOD, {"name": "Local", "type": "rss", "url": "http://127.0.0.1:8123/rss"}])
    assert "created Local (http://127.0.0.1:8123/rss)" in output
    assert set(Source.objects.values_list("name", flat=True)) == {"Public wire", "Local"}


def test_load_sources_says_unchanged_for_the_sources_it_did_not_change(monkeypatch):
    other = {"name": "Other wire", "type": "rss", "url": "http://93.184.215.15/feed.xml"}
    first = load_sources_from(monkeypatch, [GOOD, other])
    assert "created Public wire" in first and "2 created, 0 updated, 0 unchanged" in first
    untouched = Source.objects.get(name="Other wire").updated_at

    again = load_sources_from(monkeypatch, [{**GOOD, "interval": 600}, other])
    assert "updated Public wire (http://93.184.215.14/feed.xml)" in again
    assert "unchanged Other wire (http://93.184.215.15/feed.xml)" in again
    assert "0 created, 1 updated, 1 unchanged" in again
    assert Source.objects.get(name="Public wire").interval_seconds == 600
    assert Source.objects.get(name="Other wire").updated_at == untouched  # not written either


def test_load_sources_reads_the_old_settings_key_with_a_warning_and_refuses_it_beside_options(monkeypatch):
    import io

    from django.conf import settings
    from django.core.management import CommandError, call_command

    old = {"name": "Listing", "type": "json", "url": "http://93.184.215.14/x.json",
           "settings": {"items": "data", "title": "title"}}
    monkeypatch.setattr(type(settings.CONFIG), "default_sources", property(lambda config: [old]))
    err = io.StringIO()
    call_command("load_sources", stdout=io.StringIO(), stderr=err)
    assert "Listing: 'settings' is the old name of 'options'" in err.getvalue()
    assert Source.objects.get(name="Listing").options == {"items": "data", "title": "title"}

    both = {**old, "options": {"items": "data", "title": "title"}}
    with pytest.raises(CommandError, match="Listing: both options and settings"):
        load_sources_from(monkeypatch, [both])
