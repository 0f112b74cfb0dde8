# Two commands on a fresh machine with only Python and make: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501
STREAMLIT_FLAGS := --server.headless true --browser.gatherUsageStats false

.PHONY: install run test lint format bench demo chain clean messages catalogs

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# cxlog's words (issue #29, docs/languages.md): `make messages` extracts them
# from the code into the template and merges it into each language's
# catalog, for translators; `make catalogs` compiles the catalogs (at install:
# the .mo files are built, not committed).
CATALOGS := cxlog/language/catalogs
PYBABEL := $(BIN)/pybabel
messages: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k _ -k n_:1,2 -k N_ -k Nn_:1,2 --add-location=file --sort-by-file \
		--no-wrap --project cxlog --omit-header -o $(CATALOGS)/cxlog.pot .
	$(PYBABEL) update -i $(CATALOGS)/cxlog.pot -d $(CATALOGS) -D cxlog \
		--no-wrap --no-fuzzy-matching --ignore-obsolete
	@# cxlog fills {placeholders}, never %-formats: a "95% interval" is not a
	@# format, whatever pybabel guesses (its compile would refuse the entry).
	sed -i -e '/^#, python-format$$/d' -e 's/^#, python-format, /#, /' -e 's/, python-format//' \
		$(CATALOGS)/cxlog.pot $(CATALOGS)/*/LC_MESSAGES/cxlog.po

catalogs: $(STAMP)
	$(PYBABEL) compile -d $(CATALOGS) -D cxlog --statistics

install: $(STAMP) catalogs

# Serves on every interface so the store's tablets and phones can connect.
# HTTPS: make run CERT=path/to/cert.pem KEY=path/to/key.pem (README: Access and security).
TLS_FLAGS := $(if $(CERT),--server.sslCertFile $(CERT) --server.sslKeyFile $(KEY))
run: install
	$(BIN)/python -m cxlog migrate
	@echo "First run? The one-time setup code is printed below when cxlog starts"
	@echo "(or run: $(BIN)/python -m cxlog setup-code)."
	$(BIN)/python -m cxlog.serve $(STREAMLIT_FLAGS) $(TLS_FLAGS) \
		--server.address 0.0.0.0 --server.port $(PORT)

# Two workers (pytest-xdist): `make test` stays under 12 minutes on 2 cores.
# loadfile: a file's tests run on one worker, in order (some build on the
# one before, and a module's server starts once).
# Then again on PostgreSQL (#27): the non-browser suite, and the browser and
# reliability tests marked on_postgresql (the Log page, security, the load
# and SIGKILL tests), each test on a fresh database of the worker's own
# throwaway cluster; they skip where PostgreSQL's binaries are missing,
# unless CXLOG_REQUIRE_POSTGRES is set. Tests marked first_pass use both
# engines themselves (tests/test_one_answer.py…), wait (the 60 s cut waits
# once) or check words, not storage (tests/test_every_page_speaks.py…): the
# first pass runs them.
PG_TESTS := (on_postgresql or not (browser or reliability)) and not first_pass
test: install lint
	$(BIN)/python -m pytest -n 2 --dist loadfile
	CXLOG_TEST_ENGINE=postgresql $(BIN)/python -m pytest -n 2 --dist loadfile -m "$(PG_TESTS)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

demo: install
	rm -f data/demo.db data/demo.db-wal data/demo.db-shm
	$(BIN)/python -m cxlog demo --db data/demo.db --visits 200000 --days 365 \
		--stores 3 --associates 12 --traffic
	CXLOG_DB=data/demo.db $(BIN)/python -m cxlog.serve $(STREAMLIT_FLAGS) \
		--server.address 0.0.0.0 --server.port $(PORT)

# A chain on this machine (#28): PostgreSQL with demo data, two app processes
# and HAProxy (deploy/haproxy.cfg) on 127.0.0.1; Ctrl-C stops them all.
# Needs PostgreSQL 15+ and HAProxy (apt-get install postgresql haproxy).
chain: install
	$(BIN)/python -m cxlog.local_chain

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache bench/results bench/results-pg
