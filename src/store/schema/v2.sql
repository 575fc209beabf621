-- Schema v2: a product's full-text entry is rewritten only when its name changes. Every
-- downloaded product upserts `name`, so `AFTER UPDATE OF name` fired for every changed
-- product (and FTS5 flushed its pending terms once per row) even when the name stayed.
DROP TRIGGER IF EXISTS products_fts_update;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products
WHEN old.name IS NOT new.name BEGIN
  INSERT INTO products_fts (products_fts, rowid, name) VALUES ('delete', old.pk, old.name);
  INSERT INTO products_fts (rowid, name) VALUES (new.pk, new.name);
END;
