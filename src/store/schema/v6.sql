-- Schema v6: customers get what v2 and v5 gave products. Their full-text entry was
-- rewritten by every update (a new loyalty balance, a confirmed upload), and FTS5 flushed
-- its pending terms once per row; a page of customer changes now writes the index only for
-- customers whose name, phone or e-mail changed, and once, when the transaction commits
-- (`search_index::apply_notes`). The table is empty between transactions.
CREATE TABLE customers_fts_pending (
  seq       INTEGER PRIMARY KEY,
  pk        INTEGER NOT NULL,
  -- What the index held for `pk` before this change; all NULL for a new row (a
  -- customer's name is never NULL).
  old_name  TEXT,
  old_phone TEXT,
  old_email TEXT
);
DROP TRIGGER customers_fts_insert;
DROP TRIGGER customers_fts_delete;
DROP TRIGGER customers_fts_update;
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
  INSERT INTO customers_fts_pending (pk) VALUES (new.pk);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
  INSERT INTO customers_fts_pending (pk, old_name, old_phone, old_email)
  VALUES (old.pk, old.name, old.phone, old.email);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, phone, email ON customers
WHEN old.name IS NOT new.name OR old.phone IS NOT new.phone OR old.email IS NOT new.email
BEGIN
  INSERT INTO customers_fts_pending (pk, old_name, old_phone, old_email)
  VALUES (old.pk, old.name, old.phone, old.email);
END;
