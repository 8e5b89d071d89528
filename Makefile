# The two commands a newcomer needs: `make demo` and `make test`.
# Everything they need is installed here, so a fresh Debian clone works.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
MASTERFILE_PGPORT ?= 54329
export DATABASE_URL ?= postgresql://postgres@127.0.0.1:$(MASTERFILE_PGPORT)/masterfile

.PHONY: deps kernel venv db stop migrate test demo bench

deps:
	@scripts/install-deps.sh

# the master file's C kernel, into PostgreSQL's $$libdir when it changed
kernel: deps
	@scripts/install-kernel.sh

# the venv is rebuilt when pyproject.toml changes
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	@touch $@

venv: deps $(VENV)/.installed

db: venv kernel
	@scripts/cluster.sh start | tail -n 1

stop:
	@scripts/cluster.sh stop

migrate: db
	@$(VENV)/bin/pyloader migrate

test: db
	@$(VENV)/bin/pytest -q

demo: db
	@$(VENV)/bin/pyloader migrate
	@$(PY) -m pyloader.demo

bench: db
	@$(PY) -m bench
