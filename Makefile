# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.py | sha1sum | cut -c1-12)

.PHONY: run test install devkeys browser-deps redis bench load catalogues clean

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

## test: install what the tests need and run them all
test: install browser-deps redis
	$(BIN)/python -m pytest

catalogues: install
	$(BIN)/pybabel extract -F babel.cfg -o ekn_saml/locale/ekn_saml.pot --project=ekn_saml --copyright-holder=EKN --msgid-bugs-address= --add-comments=TRANSLATORS: --add-location=file --sort-by-file .
	$(BIN)/pybabel update -i ekn_saml/locale/ekn_saml.pot -d ekn_saml/locale -D ekn_saml --ignore-obsolete --previous
	$(BIN)/pybabel compile -d ekn_saml/locale -D ekn_saml --statistics

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
