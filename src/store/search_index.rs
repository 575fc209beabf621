//! The full-text indexes of product names and of customers, brought up to date once per
//! transaction. FTS5 writes its pending terms to disk whenever a later statement of the
//! transaction opens a savepoint, and every write to a table with full-text triggers opens
//! one (the triggers make it a multi-row write), so indexing row by row wrote a one-row
//! segment per changed record and merged them. The triggers (schema v5 and v6) note each
//! change instead, and `Store::write` applies the notes just before every commit.

use crate::error::Result;
use rusqlite::Connection;
use std::sync::OnceLock;

/// A full-text index over some columns of a table, and the table of its notes: `pk` and
/// `old_<column>` for each indexed column (all NULL for a row that was not indexed).
struct NotedIndex {
    fts: &'static str,
    notes: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    /// A column that is never NULL in the table: NULL in its `old_` note means a new row.
    never_null: &'static str,
    sql: OnceLock<[String; 4]>,
}

static PRODUCTS: NotedIndex = NotedIndex {
    fts: "products_fts",
    notes: "products_fts_pending",
    table: "products",
    columns: &["name"],
    never_null: "name",
    sql: OnceLock::new(),
};

static CUSTOMERS: NotedIndex = NotedIndex {
    fts: "customers_fts",
    notes: "customers_fts_pending",
    table: "customers",
    columns: &["name", "phone", "email"],
    never_null: "name",
    sql: OnceLock::new(),
};

impl NotedIndex {
    /// Whether there are notes; the index entries to delete; the entries to insert; the
    /// notes' removal.
    fn sql(&self) -> &[String; 4] {
        self.sql.get_or_init(|| {
            let (fts, notes, table) = (self.fts, self.notes, self.table);
            let columns = self.columns.join(", ");
            let old: Vec<String> = self.columns.iter().map(|c| format!("old_{c}")).collect();
            [
                format!("SELECT EXISTS (SELECT 1 FROM {notes})"),
                // Per row, the index holds what its first note saw.
                format!(
                    "INSERT INTO {fts} ({fts}, rowid, {columns}) SELECT 'delete', pk, {} \
                     FROM {notes} WHERE seq IN (SELECT min(seq) FROM {notes} GROUP BY pk) \
                     AND old_{} IS NOT NULL",
                    old.join(", "),
                    self.never_null
                ),
                // And must hold what the table has now (nothing if the row is gone).
                format!(
                    "INSERT INTO {fts} (rowid, {columns}) SELECT pk, {columns} FROM {table} \
                     WHERE pk IN (SELECT pk FROM {notes})"
                ),
                format!("DELETE FROM {notes}"),
            ]
        })
    }

    fn apply_notes(&self, tx: &Connection) -> Result<()> {
        let [any, delete, insert, clear] = self.sql();
        if !tx
            .prepare_cached(any)?
            .query_row([], |r| r.get::<_, bool>(0))?
        {
            return Ok(());
        }
        for sql in [delete, insert, clear] {
            tx.prepare_cached(sql)?.execute([])?;
        }
        Ok(())
    }
}

/// Applies the changes the triggers noted to both full-text indexes, in the caller's
/// transaction (`Store::write` runs it before every commit).
pub fn apply_notes(tx: &Connection) -> Result<()> {
    PRODUCTS.apply_notes(tx)?;
    CUSTOMERS.apply_notes(tx)
}

#[cfg(test)]
mod tests {
    use crate::store::test_support::temp_store;
    use crate::store::{catalog, Durability, Store};
    use rusqlite::Connection;

    /// Notes a writer outside the engine committed (it does not apply them) are applied
    /// when the engine opens the file, so search finds what that writer wrote.
    #[test]
    fn notes_left_by_another_writer_are_applied_on_open() {
        let (_dir, store) = temp_store();
        let path = store.path().to_owned();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO products (id, name, payload, version, checksum, updated_hlc) \
             VALUES ('p1', 'Oat Milk', '{}', 1, 'c', 1)",
            [],
        )
        .unwrap();
        let noted: i64 = conn
            .query_row("SELECT count(*) FROM products_fts_pending", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(noted, 1, "the trigger noted the insert");
        drop(conn);
        let store = Store::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        let found = store
            .read(|c| catalog::search_products(c, "oat", 10))
            .unwrap();
        assert_eq!(found.len(), 1);
        crate::store::test_support::assert_product_search_intact(&store);
    }
}
