# The two commands of the README: `make run` and `make test`. Everything else is theirs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install backend-install services system-packages test-python lint bench

run: install
	$(VENV)/bin/genai-stack serve --host $(HOST) --port $(PORT)

test: install services
	$(MAKE) lint
	$(MAKE) test-python

install: backend-install

backend-install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# What the tests need from the machine: PostgreSQL running, Debian's fonts for test PDFs.
services: system-packages
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432

system-packages:
	@missing=""; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check domain application infrastructure interfaces migrations tests $(wildcard bench)
	$(VENV)/bin/mypy domain application

test-python: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: install services
	$(PY) -m bench
