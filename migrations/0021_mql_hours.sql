-- MQLs counted by the UTC hour they came in, by source and segment as
-- stored, so that the scorecard's MQL→SQL share over a quarter sums a few
-- thousand hours instead of counting a million MQLs (storage.DB's
-- scorecard counts whole hours here and the MQLs of the partial hours at
-- the period's edges from mqls itself). Kept by statement-level triggers
-- on mqls: one upsert per statement, so a COPY batch costs one too.
CREATE TABLE mql_hours (
    hour    timestamptz NOT NULL,
    source  text NOT NULL,
    segment text NOT NULL,
    mqls    bigint NOT NULL,
    PRIMARY KEY (hour, source, segment)
);

-- Adds the rows of new_rows and takes away those of old_rows, whichever
-- the statement has (in hour order, so concurrent batches lock alike).
CREATE FUNCTION mql_hours_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE mql_hours h SET mqls = h.mqls - o.n
        FROM (SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, source, segment, count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3) o
        WHERE h.hour = o.hour AND h.source = o.source AND h.segment = o.segment;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO mql_hours (hour, source, segment, mqls)
        SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', source, segment, count(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (hour, source, segment) DO UPDATE SET mqls = mql_hours.mqls + EXCLUDED.mqls;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mql_hours_insert AFTER INSERT ON mqls
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mql_hours_count();
CREATE TRIGGER mql_hours_update AFTER UPDATE ON mqls
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mql_hours_count();
CREATE TRIGGER mql_hours_delete AFTER DELETE ON mqls
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mql_hours_count();

CREATE FUNCTION mql_hours_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mql_hours;
    RETURN NULL;
END
$$;
CREATE TRIGGER mql_hours_truncate AFTER TRUNCATE ON mqls
    FOR EACH STATEMENT EXECUTE FUNCTION mql_hours_clear();

-- Filled from the MQLs there after the triggers exist: creating them locks
-- mqls against writes until this migration commits, so no MQL is missed or
-- counted twice by replicas writing meanwhile.
INSERT INTO mql_hours (hour, source, segment, mqls)
SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', source, segment, count(*)
FROM mqls GROUP BY 1, 2, 3;
