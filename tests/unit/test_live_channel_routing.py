"""The proxies in front of the site send the dashboard's live channel (/socket.io/) to the service that serves it:
the web service's uvicorn (``tgesweeper.asgi``), with the WebSocket upgrade."""
import re

import yaml

from tgesweeper.bench.local_process import ROOT


def test_nginx_sends_the_live_channel_to_the_web_service_with_the_upgrade():
    locations = (ROOT / "deploy" / "nginx" / "snippets" / "tge-locations.conf").read_text()
    upstreams = dict(re.findall(r"set \$(\w+) (\S+);", locations))
    block = re.search(r"location /socket\.io/ \{(.*?)\}", locations, re.S).group(1)
    target = re.search(r"proxy_pass \$(\w+);", block).group(1)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    host, port = re.fullmatch(r"http://([\w-]+):(\d+)", upstreams[target]).groups()
    assert host == "web" and "tgesweeper.asgi:application" in compose["services"]["web"]["command"]
    assert port in compose["services"]["web"]["command"]
    assert "proxy_set_header Upgrade $http_upgrade;" in block and "proxy_http_version 1.1;" in block
