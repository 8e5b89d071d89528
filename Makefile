# The two commands a newcomer needs: `make demo` and `make test`.
# Everything they need is installed here, so a fresh Debian clone works.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
MASTERFILE_PGPORT ?= 54329
LOCAL_URL := postgresql://postgres@127.0.0.1:$(MASTERFILE_PGPORT)/masterfile
export DATABASE_URL ?= $(LOCAL_URL)

.PHONY: deps kernel venv db stop migrate test test-citus stop-citus schema demo bench bench-tenants bench-scale serve docker-wheels docker-test

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

# an external DATABASE_URL (another server, the containers of docker/) is
# used as it is: the local cluster is started only when it is the target
ifeq ($(DATABASE_URL),$(LOCAL_URL))
db: venv kernel
	@scripts/cluster.sh start | tail -n 1
else
db: venv
	@echo "make: using the database of DATABASE_URL; no local cluster started" >&2
endif

stop:
	@scripts/cluster.sh stop

migrate: db
	@$(VENV)/bin/pyloader migrate

test: db
	@$(VENV)/bin/pytest -q

# the tenant, load, run, cycle and ownership tests on a local Citus
# coordinator and two workers (scripts/citus-cluster.sh, docs/scale-out.md);
# without an installed Citus it says why and succeeds. `make test` never
# needs Citus.
CITUS_TESTS := tests/test_foundation.py tests/test_load_files.py tests/test_processing.py \
	tests/test_cycle.py tests/test_ownership.py tests/test_citus.py
test-citus: venv kernel
	@why=$$(scripts/citus-cluster.sh check) || { echo "test-citus: skipped: $$why"; exit 0; }; \
	out=$$(scripts/citus-cluster.sh start) && url=$${out##*DATABASE_URL=} && \
	MASTERFILE_CITUS=1 DATABASE_URL=$$url $(VENV)/bin/pytest -q $(CITUS_TESTS) $(PYTEST_ARGS)

stop-citus:
	@scripts/citus-cluster.sh stop

# docs/schema.sql, the committed schema a reviewer diffs (tests/test_schema_dump.py checks it)
schema: db
	@$(PY) -m pyloader.schema_dump --out docs/schema.sql

demo: db
	@$(VENV)/bin/pyloader migrate
	@$(PY) -m pyloader.demo

# the planner API and console (docs/api.md) on http://127.0.0.1:8080/
serve: db
	@$(VENV)/bin/pyloader serve

bench: db
	@$(PY) -m bench

# a thousand tenants on one node (long: about 40 minutes; not part of `make bench`)
bench-tenants: db
	@$(PY) -m bench.bench_many_tenants --out bench/out/many_tenants.md

# the master file at 1x and 10x in one run, recorded in docs/benchmarks.md
# (long: about an hour, and ~30 GB of disk at its peak; not part of `make bench`)
bench-scale: db
	@$(PY) -m bench.bench_scale --doc --json bench/out/scale.json

# the package's wheel and its dependencies', for the application image
docker-wheels: venv
	@rm -rf build docker/wheels/*.whl  # setuptools' build/ keeps files deleted from the tree
	@$(PY) -m pip wheel -q -w docker/wheels . 2>&1 | grep -v -i '^warning' || true
	@test -n "$$(ls docker/wheels/masterfile-*.whl 2>/dev/null)" || { echo "docker-wheels: no wheel made" >&2; exit 1; }

# both images from a local Debian base, docker/compose.test.yaml end to end
docker-test: venv
	@scripts/docker-test.sh
