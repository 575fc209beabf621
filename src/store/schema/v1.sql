-- Schema version 1 of the device database. Times are Unix epoch milliseconds (INTEGER);
-- payloads are the app's JSON documents, kept whole; indexed fields are copied out of them.

-- Device identity and small counters: one row per key.
CREATE TABLE device_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The hot per-sale state lives in one row so recording a sale updates a single row:
-- the next receipt number (gapless), the last hybrid-logical-clock timestamp issued, the
-- newest timestamp seen from the server, and the device clock's offset to the server's.
CREATE TABLE device_state (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  next_receipt    INTEGER NOT NULL DEFAULT 1,
  hlc_last        INTEGER NOT NULL DEFAULT 0,
  hlc_remote_max  INTEGER NOT NULL DEFAULT 0,
  clock_offset_ms INTEGER NOT NULL DEFAULT 0
);
INSERT INTO device_state (id) VALUES (1);

-- The sync queue (the spec's columns first). `id` is the change id the server uses as its
-- idempotency key; `seq` is the local order within a priority.
CREATE TABLE sync_queue (
  id              TEXT PRIMARY KEY,
  entity_type     TEXT NOT NULL,
  entity_id       TEXT NOT NULL,
  action          TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  payload         TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'SYNCING', 'SYNCED', 'FAILED', 'CONFLICT')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  seq             INTEGER NOT NULL UNIQUE,
  hlc             INTEGER NOT NULL,
  checksum        TEXT NOT NULL,
  payload_bytes   INTEGER NOT NULL,
  next_attempt_at INTEGER,
  rejected        INTEGER NOT NULL DEFAULT 0,
  server_version  INTEGER,
  synced_at       INTEGER
);
CREATE INDEX sync_queue_claim ON sync_queue (status, priority, seq);
CREATE INDEX sync_queue_entity ON sync_queue (entity_type, entity_id, seq);
CREATE INDEX sync_queue_synced ON sync_queue (synced_at) WHERE status = 'SYNCED';

-- One row per sync step (an entity type in one direction) and one 'cycle' row per run.
CREATE TABLE sync_log (
  id            TEXT PRIMARY KEY,
  sync_type     TEXT NOT NULL,
  direction     TEXT NOT NULL,
  records_count INTEGER NOT NULL DEFAULT 0,
  started_at    INTEGER NOT NULL,
  completed_at  INTEGER,
  status        TEXT NOT NULL,
  error_message TEXT,
  run_id        TEXT NOT NULL,
  reason        TEXT
);
CREATE INDEX sync_log_run ON sync_log (run_id);
CREATE INDEX sync_log_started ON sync_log (started_at);

-- Every change applied to or confirmed by the server, and every rollback: the audit trail.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  run_id      TEXT,
  event       TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id   TEXT NOT NULL,
  change_id   TEXT,
  version     INTEGER,
  detail      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Pre-images of records a download run overwrote, so the run can be rolled back.
-- A NULL pre_image means the record did not exist before the run.
CREATE TABLE undo_journal (
  id          INTEGER PRIMARY KEY,
  run_id      TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id   TEXT NOT NULL,
  pre_image   TEXT
);
CREATE INDEX undo_journal_run ON undo_journal (run_id, id);

-- Delta-sync tokens per entity type, and the token each run started from.
CREATE TABLE sync_tokens (
  entity_type TEXT PRIMARY KEY,
  token       TEXT,
  updated_at  INTEGER NOT NULL,
  full_resync INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE undo_tokens (
  run_id      TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  token       TEXT,
  PRIMARY KEY (run_id, entity_type)
) WITHOUT ROWID;

-- The manual review queue: conflicts a person must resolve.
CREATE TABLE conflicts (
  id             TEXT PRIMARY KEY,
  change_id      TEXT NOT NULL,
  entity_type    TEXT NOT NULL,
  entity_id      TEXT NOT NULL,
  local_payload  TEXT NOT NULL,
  server_payload TEXT NOT NULL,
  server_version INTEGER NOT NULL,
  local_hlc      INTEGER NOT NULL,
  server_hlc     INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  resolved_at    INTEGER,
  resolution     TEXT
);
CREATE INDEX conflicts_open ON conflicts (resolved_at, created_at);

-- Sales and stock adjustments: written locally, uploaded, never overwritten by the server.
CREATE TABLE sales (
  id             TEXT PRIMARY KEY,
  receipt_number TEXT NOT NULL UNIQUE,
  customer_id    TEXT,
  total          REAL,
  payload        TEXT NOT NULL,
  created_at     INTEGER NOT NULL
);
CREATE TABLE stock_adjustments (
  id             TEXT PRIMARY KEY,
  product_id     TEXT NOT NULL,
  quantity_delta REAL NOT NULL,
  payload        TEXT NOT NULL,
  created_at     INTEGER NOT NULL
);

-- Downloaded master data. `version`, `checksum` and `updated_hlc` are the server's.
CREATE TABLE products (
  pk          INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  sku         TEXT,
  barcode     TEXT,
  name        TEXT NOT NULL DEFAULT '',
  payload     TEXT NOT NULL,
  version     INTEGER NOT NULL,
  checksum    TEXT NOT NULL,
  updated_hlc INTEGER NOT NULL
);
CREATE INDEX products_barcode ON products (barcode);
CREATE INDEX products_sku ON products (sku);
-- Prefix indexes for 2 and 3 characters keep typeahead fast at 100k+ products.
CREATE VIRTUAL TABLE products_fts USING fts5 (
  name, content = 'products', content_rowid = 'pk', prefix = '2 3'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
  INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;

CREATE TABLE prices (
  pk          INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  product_id  TEXT NOT NULL,
  amount      INTEGER NOT NULL,
  currency    TEXT,
  valid_from  INTEGER NOT NULL DEFAULT 0,
  payload     TEXT NOT NULL,
  version     INTEGER NOT NULL,
  checksum    TEXT NOT NULL,
  updated_hlc INTEGER NOT NULL
);
CREATE INDEX prices_product ON prices (product_id, valid_from);

CREATE TABLE reports (
  key         TEXT PRIMARY KEY,
  payload     TEXT NOT NULL,
  version     INTEGER NOT NULL,
  checksum    TEXT NOT NULL,
  updated_hlc INTEGER NOT NULL
) WITHOUT ROWID;

-- Customers travel both ways. `payload` is the device's current document; `server_payload`,
-- `version` and `checksum` are what the server last confirmed (the merge base).
CREATE TABLE customers (
  pk             INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL DEFAULT '',
  phone          TEXT,
  email          TEXT,
  payload        TEXT NOT NULL,
  updated_hlc    INTEGER NOT NULL,
  version        INTEGER NOT NULL DEFAULT 0,
  server_payload TEXT,
  checksum       TEXT
);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_email ON customers (email);
CREATE VIRTUAL TABLE customers_fts USING fts5 (
  name, phone, email, content = 'customers', content_rowid = 'pk', prefix = '2 3'
);
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
  INSERT INTO customers_fts (rowid, name, phone, email)
  VALUES (new.pk, new.name, new.phone, new.email);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
  INSERT INTO customers_fts (customers_fts, rowid, name, phone, email)
  VALUES ('delete', old.pk, old.name, old.phone, old.email);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, phone, email ON customers BEGIN
  INSERT INTO customers_fts (customers_fts, rowid, name, phone, email)
  VALUES ('delete', old.pk, old.name, old.phone, old.email);
  INSERT INTO customers_fts (rowid, name, phone, email)
  VALUES (new.pk, new.name, new.phone, new.email);
END;
