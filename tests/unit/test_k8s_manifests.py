"""deploy/k8s/base holds what the spec asks of a Kubernetes deployment (kubernetes-validate checks the schema in make
lint; this checks the choices): resources, volumes, probes, one beat, graceful stops, network policies, TLS."""
from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from celeryconfig import task_queues
from workers.tasks import FETCH_TIME_LIMIT

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"
KUSTOMIZATION = yaml.safe_load((BASE / "kustomization.yaml").read_text())
OBJECTS = [doc for name in KUSTOMIZATION["resources"] for doc in yaml.safe_load_all((BASE / name).read_text()) if doc]
BY_KIND: dict[str, dict[str, dict]] = {}
for _obj in OBJECTS:
    BY_KIND.setdefault(_obj["kind"], {})[_obj["metadata"]["name"]] = _obj
WORKLOADS = {**BY_KIND["Deployment"], **BY_KIND["StatefulSet"]}
# The spec's requests → limits per kind of pod.
BACKEND = ({"memory": "256Mi", "cpu": "250m"}, {"memory": "512Mi", "cpu": "500m"})
SCRAPER = ({"memory": "128Mi", "cpu": "125m"}, {"memory": "256Mi", "cpu": "250m"})
EXPECTED_RESOURCES = {
    "web": BACKEND, "worker-fetch": SCRAPER, "worker-cpu": SCRAPER, "worker-io": SCRAPER,
    "postgres": ({"memory": "1Gi", "cpu": "500m"}, {"memory": "2Gi", "cpu": "1000m"}),
    "redis": ({"memory": "256Mi", "cpu": "125m"}, {"memory": "512Mi", "cpu": "250m"}),
}


def pod(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def test_every_listed_file_exists_and_the_namespace_is_set():
    assert sorted(KUSTOMIZATION["resources"]) == sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert KUSTOMIZATION["namespace"] == "tge-sweeper"


def test_resources_are_the_specs_and_every_container_has_them():
    for name, (requests, limits) in EXPECTED_RESOURCES.items():
        resources = pod(WORKLOADS[name])["containers"][0]["resources"]
        assert (resources["requests"], resources["limits"]) == (requests, limits), name
    for name, workload in {**WORKLOADS, **BY_KIND["Job"]}.items():
        spec = pod(workload)
        for container in spec["containers"] + spec.get("initContainers", []):
            assert container["resources"]["requests"] and container["resources"]["limits"], name


def test_the_data_lives_on_the_specs_volumes():
    sizes = {name: s["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
             for name, s in BY_KIND["StatefulSet"].items()}
    assert sizes == {"postgres": "50Gi", "redis": "10Gi"}


def test_long_running_containers_have_probes_and_the_web_drains_before_it_stops():
    for name, workload in WORKLOADS.items():
        container = pod(workload)["containers"][0]
        assert "livenessProbe" in container, name
        if name != "beat":  # beat serves nothing to be ready for
            assert "readinessProbe" in container, name
    web = pod(BY_KIND["Deployment"]["web"])
    assert web["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["containers"][0]["lifecycle"]["preStop"]
    assert BY_KIND["Deployment"]["web"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_workers_stop_warm_within_their_grace_and_consume_every_queue():
    consumed = set()
    for name, deployment in BY_KIND["Deployment"].items():
        command = pod(deployment)["containers"][0]["command"]
        if command[:4] == ["celery", "-A", "tgesweeper", "worker"]:
            assert pod(deployment)["terminationGracePeriodSeconds"] >= FETCH_TIME_LIMIT, name
            consumed |= set(command[command.index("-Q") + 1].split(","))
    assert consumed == {queue.name for queue in task_queues}
    fetch = pod(BY_KIND["Deployment"]["worker-fetch"])["containers"][0]["command"]
    assert fetch[fetch.index("--pool") + 1] == "threads" and fetch[fetch.index("--concurrency") + 1] == "20"


def test_one_beat_recreated_never_two_and_workers_scale_with_budgets():
    beat = BY_KIND["Deployment"]["beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    assert "beat" not in {h["spec"]["scaleTargetRef"]["name"] for h in BY_KIND["HorizontalPodAutoscaler"].values()}
    for name, hpa in BY_KIND["HorizontalPodAutoscaler"].items():
        assert hpa["spec"]["scaleTargetRef"]["name"] in BY_KIND["Deployment"] and name.startswith("worker-")
    labels = {name: d["spec"]["selector"]["matchLabels"] for name, d in BY_KIND["Deployment"].items()}
    for pdb in BY_KIND["PodDisruptionBudget"].values():
        assert pdb["spec"]["selector"]["matchLabels"] in labels.values()


def test_one_push_consumer_recreated_running_what_compose_runs():
    consumer = BY_KIND["Deployment"]["push-consumer"]
    assert consumer["spec"]["replicas"] == 1 and consumer["spec"]["strategy"] == {"type": "Recreate"}
    compose = yaml.safe_load((BASE.parents[2] / "docker-compose.yml").read_text())["services"]["push-consumer"]
    assert pod(consumer)["containers"][0]["command"] == compose["command"]
    assert consumer["spec"]["template"]["metadata"]["labels"]["tge-sweeper/fetches"] == "true"  # reaches the streams


def test_secrets_come_from_the_secret_object_only():
    for workload in {**WORKLOADS, **BY_KIND["Job"]}.values():
        spec = pod(workload)
        for container in spec["containers"] + spec.get("initContainers", []):
            for variable in container.get("env", []):
                if any(word in variable["name"] for word in ("SECRET", "KEY", "PASSWORD", "TOKEN", "DSN", "AUTH")):
                    assert "value" not in variable and variable["valueFrom"]["secretKeyRef"]["name"] == "tge-secrets"
    assert "Secret" not in BY_KIND
    assert not {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL"} & set(BY_KIND["ConfigMap"]["tge-config"]["data"])


def test_the_network_is_closed_by_default_with_the_needed_openings():
    policies = BY_KIND["NetworkPolicy"]
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny
    ports = {name: {p["port"] for rule in p_spec.get("ingress", []) + p_spec.get("egress", []) for p in rule["ports"]}
             for name, p_spec in ((n, p["spec"]) for n, p in policies.items() if n != "default-deny")}
    assert ports["allow-dns"] == {53} and ports["app-to-data"] == {5432, 6379}
    assert ports["web-from-ingress-and-prometheus"] == {8000} and ports["workers-from-prometheus"] == {9100}
    internet = policies["fetchers-to-internet"]["spec"]["egress"][0]["to"][0]["ipBlock"]
    assert "10.0.0.0/8" in internet["except"] and "169.254.0.0/16" in internet["except"]


def test_the_ingress_terminates_tls_for_the_web_and_flower_stays_inside():
    ingress = BY_KIND["Ingress"]["tge"]["spec"]
    assert ingress["tls"][0]["secretName"] and ingress["tls"][0]["hosts"] == [ingress["rules"][0]["host"]]
    backends = {p["backend"]["service"]["name"] for rule in ingress["rules"] for p in rule["http"]["paths"]}
    assert backends == {"web"}
    assert BY_KIND["Service"]["flower"]["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_app_pods_wait_for_the_migrate_job():
    job = pod(BY_KIND["Job"]["migrate"])["containers"][0]["command"]
    assert "migrate --noinput" in job[-1]
    for name, deployment in BY_KIND["Deployment"].items():
        if name != "flower":
            init = pod(deployment)["initContainers"][0]["command"]
            assert "migrate --check" in shlex.join(init), name


def test_the_web_pod_runs_what_the_compose_web_runs():
    """The ASGI app under uvicorn: the site and the dashboard's live channel, as in docker-compose.yml."""
    compose = yaml.safe_load((BASE.parents[2] / "docker-compose.yml").read_text())["services"]["web"]["command"]
    assert pod(BY_KIND["Deployment"]["web"])["containers"][0]["command"] == compose
