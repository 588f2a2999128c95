# notice-relay — plain targets. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RELAY := $(VENV)/bin/relay
STAMP := $(VENV)/.installed
NATIVE := services/matcher/native
# rustup installs cargo under ~/.cargo/bin, which a non-login shell may not have on PATH
export PATH := $(HOME)/.cargo/bin:$(PATH)
PYTEST_ARGS ?=

.PHONY: help venv broker run test test-unit test-native test-integration check lint format typecheck schemas bench-schemas clean-broker bench-screen name-groups keycloak

help:
	@echo "make run    - start the broker and the whole system (Ctrl-C stops everything)"
	@echo "make test   - set up and run the whole suite (unit + integration on a real broker)"
	@echo "make check  - ruff, mypy --strict and the tests"

# Every source of the native module: an edit to any of them rebuilds it before pytest imports it.
$(STAMP): pyproject.toml constraints.txt $(NATIVE)/Cargo.toml $(NATIVE)/Cargo.lock $(wildcard $(NATIVE)/src/*.rs) $(NATIVE)/relay_vocabulary.pyi
	@command -v cargo >/dev/null || { echo "cargo not found: the matcher's native vocabulary ($(NATIVE)) needs Rust (rustup)"; exit 1; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	$(PY) -m pip install -q --force-reinstall --no-deps ./$(NATIVE)
	touch $(STAMP)

# The gettext catalogues (locale/, see locale/README.md): .po files are the source, .mo files
# are built here, never committed.
LOCALES := en ru uz kk ky tg tk
PYBABEL := $(VENV)/bin/pybabel
MO := $(foreach l,$(LOCALES),locale/$(l)/LC_MESSAGES/messages.mo)
locale/%/LC_MESSAGES/messages.mo: locale/%/LC_MESSAGES/messages.po | $(STAMP)
	$(PYBABEL) -q compile -i $< -o $@

venv: $(STAMP) $(MO)

.PHONY: locale locale-update
# Compile the catalogues; re-extract every marked word and update each language's catalogue
# (new words arrive untranslated: the catalogue test fails until they are translated).
locale: $(MO)

locale-update: venv
	mkdir -p build
	$(PYBABEL) -q extract -F babel.cfg -k t --sort-by-file --add-location=file --no-wrap \
	  --project notice-relay -o build/messages.pot .
	$(PYBABEL) -q update -i build/messages.pot -d locale -D messages --no-fuzzy-matching \
	  --ignore-obsolete --no-wrap
	$(PY) -m services.tooling.catalogues english

broker: venv
	$(RELAY) kafka fetch

run: broker
	$(RELAY) run

test: broker prometheus chromium kcat keycloak test-native
	$(PY) -m pytest -m "not slow" --durations=15 $(PYTEST_ARGS)

test-unit: venv test-native
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: broker prometheus chromium kcat keycloak
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

# the native vocabulary's own tests (distances, deletion keys)
test-native:
	cd $(NATIVE) && cargo test -q --release

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	cd $(NATIVE) && cargo fmt --check && cargo clippy -q --release -- -D warnings

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	cd $(NATIVE) && cargo fmt

typecheck: venv
	$(VENV)/bin/mypy services schemas tests bench

check: lint typecheck test

schemas: venv
	$(PY) -m schemas.generate

bench-schemas: venv
	mkdir -p bench/results
	$(PY) bench/bench_schemas.py | tee /dev/stderr | tail -n 1 > bench/results/schemas.json

# The matcher's known spelling variants (services/matcher/data/README.md). rigour 1.8.2 is the
# last release that ships its person-name groups as a file; 2.x compiles them into its core.
RIGOUR_NAMES := rigour==1.8.2
name-groups: venv
	rm -rf build/rigour
	$(PY) -m pip download -q --no-deps -d build/rigour $(RIGOUR_NAMES)
	$(PY) -m services.tooling.name_groups build/rigour/rigour-*.whl

clean-broker:
	-$(RELAY) kafka down
	rm -rf .relay/kafka

# Prometheus and promtool from Debian (for the scrape test and `promtool check rules`).
.PHONY: prometheus check-rules
prometheus:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus)
	-systemctl disable --now prometheus 2>/dev/null; true

check-rules: prometheus
	promtool check rules deploy/prometheus/rules.yml
	promtool test rules deploy/prometheus/rules_test.yml
	promtool check config deploy/prometheus/prometheus.yml

bench-screen: venv
	mkdir -p bench/results
	$(PY) bench/bench_screen.py | tee /dev/stderr | tail -n 1 > bench/results/screen.json

.PHONY: bench-notifier
bench-notifier: broker
	mkdir -p bench/results
	$(PY) -m bench.bench_notifier | tee /dev/stderr | tail -n 1 > bench/results/notifier.json

.PHONY: test-security
# A second broker with SASL_SSL (SCRAM-SHA-512) and deploy/acls.yaml; certificates made at test time.
test-security: broker
	$(PY) -m pytest tests/unit/test_kafka_access_policy.py tests/integration/test_kafka_security.py $(PYTEST_ARGS)

.PHONY: bench
# End to end (ingest -> matcher -> notifier -> webhook) beside the broker's passthrough limit.
# Earlier benches' saved summaries are shown first; the last line is the e2e summary JSON.
bench: broker
	mkdir -p bench/results
	@for f in bench/results/*.json; do case "$$f" in */e2e.json) ;; \
	  *) echo "$$(basename $$f .json): $$(tr -d '\n ' < $$f | cut -c1-300)" >&2 ;; esac; done
	$(PY) -m bench.bench_e2e

.PHONY: chromium
# Debian's Chromium for the console's browser tests (Playwright drives it; it never downloads one).
chromium:
	@test -x /usr/bin/chromium || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium)

# kcat: Debian's Kafka CLI, a client that is not ours (ingest's raw-intake test), with the
# openssl and xxd that the README's signing recipe uses
# Keycloak from Maven Central (a real OpenID Connect provider for the console sign-in tests)
keycloak: venv
	$(PY) -m services.tooling.keycloak_local

kcat:
	@command -v kcat >/dev/null && command -v openssl >/dev/null && command -v xxd >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq kcat openssl xxd; }

# Ingest throughput and latency; the last line is one JSON object (also bench/results/ingest.json)
bench-ingest: venv
	$(PY) -m bench.bench_ingest

.PHONY: kcat bench-ingest

.PHONY: bench-matcher
# Load/RSS (100k people + 1M SLTD), relay screen events/s, streaming events/s vs passthrough,
# p99 event -> alert at 1,000/s; the last line is one JSON object.
bench-matcher: broker
	mkdir -p bench/results
	$(PY) -m bench.bench_matcher

.PHONY: bench-scale
# The disk-backed store at 1M persons + 100M SLTD documents (and 1M beside it), and a
# 10M-line relay watchlist load; data under /tmp, deleted after; takes about 15 minutes and
# ~15 GB of disk. The last line is one JSON object (also bench/results/scale.json).
bench-scale: broker
	mkdir -p bench/results
	$(PY) -m bench.bench_scale

.PHONY: bench-leads
# Planted trafficking patterns in 200,000 simulated events (60 days) through the analysis
# service: per pattern recall, precision, median delay; analysis events/s on one core.
# The last line is one JSON object (also bench/results/leads.json).
bench-leads: broker
	mkdir -p bench/results
	$(PY) -m bench.bench_leads

.PHONY: bench-analyst-restart
# The analyst's start with 200,000 simulated events in its history: the whole history replayed
# versus a start from its state snapshot. The last line is one JSON object (also
# bench/results/analyst_restart.json).
bench-analyst-restart: broker
	mkdir -p bench/results
	$(PY) -m bench.bench_analyst_restart

.PHONY: bench-failover
# SIGKILL of a notifier and a matcher replica under simulated traffic (BENCH_FAILOVER_RATE,
# default 500 events/s), and matcher events/s with 1 and 2 replicas; RUNS=3 prints the median.
# The last line is one JSON object (also bench/results/failover.json).
RUNS ?= 1
bench-failover: broker
	mkdir -p bench/results
	RUNS=$(RUNS) $(PY) -m bench.bench_failover

.PHONY: test-faults soak
# Faults, hostile input and access on the whole stack, plus every slow test that `make test`
# leaves out; figures in tests/artifacts/faults-report.json. Receivers stay down 120 s here.
test-faults: broker
	RELAY_FAULT_OUTAGE_S=$${RELAY_FAULT_OUTAGE_S:-120} $(PY) -m pytest -m "faults or slow" $(PYTEST_ARGS)

# The whole stack at SOAK_RATE events/s for SOAK_SECONDS (default 30 min at 500/s): RSS of every
# service and the matcher's lag every 10 s; fails on >= 10 % memory growth or unbounded lag.
SOAK_SECONDS ?= 1800
SOAK_RATE ?= 500
soak: broker
	mkdir -p bench/results
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) $(PY) -m bench.soak

.PHONY: bench-peer
# Our recall vs nomenklatura's logic-v2 (threshold 0.7) at equal precision on a seeded, stratified
# screening-dev sample (PEER_SAMPLE=0: every event). The peer lives in a throw-away venv outside
# the project and is never a project dependency; not part of `make test`. Last line: one JSON.
PEER_VENV ?= /tmp/peer-venv
PEER_SAMPLE ?= 1500
bench-peer: venv
	test -x $(PEER_VENV)/bin/python || python3 -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -c "import nomenklatura" 2>/dev/null || \
	  $(PEER_VENV)/bin/pip install -q nomenklatura followthemoney
	mkdir -p bench/results
	$(PY) -m bench.bench_peer --sample $(PEER_SAMPLE) --peer-python $(PEER_VENV)/bin/python
