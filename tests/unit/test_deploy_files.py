"""docker-compose.yml and deploy/ stay valid without a Docker engine: parse them and check what they run."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_parses_and_runs_every_role():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "flower", "migrate"} <= set(services)
    assert "fetch,parse,match,persist,notify" in services["worker"]["command"]
    assert services["worker-browser"]["command"][4:6] == ["-Q", "browser"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "tgesweeper", "beat"]
    for role in ("web", "worker", "beat", "flower"):
        assert services[role]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / services[role]["build"]["dockerfile"]).is_file()
    assert all(port.startswith("127.0.0.1:") for s in services.values() for port in s.get("ports", []))


def test_dockerfile_installs_the_requirements_and_serves_wsgi():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "tgesweeper.wsgi" in dockerfile
    assert "install -y --no-install-recommends chromium" in dockerfile and "collectstatic" in dockerfile
