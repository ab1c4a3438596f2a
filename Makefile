# Two commands on a fresh machine with Python >= 3.11 and make:
#   make demo   - a local virtual environment, then kehu on its embedded profile with demo tenants
#   make test   - the whole test suite (PostgreSQL/Redis tests run when CI is set)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench install clean console

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("kehu needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kehu demo

# Two workers per core, each taking whole test files (module fixtures and order within a file hold):
# the tests spend much of their time waiting on PostgreSQL, Redis and subprocesses, so one worker per
# core left the cores idle (548 tests on 2 cores: 191 s with 2 workers, 152 s with 3, 130 s with 4).
# PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n * 2 )))
# Tests that start whole process trees (servers, workers, Chromium) or time faults run afterwards in
# one process, so they neither slow nor are slowed by the parallel part. A crashed worker fails the
# run instead of being replaced (a replaced worker can leave --dist loadfile waiting forever).
# Files go out in collection order (tests/conftest.py puts the slowest first), not xdist's default of
# the files with the most tests first, which left one worker alone on a slow file at the end.
# With PYTEST_ARGS set, one run of exactly what it names.
SERIAL_TESTS ?= tests/faults tests/console tests/backup tests/test_wheel_install.py tests/gateway/test_staff_console.py
XDIST := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --max-worker-restart=0
test: $(STAMP)
	@if [ -n "$(PYTEST_ARGS)" ]; then exec $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS); fi; \
	status=0; \
	$(BIN)/python -m pytest $(XDIST) $(foreach t,$(SERIAL_TESTS),--ignore=$(t)) || status=$$?; \
	$(BIN)/python -m pytest -p no:xdist $(SERIAL_TESTS) || { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
	exit $$status

# Rebuild the staff console (gateway/console, needs Node.js and npm); its build in dist/ is committed.
console:
	cd gateway/console && npm ci --no-audit --no-fund && npm run build

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
