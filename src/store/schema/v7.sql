-- Schema v7: downloaded records the device cannot use are set aside instead of failing their
-- page (which stalled every later change of the type until the server was fixed). One row
-- per record: the version the server sent last and why it could not be used. A newer usable
-- version of the record, or its tombstone, removes the row when it is applied.
CREATE TABLE download_quarantine (
  entity_type   TEXT NOT NULL,
  entity_id     TEXT NOT NULL,
  version       INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  -- The payload as received (canonical JSON; NULL for a tombstone), for support.
  payload       TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  -- How often this version arrived (a full resync sends it again).
  times_seen    INTEGER NOT NULL DEFAULT 1,
  run_id        TEXT NOT NULL,
  PRIMARY KEY (entity_type, entity_id)
) WITHOUT ROWID;
