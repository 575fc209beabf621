-- Schema v5: the full-text index of product names is brought up to date once per
-- transaction instead of row by row. FTS5 writes its pending terms to disk whenever a later
-- statement of the transaction opens a savepoint, and every write to `products` opens one
-- (its triggers make it a multi-row write): a page of 1,000 downloaded changes with 100
-- renames wrote 100 one-row segments and merged them, a fifth of the page's apply. The
-- triggers now note what changed in `products_fts_pending`, and every write transaction
-- applies the notes to `products_fts` before it commits (`search_index::apply_notes`), so
-- the table is empty between transactions.
CREATE TABLE products_fts_pending (
  seq      INTEGER PRIMARY KEY,
  pk       INTEGER NOT NULL,
  -- The name the index held for `pk` before this change; NULL for a new row.
  old_name TEXT
);
DROP TRIGGER products_fts_insert;
DROP TRIGGER products_fts_delete;
DROP TRIGGER products_fts_update;
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (new.pk, NULL);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (old.pk, old.name);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name ON products
WHEN old.name IS NOT new.name BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (old.pk, old.name);
END;
