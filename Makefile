# The two commands a new user types: `make run` and `make test`. Each creates .venv when missing
# and installs what it needs, so both work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run example test lint fuzz bench clean swagger-ui

run: $(VENV)/.installed swagger-ui
	$(BIN)/kard-bff serve --host 127.0.0.1 --port $(PORT)

# The example host app (examples/host_app): an issuer's own Flask app and login, kard-bff mounted
# at /rewards, offline (README "Embedding in your Flask app"). PORT names its WebView URLs' port.
example: $(VENV)/.installed-example
	PORT=$(PORT) $(BIN)/flask --app examples.host_app.app run --host 127.0.0.1 --port $(PORT)

# Debian packages the tests use for real: node (the WebView guide's own encoder), redis-server,
# chromium for the browser tests (Playwright drives Debian's build: nothing is downloaded),
# nginx for the fleet tests (tests/fleet/: three instances behind it; it lives in /usr/sbin), and
# prometheus for promtool, which checks docs/ops/prometheus-alerts.yml.
TEST_PACKAGES := node:nodejs redis-server:redis-server chromium:chromium /usr/sbin/nginx:nginx \
	promtool:prometheus

test: $(VENV)/.installed-dev swagger-ui
	@missing=""; for pair in $(TEST_PACKAGES); do \
	  command -v $${pair%%:*} >/dev/null || test -x $${pair%%:*} || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Swagger UI renders /docs. scripts/vendor-swagger-ui holds its pin and copies it into the pages
# from the npm registry, a build product ignored by git like .venv; made again when the pin moves.
SWAGGER_UI := static/vendor/swagger-ui

swagger-ui: $(SWAGGER_UI)/swagger-ui-bundle.js

$(SWAGGER_UI)/swagger-ui-bundle.js: scripts/vendor-swagger-ui
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm)
	scripts/vendor-swagger-ui $(SWAGGER_UI)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-example: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[example]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $(VENV)/.installed $@

# Fuzz a live sandbox server against its own /openapi.json with schemathesis (tests/fuzz_harness.py,
# the harness `make test` runs briefly in tests/test_fuzz.py): about 1,500 examples of every
# operation, positive and negative, then 2,500 scenarios of the state machine of the document's
# links (~10 min). A failure does not stop its operation: the run goes on, then fails. Prints its
# figures at the end: operations covered, requests sent by operation and status, activations of a
# listed offer, failures by check (each distinct one with its curl). Not part of `make test`.
fuzz: $(VENV)/.installed-dev swagger-ui
	$(BIN)/python -m pytest tests/test_fuzz.py -p tests.fuzz_harness --fuzz-budget=long

# Measure GET /api/v1/offers, /locations and /rewards through kard-bff next to static nginx, a
# reference minimal proxy (granian) and a naive one, in turn (~8 min), then `kard-bff history
# upload` and `history results` of a 1,000,000-line file (~3 min), then POST /webhooks/kard
# against a receiver that only checks the signature (~1 min). Tools only the benchmarks use are
# installed here.
bench: $(VENV)/.installed-dev
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx)
	test -x $(BIN)/py-spy || $(PIP) py-spy
	test -x $(BIN)/granian || $(PIP) 'granian>=2.8'
	$(BIN)/python -m bench.offers
	$(BIN)/python -m bench.history
	$(BIN)/python -m bench.webhooks

clean:
	rm -rf $(VENV) $(SWAGGER_UI) instance .pytest_cache .ruff_cache .hypothesis
