"""Alembic environment; shared with the other chain (see pyloader.migrate.run_env)."""
from pyloader.migrate import run_env

run_env()
