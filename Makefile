# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.py | sha1sum | cut -c1-12)

.PHONY: run test lint fuzz install devkeys browser-deps redis bench load catalogues clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.py
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

devkeys: install
	$(BIN)/python -m ekn_saml.keygen certs

## run: install, make the development keys, serve the demo on http://localhost:6543
run: devkeys
	@echo "EKN Online demo with the development IdP: http://localhost:6543/login"
	$(BIN)/pserve development.ini

## browser-deps: Debian's chromium for the Playwright tests (Playwright's own download does not work here)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; \
	  fi; }

## redis: make sure a Redis answers on 127.0.0.1:6379 (the multi-node store tests need it)
redis:
	bash .ci/ensure-redis

## lint: ruff (rules and format), the mypy ratchet (.ci/mypy_ratchet.py), the import layers (lint-imports; pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/mypy_ratchet.py $(BIN)/mypy
	$(BIN)/lint-imports

## test: install what the tests need, lint, and run every test
test: install browser-deps redis lint
	$(BIN)/python -m pytest

## fuzz: the long fuzz run, FUZZ_EXAMPLES inputs per target (default 20000); prints the inputs tried (docs/hardening.md)
FUZZ_EXAMPLES ?= 20000
fuzz: install
	EKN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) EKN_FUZZ_REPORT=$${EKN_FUZZ_REPORT:-var/fuzz-report.json} $(BIN)/python -m pytest tests/fuzz -q -p no:logging

## load: 50 simulated users for 60 s through the whole login against the SP (the development IdP in its own process), SQLite then Redis: SP logins/s, CPU per login and per phase; last line is JSON (LOAD_ARGS=--help)
load: install redis
	$(BIN)/python bench/load.py $(LOAD_ARGS)

## bench: ACS vs pysaml2 vs the bare floor, AuthnRequests, HTTP logins, metadata (bench/README.md); last line is JSON (BENCH_ARGS=--help)
# pysaml2's default backend needs the xmlsec1 program: installed here only for the bench, and removed again after.
bench: install
	@added=; if ! command -v xmlsec1 >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's xmlsec1 for the pysaml2 comparison (removed again after the bench)" >&2; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null || exit 1; \
	    added=1; \
	  else \
	    echo "The bench compares with pysaml2's default backend, which needs the xmlsec1 program: run 'sudo apt-get install xmlsec1'"; exit 1; \
	  fi; \
	fi; \
	$(BIN)/python -m bench.run $(BENCH_ARGS); status=$$?; \
	if [ -n "$$added" ]; then DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq xmlsec1 >/dev/null; echo "xmlsec1 removed again" >&2; fi; \
	exit $$status

catalogues: install
	$(BIN)/pybabel extract -F babel.cfg -o ekn_saml/locale/ekn_saml.pot --project=ekn_saml --copyright-holder=EKN --msgid-bugs-address= --add-comments=TRANSLATORS: --add-location=file --sort-by-file .
	$(BIN)/pybabel update -i ekn_saml/locale/ekn_saml.pot -d ekn_saml/locale -D ekn_saml --ignore-obsolete --previous
	$(BIN)/pybabel compile -d ekn_saml/locale -D ekn_saml --statistics

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
