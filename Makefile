# Keyward: `make run` and `make test` do all the set-up they need, on a fresh machine too.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions and hashes of everything installed; `make lock` writes it from pyproject.toml.
LOCK := requirements.lock

# `make run` is local development; production sets DEBUG=false, SECRET_KEY and ALLOWED_HOSTS.
PORT ?= 8000
# Links in emails point at the port actually served, unless PORTAL_BASE_URL says otherwise.
RUN_ENV := DEBUG=$${DEBUG:-true} WEBHOOK_ALLOW_PRIVATE_ADDRESSES=$${WEBHOOK_ALLOW_PRIVATE_ADDRESSES:-true} \
	WEBHOOK_ALLOW_HTTP=$${WEBHOOK_ALLOW_HTTP:-true} PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)}
# Tests need some SECRET_KEY; this one is for tests only. Django's test client calls itself
# testserver, so that is the origin (the OAuth issuer) the suite expects.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-not-secret} DEBUG=false ALLOWED_HOSTS=$${ALLOWED_HOSTS:-testserver,localhost,127.0.0.1} \
	PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://testserver}

.PHONY: run test lint bench install lock migrate clean screenshots

# The project itself is not installed (it has no packages): only what the lock names.
# uv installs the lock several times faster than pip (parallel downloads, no per-package
# subprocess); pip only bootstraps uv itself, from uv's own hashed lines in the lock.
$(STAMP): $(LOCK)
	@echo "Installing $(LOCK) into $(VENV) with uv"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || { awk '/^uv==/{p=1} p{print; if ($$0 !~ /\\$$/) exit}' $(LOCK) > $(VENV)/uv.lock.txt \
		&& $(BIN)/python -m pip install -qq --require-hashes --no-deps -r $(VENV)/uv.lock.txt; }
	@$(BIN)/uv pip sync --quiet --require-hashes --python $(BIN)/python $(LOCK)
	@touch $(STAMP)

install: $(STAMP)

# After changing dependencies in pyproject.toml: keeps every pin it can, moves only what
# the change needs. `make lock UPGRADE=1` moves everything to the newest allowed release.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--universal --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) --output-file $(LOCK)

migrate: install
	@$(RUN_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	@echo "Database migrated"

# Background processes log warnings only: their routine lines would push the logins away.
run: migrate
	@$(RUN_ENV) LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/python manage.py seed_demo
	@echo "Keyward is serving on http://127.0.0.1:$(PORT) with a task worker and the scheduler (Ctrl-C stops all three)"
	@echo "Emails are saved in outbox/ (one line each here); the demo logins are above."
	@trap 'kill $$worker $$scheduler $$web 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	$(RUN_ENV) LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/python manage.py run_schedule --loop >/dev/null & scheduler=$$!; \
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT) & web=$$!; \
	wait $$web

test: install
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A PNG of every portal page at 1280 and 390 px, as each demo person, in screenshots/ (git-ignored).
screenshots: install
	$(TEST_ENV) $(BIN)/python -m tests.browser.screenshots

# Every mode: in process, HTTP (gunicorn + wrk), propagation (NOTIFY, polling, receipt), 1M-token flatness, memory.
# `make bench BENCH_ARGS="peers"` runs one; `python -m bench.auth --help` lists them.
bench: install
	@test -n "$$DATABASE_URL" || bash bench/prepare.sh keyward
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(TEST_ENV) DJANGO_SETTINGS_MODULE=bench.settings $(BIN)/python -m bench.auth $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
