# The two commands a newcomer needs: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed

.PHONY: run test demo install migrate web worker worker-browser beat flower lint check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput -v 0

## Sets up and starts the sweeper: web (API + admin) on 127.0.0.1:8000, a Celery worker and Celery beat.
run: migrate
	$(PY) manage.py load_sources
	PATH="$(BIN):$$PATH" $(BIN)/honcho -f Procfile start

## Sets up and runs the whole test suite (PostgreSQL + Redis when reachable; required with CI=true).
test: install
	$(PY) tests/services.py $(PY) -m pytest $(PYTEST_ARGS)

## One sweep over the sample feeds shipped in tgesweeper/bench/demo_feeds/ (served on 127.0.0.1) into the database `make run`
## uses; prints the events found, which `make run` then shows in the admin and the API.
demo: migrate
	SCRAPING_ALLOW_PRIVATE_NETWORKS=true $(PY) manage.py demo

web: migrate
	$(PY) manage.py runserver 127.0.0.1:8000 --insecure

worker: install
	$(BIN)/celery -A tgesweeper worker -Q fetch,parse,match,persist,notify --loglevel INFO

## Fetches of browser sources: one Chromium at a time (needs /usr/bin/chromium: apt-get install chromium).
worker-browser: install
	$(BIN)/celery -A tgesweeper worker -Q browser --concurrency 1 -n browser@%h --loglevel INFO

beat: install
	$(BIN)/celery -A tgesweeper beat --loglevel INFO

flower: install
	@test -n "$$FLOWER_BASIC_AUTH" || { echo "set FLOWER_BASIC_AUTH=user:password first"; exit 1; }
	$(BIN)/celery -A tgesweeper flower --address=$${FLOWER_ADDRESS:-127.0.0.1} --port=$${FLOWER_PORT:-5555} \
		--basic-auth="$$FLOWER_BASIC_AUTH"

## Files held to `ruff format` (a file joins the list once it is formatted; the rest of the code predates the rule).
FORMATTED := tgesweeper/logs.py tgesweeper/error_reporting.py workers/metrics.py workers/observability.py api/prometheus.py \
	api/management/commands/prune.py api/retention.py tgesweeper/service_registry.py

## Docker cannot run here: every deploy file is checked by a tool that parses it instead (docs/deployment.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(FORMATTED)
	$(BIN)/mypy
	$(BIN)/actionlint
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.tls.yml
	$(BIN)/hadolint deploy/Dockerfile
	$(BIN)/kubernetes-validate --strict --quiet $(filter-out %/kustomization.yaml,$(wildcard deploy/k8s/base/*.yaml))
	@if command -v kubectl >/dev/null; then built=$$(mktemp --suffix=.yaml); for overlay in deploy/k8s/overlays/*/; do \
		kubectl kustomize "$$overlay" > "$$built" && $(BIN)/kubernetes-validate --strict --quiet "$$built" \
		|| { rm -f "$$built"; exit 1; }; done; rm -f "$$built"; \
	else echo "kubectl not installed: the kustomize overlays are not built"; fi
	@if command -v promtool >/dev/null; then \
		promtool check config --syntax-only deploy/prometheus/prometheus.yml deploy/prometheus/prometheus-k8s.yml && \
		promtool check rules deploy/prometheus/alerts.yml && promtool test rules deploy/prometheus/alerts.test.yml; \
	else echo "promtool not installed (apt-get install prometheus): deploy/prometheus/ not checked"; fi

clean:
	rm -rf var
