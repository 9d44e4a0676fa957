# Portico: one entry point for a fresh Debian bookworm machine and for CI.
#   make install   system packages, Python venv, npm packages, portal vendor assets
#   make demo      SQLite demo with data, mail catcher and trytond on localhost:8000
#   make test      the test suite (scripts/test.sh)
#   make bench     the benchmarks (bench/run.sh)
# Steps leave stamp files in var/stamps/ so a second `make install` only redoes
# what changed (pip when pyproject.toml changes, npm when a lockfile changes);
# `rm -r var/stamps` forces every step again.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := install

PYTHON ?= python3
VENV := .venv
STAMPS := var/stamps
VENDOR := addons/client_portal/static/vendor
VENDOR_FILES := $(VENDOR)/bootstrap.min.css $(VENDOR)/bootstrap.bundle.min.js $(VENDOR)/htmx.min.js
# Test-only assets, never served by the portal: axe-core for the browser tests
TEST_ASSETS := var/test-assets
AXE := $(TEST_ASSETS)/axe.min.js

.PHONY: install system-deps demo test bench clean-demo messages

install: system-deps $(STAMPS)/pip $(STAMPS)/npm $(STAMPS)/npm-sao $(VENDOR_FILES) $(AXE)

# Always run: the script takes 0.1 s when nothing is missing and catches a
# package removed since the last run. Order-only prerequisite of the steps below.
system-deps:
	bash scripts/install-system-deps.sh

# Made once; delete .venv to start over.
$(VENV)/bin/python: | system-deps
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed: make PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# pyproject.toml pins every Python dependency; -e keeps addons/ importable
# from the work tree (trytond finds the modules through their entry points).
$(STAMPS)/pip: pyproject.toml $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -e '.[test]'
	mkdir -p $(@D) && touch $@

# npm ci wipes node_modules and installs exactly the lockfile.
$(STAMPS)/npm: package-lock.json package.json | system-deps
	npm ci --no-audit --no-fund
	mkdir -p $(@D) && touch $@

# sao (back office web client) has its own tree: see sao/package.json.
$(STAMPS)/npm-sao: sao/package-lock.json sao/package.json | system-deps
	cd sao && npm ci --no-audit --no-fund
	mkdir -p $(@D) && touch $@

# The portal pages load Bootstrap 5 and htmx from static/vendor/ (git-ignored).
$(VENDOR)/bootstrap.min.css: $(STAMPS)/npm
	mkdir -p $(@D) && cp node_modules/bootstrap/dist/css/bootstrap.min.css $@
$(VENDOR)/bootstrap.bundle.min.js: $(STAMPS)/npm
	mkdir -p $(@D) && cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $@
$(VENDOR)/htmx.min.js: $(STAMPS)/npm
	mkdir -p $(@D) && cp node_modules/htmx.org/dist/htmx.min.js $@

# axe-core (devDependency) for the accessibility checks of the browser tests
# (tests/browser/a11y.py); kept out of static/ so the portal never serves it.
$(AXE): $(STAMPS)/npm
	mkdir -p $(@D) && cp node_modules/axe-core/axe.min.js $@

# The mail catcher, the KSeF and Bitrix24 emulators, trytond and its cron run
# from one shell
# (one recipe line) whose EXIT trap stops them all, however it ends: Ctrl-C,
# `kill` of make (make passes SIGTERM on to this shell), trytond failing.
# The emulator starts first, for the demo firm's NIP (client_portal.demo
# FIRM_NIP): building the database sends the demo's invoices to it, and it
# keeps what it received in var/ksef-emulator across runs; the Bitrix24
# emulator keeps the firm's CRM in var/bitrix24-emulator.
# trytond runs in the background so that the shell, waiting in `wait`,
# reacts to signals at once.
demo: install
	mkdir -p var/db var/mail var/ksef-emulator var/bitrix24-emulator
	for port in 1025 8081 8082; do \
	    if (: </dev/tcp/127.0.0.1/$$port) 2>/dev/null; then \
	        echo "port $$port is already in use: stop that server first" >&2; exit 1; fi; done; \
	sink=; ksef=; b24=; server=; cron=; \
	trap 'kill $$sink $$ksef $$b24 $$server $$cron 2>/dev/null || true; wait' EXIT; \
	$(VENV)/bin/python scripts/mailsink.py --port 1025 --maildir var/mail & sink=$$!; \
	$(VENV)/bin/python -m tests.ksef_emulator --port 8081 --nip 5273184616 --data var/ksef-emulator --quiet & ksef=$$!; \
	$(VENV)/bin/python -m tests.bitrix24_emulator --port 8082 --data var/bitrix24-emulator --quiet & b24=$$!; \
	for port in 1025 8081 8082; do \
	    until (: </dev/tcp/127.0.0.1/$$port) 2>/dev/null; do \
	        kill -0 $$sink $$ksef $$b24 2>/dev/null || exit 1; sleep 0.2; done; done; \
	$(VENV)/bin/python scripts/demo.py -c config/demo.conf; \
	export TRYTOND_DATABASE__PATH=$(CURDIR)/var/db; \
	$(VENV)/bin/trytond-cron -c config/demo.conf -d portico & cron=$$!; \
	$(VENV)/bin/trytond -c config/demo.conf & server=$$!; \
	wait $$server

test: install $(AXE)
	bash scripts/test.sh

bench: install
	bash bench/run.sh

clean-demo:
	rm -rf var/db var/ksef-emulator var/bitrix24-emulator

# The portal templates' strings: extract them with Babel and merge them into
# each module's Polish catalogue (addons/<module>/locale/portal/pl.po, for
# the modules with a babel.cfg); translate what is new or fuzzy there. A test
# fails while one is missing.
PORTAL_MODULES := $(patsubst addons/%/babel.cfg,%,$(wildcard addons/*/babel.cfg))
messages: install
	for module in $(PORTAL_MODULES); do \
	    locale=addons/$$module/locale/portal; \
	    $(VENV)/bin/pybabel extract -F addons/$$module/babel.cfg \
	        -o $$locale/messages.pot --no-wrap --sort-by-file \
	        --project=Portico --version=8.0 --msgid-bugs-address=dev@portico.invalid \
	        addons/$$module/templates && \
	    $(VENV)/bin/pybabel update -i $$locale/messages.pot \
	        -o $$locale/pl.po -l pl --no-wrap || exit 1; \
	done
