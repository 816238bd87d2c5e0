# Three commands: `make run` (the app with demo data on SQLite), `make test`
# (the whole suite on a throwaway PostgreSQL, then on SQLite) and `make loadtest` (the app under
# load and faults, then its invariants; README, Reliability). `make bench` measures
# performance at a million time entries (README, Performance).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test loadtest loadtest-faults bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Migrate db.sqlite3, load the demo, serve with a background worker beside the server (Ctrl-C stops both);
# tests/demo/ walks through the same script in Chromium.
run: $(VENV)/.installed
	scripts/demo.sh $(PY) 127.0.0.1:8000

# Lint first (ruff, configured in pyproject.toml), then the suite on a throwaway PostgreSQL,
# production's database, then again on SQLite, the embedded default `make run` uses
# (DATABASE_URL unset); tests/demo/ serves the demo with scripts/demo.sh.
# The browser tests drive Debian's Chromium: installed with apt-get when /usr/bin/chromium is missing.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	scripts/ensure-debian.sh /usr/bin/chromium chromium fonts-dejavu-core
	scripts/ensure-debian.sh /usr/bin/xgettext gettext
	scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

# 20 API clients for 60 s against gunicorn on a throwaway PostgreSQL, then the invariants.
# FAULT=kill-worker or FAULT=restart-db adds a fault; loadtest-faults runs both. Loopback only.
# LOADTEST_ARGS=--billing: two gunicorn servers and two `manage.py worker`s; a billing run started,
# posted and sent through the API while agents log time, one job worker SIGKILLed mid-run and
# another started, then the run's invariants too (README, Reliability).
loadtest: $(VENV)/.installed
	scripts/with-postgres.sh $(PY) scripts/loadtest.py $(if $(FAULT),--fault $(FAULT)) $(LOADTEST_ARGS)

loadtest-faults: $(VENV)/.installed
	scripts/with-postgres.sh $(PY) scripts/loadtest.py --fault kill-worker $(LOADTEST_ARGS)
	scripts/with-postgres.sh $(PY) scripts/loadtest.py --fault restart-db $(LOADTEST_ARGS)

# Issues 5 and 11's benchmark: two data sets up to a million time entries in a throwaway PostgreSQL,
# every target measured (the billing run by real worker processes), docs/performance.md rewritten
# (README, Performance). Loopback only.
BENCH_PG_OPTIONS := -c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=512MB -c max_wal_size=4GB

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	scripts/ensure-debian.sh hey hey
	PG_OPTIONS="$(BENCH_PG_OPTIONS)" scripts/with-postgres.sh $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3
