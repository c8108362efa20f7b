# Two entry points for a fresh Debian 12 / Raspberry Pi OS machine (root or sudo):
#   make run   – install what is missing, then start the demo
#   make test  – install what is missing (browser included), then run every test
#   make screenshots – regenerate docs/screenshots/ with the browser tests
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_RUN := mosquitto ffmpeg espeak-ng icecast2 python3-venv python3-dev
APT_TEST := $(APT_RUN) chromium sox caddy systemd
PYTHON ?= python3

.PHONY: run test screenshots bench lint system-run system-test venv-run venv-test venv-bench clean

run: system-run venv-run
	$(VENV)/bin/commune-radio demo $(ARGS)

test: system-test venv-test
	$(VENV)/bin/ruff check .
	bash scripts/test-all.sh

# The browser tests write screenshots to test-results/ (untracked); this target alone
# rewrites the tracked ones.
screenshots: system-test venv-test
	COMMUNE_RADIO_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser

bench: system-test venv-bench
	$(PY) -m bench $(ARGS)

lint: venv-test
	$(VENV)/bin/ruff check .

system-run:
	@bash scripts/apt-ensure.sh $(APT_RUN)

system-test:
	@bash scripts/apt-ensure.sh $(APT_TEST)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv-run: $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[controller]'

venv-test: $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'

venv-bench: $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[bench]'

clean:
	rm -rf $(VENV) instance .pytest_cache
