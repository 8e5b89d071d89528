"""Alembic environment: runs on the connection the caller opened.

pyloader.migrate opens the transaction, sets search_path and role, and passes
the connection in `config.attributes["connection"]`; this file only tells
Alembic where the version table lives. Offline (SQL script) mode is not used.
"""
from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    version_table_schema=config.attributes["schema"],
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
