# Two commands: `make run` (the app with demo data on SQLite) and `make test`
# (the whole suite on a throwaway PostgreSQL).
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# The browser tests drive Debian's Chromium: installed with apt-get when /usr/bin/chromium is missing.
test: $(VENV)/.installed
	scripts/ensure-chromium.sh
	scripts/with-postgres.sh $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3
