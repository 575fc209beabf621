-- Schema v3: a product id's uniqueness moves from the column constraint to a named index,
-- `products_id`, so an initial catalog load can drop it like the other indexes and build it
-- once at the end. Maintained row by row, this index of random UUIDs outgrew SQLite's page
-- cache and rewrote one of its pages per record: most of a 1M-product first download.
-- SQLite cannot drop a column constraint, so the table is rebuilt; `pk` values are kept,
-- so the full-text index (keyed on `pk`) stays valid.
CREATE TABLE products_v3 (
  pk          INTEGER PRIMARY KEY,
  id          TEXT NOT NULL,
  sku         TEXT,
  barcode     TEXT,
  name        TEXT NOT NULL DEFAULT '',
  payload     TEXT NOT NULL,
  version     INTEGER NOT NULL,
  checksum    TEXT NOT NULL,
  updated_hlc INTEGER NOT NULL
);
INSERT INTO products_v3 (pk, id, sku, barcode, name, payload, version, checksum, updated_hlc)
  SELECT pk, id, sku, barcode, name, payload, version, checksum, updated_hlc FROM products;
-- Drops the old indexes and triggers with it; the full-text table is separate and kept.
DROP TABLE products;
ALTER TABLE products_v3 RENAME TO products;
CREATE UNIQUE INDEX products_id ON products (id);
CREATE INDEX products_barcode ON products (barcode);
CREATE INDEX products_sku ON products (sku);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products
WHEN old.name IS NOT new.name BEGIN
  INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
  INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;
