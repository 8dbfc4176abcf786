# The two commands of the README: `make run` and `make test`. Everything else is theirs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 3
PG_MAX_CONNECTIONS := 300

FRONTEND_SOURCES := $(shell find frontend/src frontend/embed frontend/vite.embed.config.ts frontend/index.html frontend/graphiql.html frontend/schema.graphql frontend/vite.config.ts frontend/codegen.ts -type f 2>/dev/null)

.PHONY: run test install backend-install frontend-build services system-packages test-python \
	test-frontend test-e2e lint bench

run: install
	$(VENV)/bin/genai-stack serve --host $(HOST) --port $(PORT)

# what the tests need is installed side by side (pip, three npm ci, apt): it mostly waits on
# the registries
test:
	$(MAKE) --jobs=4 install services tests/e2e/node_modules/.package-lock.json \
	  tests/oidc/node_modules/.package-lock.json
	$(MAKE) lint
	$(MAKE) test-python
	$(MAKE) test-frontend
	$(MAKE) test-e2e

install: backend-install frontend-build

backend-install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

frontend-build: frontend/dist/index.html

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund --loglevel=error

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	npm --prefix frontend run build

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	npm --prefix tests/e2e ci --no-audit --no-fund --loglevel=error

tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json
	npm --prefix tests/oidc ci --no-audit --no-fund --loglevel=error

# What the tests need from the machine: PostgreSQL and Redis running; Debian's fonts (test PDFs) and
# Chromium (browser tests).
services: system-packages
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432
	@# the parallel test workers each run apps with connection pools: 3 workers reached 85
	@# connections at the peak, too near PostgreSQL's default of 100 (a fresh machine's)
	@if [ "$$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections')" -lt $(PG_MAX_CONNECTIONS) ]; then \
	  echo "raising PostgreSQL's max_connections to $(PG_MAX_CONNECTIONS) (a restart)"; \
	  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $(PG_MAX_CONNECTIONS)"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main restart; \
	  for i in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	@test "$$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections')" -ge $(PG_MAX_CONNECTIONS)
	@# Redis: the shared rate limits' tests (REDIS_URL); the machine usually runs it already
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "starting Redis"; redis-server --bind 127.0.0.1 --port 6379 --save '' --daemonize yes; \
	  for i in $$(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done; \
	fi

system-packages:
	@missing=""; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/tesseract || missing="$$missing tesseract-ocr"; \
	test -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata || missing="$$missing tesseract-ocr-eng"; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check domain application infrastructure interfaces migrations tests $(wildcard bench)
	$(VENV)/bin/ruff format --check domain application infrastructure interfaces migrations tests $(wildcard bench)
	$(VENV)/bin/mypy domain application

# the single sign-on tests run a real OpenID Connect provider (tests/oidc, on Node).
# The suite mostly waits (servers, subprocesses, PostgreSQL): $(PYTEST_WORKERS) pytest-xdist
# workers; tests sharing a module-scoped fixture stay on one worker (loadgroup, tests/conftest.py).
test-python: $(STAMP) tests/oidc/node_modules/.package-lock.json
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q -p no:cacheprovider --durations=30

test-frontend: frontend/node_modules/.package-lock.json
	npm --prefix frontend test

# the built SPA in Debian's Chromium against the real backend on the embedded default
test-e2e: frontend-build tests/e2e/node_modules/.package-lock.json tests/oidc/node_modules/.package-lock.json
	npm --prefix tests/e2e test

bench: install services
	$(PY) -m bench
