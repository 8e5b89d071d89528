-- Who changed a UI-owned row, and when: the database fills updated_by and
-- updated_at of settings and every ui_* table whenever the writer leaves them
-- out (INSERT: the columns' defaults; UPDATE: these triggers).
--
-- "Left out" means the UPDATE does not name the column. Only an UPDATE OF
-- trigger can see that, so it notes it per row in a transaction-local setting,
-- and the stamp trigger, which fires right after it for the same row (BEFORE
-- row triggers fire in name order), reads and clears the note. Comparing with
-- OLD instead would overwrite a user who saves the same row twice under the
-- same name.

CREATE OR REPLACE FUNCTION @extschema@.note_explicit_stamp()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- fires only for rows of an UPDATE that names column TG_ARGV[0]
    PERFORM set_config('masterfile.explicit_' || TG_ARGV[0], 'on', true);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.stamp_ui_update()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_at_named boolean := coalesce(current_setting('masterfile.explicit_updated_at', true), '') = 'on';
    v_by_named boolean := coalesce(current_setting('masterfile.explicit_updated_by', true), '') = 'on';
BEGIN
    -- guarantees: updated_at = now() and updated_by = current_user unless the
    -- UPDATE named them; the notes are cleared for the next row
    IF NOT v_at_named THEN
        NEW.updated_at := now();
    END IF;
    IF NOT v_by_named THEN
        NEW.updated_by := current_user;
    END IF;
    IF v_at_named OR v_by_named THEN
        PERFORM set_config('masterfile.explicit_updated_at', '', true),
                set_config('masterfile.explicit_updated_by', '', true);
    END IF;
    RETURN NEW;
END;
$$;

DO $stamps$
DECLARE
    v_table name;
BEGIN
    FOR v_table IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = '@extschema@'::pg_catalog.regnamespace AND c.relkind = 'r'
          AND (c.relname LIKE 'ui\_%' OR c.relname = 'settings')
    LOOP
        -- names sort in firing order: the notes (stamp_1_*) before the stamp (stamp_2_*)
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON %I '
            'FOR EACH ROW EXECUTE FUNCTION note_explicit_stamp(%L)', v_table, 'updated_at');
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON %I '
            'FOR EACH ROW EXECUTE FUNCTION note_explicit_stamp(%L)', v_table, 'updated_by');
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER stamp_2_updated BEFORE UPDATE ON %I '
            'FOR EACH ROW EXECUTE FUNCTION stamp_ui_update()', v_table);
    END LOOP;
END
$stamps$;

-- as_of_date at most two years ahead (the table's CHECK keeps it within
-- 1990..2100; "ahead of today" cannot be a CHECK, which must not depend on
-- the clock): a date far ahead makes every key compute weeks that do not exist.
CREATE OR REPLACE FUNCTION @extschema@.refuse_far_as_of_date()
RETURNS trigger
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: no settings row is written with as_of_date beyond today + 2 years
    IF NEW.as_of_date > current_date + interval '2 years' THEN
        RAISE EXCEPTION 'as_of_date % is more than two years ahead of today', NEW.as_of_date
            USING ERRCODE = 'check_violation', CONSTRAINT = 'settings_as_of_date_range';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER refuse_far_as_of_date BEFORE INSERT OR UPDATE OF as_of_date ON settings
    FOR EACH ROW WHEN (NEW.as_of_date IS NOT NULL)
    EXECUTE FUNCTION refuse_far_as_of_date();
