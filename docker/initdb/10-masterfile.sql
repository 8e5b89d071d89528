-- Runs once, when the volume is new (official image's initdb hook), in
-- POSTGRES_DB: pg_cron lives in the database named by cron.database_name.
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS plpython3u;
