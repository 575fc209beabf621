//! The device database: the only code that speaks SQL. One writer connection and a small
//! pool of readers in WAL mode. Functions that write take a `&Transaction`, functions that
//! only read take a `&Connection`, so a caller composes several writes into one atomic unit.

pub mod catalog;
pub mod check;
pub mod conflicts;
pub mod customers;
pub mod encryption;
pub mod history;
pub mod migrations;
pub mod pos;
pub mod quarantine;
pub mod queue;
pub mod search_index;
pub mod state;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// The most rows one search or list call returns, whatever `limit` the app asks for (the
/// plugin refuses a larger one; the bindings get this many).
pub const MAX_LIST_LIMIT: i64 = 1000;

/// How hard a commit works to survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Durability {
    /// `synchronous=FULL`: a committed sale survives power loss (the default for tills).
    Full,
    /// `synchronous=NORMAL`: survives an app crash; the last commits may be lost on power loss.
    Normal,
}

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers kept open; more concurrent readers than this wait for one.
const MAX_READERS: usize = 4;

pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Reads go through the writer: an in-memory database is private to its connection,
    /// and a read-only inspection needs no pool.
    single_connection: bool,
    /// The SQLCipher key, applied first thing on every connection (readers included). Reads
    /// hold it shared for their whole duration, so a key rotation (which holds it exclusively)
    /// never runs while a reader still uses the old key.
    key: RwLock<Option<String>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` (`:memory:` for a throwaway one),
    /// runs pending migrations, and returns queue rows left SYNCING by a crash to PENDING.
    pub fn open(path: &str, durability: Durability) -> Result<Store> {
        Store::open_with_key(path, durability, None)
    }

    /// `open` for a database encrypted with SQLCipher under `key` (see `unlock`).
    pub fn open_with_key(path: &str, durability: Durability, key: Option<&str>) -> Result<Store> {
        let in_memory = path == ":memory:";
        let mut writer = if in_memory {
            Connection::open_in_memory()?
        } else {
            // In a browser the file lives in OPFS (web/), which has no folders to check.
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|_| !cfg!(target_arch = "wasm32"))
            {
                if !parent.as_os_str().is_empty() && !parent.exists() {
                    return Err(Error::invalid(format!(
                        "the folder for the database '{}' does not exist; create it first",
                        parent.display()
                    )));
                }
            }
            Connection::open(path)?
        };
        unlock(&writer, key)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        // Refuse a newer schema before touching anything, journal mode included.
        migrations::check_supported(&writer)?;
        configure(&writer, durability)?;
        // A migration that rebuilds a table sorts its index keys: in temporary files where
        // SQLite has a folder for them (v3's rebuild of 1M products peaks at 97 MB in RAM,
        // 22 MB with files). Changing `temp_store` afterwards, outside a transaction, also
        // closes the temp schema an ALTER TABLE opened (setting the value it already has
        // does nothing), so the initial catalog load can still switch to temporary files
        // inside its transaction.
        let sort_on_disk = sqlite_temp_dir_exists();
        if sort_on_disk {
            writer.pragma_update(None, "temp_store", "FILE")?;
        }
        migrations::migrate(&mut writer)?;
        if !sort_on_disk {
            writer.pragma_update(None, "temp_store", "DEFAULT")?;
        }
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let recovered = queue::recover_interrupted(&tx)?;
        // An initial catalog load that a crash interrupted: build what it deferred.
        if catalog::bulk_load_pending(&tx)? {
            log::info!("finishing an interrupted initial catalog load");
            catalog::finish_bulk_load(&tx)?;
        }
        // Search-index notes a writer outside the engine committed without applying them.
        search_index::apply_notes(&tx)?;
        tx.commit()?;
        if recovered > 0 {
            log::info!("returned {recovered} interrupted queue rows to PENDING");
        }
        Ok(Store {
            path: PathBuf::from(path),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            // OPFS (sahpool) gives one connection per file: a browser reads through the writer.
            single_connection: in_memory || cfg!(target_arch = "wasm32"),
            key: RwLock::new(key.map(str::to_owned)),
        })
    }

    /// Opens an existing database for inspection only: no migration, no recovery, no
    /// writes, so support tools can look at a till's database while the app runs (or at a
    /// damaged copy).
    pub fn open_read_only(path: &str) -> Result<Store> {
        Store::open_read_only_with_key(path, None)
    }

    /// `open_read_only` for a database encrypted under `key`.
    pub fn open_read_only_with_key(path: &str, key: Option<&str>) -> Result<Store> {
        if !Path::new(path).exists() {
            return Err(Error::NotFound(format!("no database at '{path}'")));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        unlock(&conn, key)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrations::check_supported(&conn)?;
        Ok(Store {
            path: PathBuf::from(path),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            single_connection: true,
            key: RwLock::new(key.map(str::to_owned)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer: all of it commits, or none. The
    /// product and customer search indexes catch up with the transaction's changes just
    /// before it commits (`search_index::apply_notes`).
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        search_index::apply_notes(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` on a reader connection (a consistent snapshot for the duration of `f`
    /// when `f` opens a transaction; single statements are always consistent).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let key = self.key.read().unwrap_or_else(|p| p.into_inner());
        if self.single_connection {
            let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            return f(&conn);
        }
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.open_reader(key.as_deref())?,
        };
        let result = f(&conn);
        // Back in the pool before the key is released: a rotation empties the pool.
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < MAX_READERS {
            readers.push(conn);
        }
        result
    }

    fn open_reader(&self, key: Option<&str>) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        unlock(&conn, key)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        Ok(conn)
    }

    /// Re-encrypts the database under `new_key` (see `encryption::rekey`). Waits for running
    /// reads and writes, then closes the pooled readers (they hold the old key); the next
    /// read opens a new one under the new key. `NotConfigured` for a plain database.
    pub fn rotate_key(&self, new_key: &str) -> Result<()> {
        encryption::check_key("new_key", new_key)?;
        let mut key = self.key.write().unwrap_or_else(|p| p.into_inner());
        match key.as_deref() {
            None => {
                return Err(Error::NotConfigured(
                    "the database is not encrypted, so it has no key to rotate; encrypt it first (encrypt_database)".into(),
                ))
            }
            Some(current) if current == new_key => return Ok(()),
            Some(_) => {}
        }
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        encryption::rekey(&writer, new_key)?;
        *key = Some(new_key.to_owned());
        log::info!("the database encryption key was rotated");
        Ok(())
    }

    /// Writes a consistent copy of the database to `dest` (plain, or under `copy_key`) for
    /// support, from a connection of its own so the till keeps working meanwhile.
    pub fn export_copy(&self, dest: &Path, copy_key: Option<&str>) -> Result<()> {
        if self.path.as_os_str() == ":memory:" {
            return Err(Error::invalid("an in-memory database has no file to copy"));
        }
        let key = self.key.read().unwrap_or_else(|p| p.into_inner());
        let conn = encryption::open_existing(&self.path)?;
        unlock(&conn, key.as_deref())?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        encryption::export_copy(&conn, key.is_some(), dest, copy_key)
    }

    /// The key the database is encrypted under now (after any rotation).
    pub fn current_key(&self) -> Option<String> {
        self.key.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A handle that interrupts whatever statement the writer is running (used by `cancel`).
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_interrupt_handle()
    }
}

/// Applies an encryption key to a fresh connection, before any other statement (SQLCipher
/// requires it), and checks it at once so a wrong key is a clear error rather than a
/// "damaged file" later. Refuses a key when this build has no SQLCipher (cargo feature
/// `encryption`): the app must never believe a plain file is encrypted.
pub fn unlock(conn: &Connection, key: Option<&str>) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    encryption::check_key("encryption_key", key)?;
    encryption::require_sqlcipher(conn)?;
    conn.pragma_update(None, "key", key)?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Error::Database(
                "the database cannot be read with this encryption key: the key is wrong, or the file is not encrypted or is damaged".into(),
            ),
            _ => Error::from(e),
        })?;
    Ok(())
}

/// Writes a downloaded row with `update` when the row exists and its indexed columns keep
/// their values (the usual case: a new price, a new description, new loyalty points), else
/// with `upsert`; both statements take the same parameters. SQLite rewrites an index entry
/// whenever its column is assigned, even to the value it had, so a plain upsert rewrote one
/// random page of the barcode index per product (half the pages a page of price changes
/// committed).
pub(crate) fn update_else_upsert(
    tx: &Transaction,
    update: &str,
    upsert: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<()> {
    if tx.prepare_cached(update)?.execute(params)? == 0 {
        tx.prepare_cached(upsert)?.execute(params)?;
    }
    Ok(())
}

/// Whether SQLite's unix VFS finds a directory for temporary files (it looks at
/// `SQLITE_TMPDIR`, `TMPDIR`, /var/tmp, /usr/tmp and /tmp, in this order; Android apps
/// usually have none of them).
pub(crate) fn sqlite_temp_dir_exists() -> bool {
    let from_env = ["SQLITE_TMPDIR", "TMPDIR"]
        .into_iter()
        .filter_map(std::env::var_os)
        .map(std::path::PathBuf::from);
    let fixed = ["/var/tmp", "/usr/tmp", "/tmp"].map(std::path::PathBuf::from);
    from_env
        .chain(fixed)
        .any(|dir| std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && !m.permissions().readonly()))
}

/// WAL natively; a rollback journal in a browser, where OPFS has no shared memory for
/// WAL's index (and there is one connection anyway).
const JOURNAL_MODE: &str = if cfg!(target_arch = "wasm32") {
    "truncate"
} else {
    "wal"
};

fn configure(conn: &Connection, durability: Durability) -> Result<()> {
    let mode: String =
        conn.query_row(&format!("PRAGMA journal_mode = {JOURNAL_MODE}"), [], |r| {
            r.get(0)
        })?;
    if mode != JOURNAL_MODE && mode != "memory" {
        log::warn!(
            "database journal mode is {mode}, not {JOURNAL_MODE}: readers will block the writer"
        );
    }
    let sync = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Android has no usable temp directory.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Reads a JSON document stored by the engine. Stored documents were validated on the way
/// in, so a parse failure means the file was tampered with or damaged.
pub(crate) fn parse_stored(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::Database(format!(
            "a stored document is not valid JSON ({e}); run `pos-sync --db PATH check`"
        ))
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fresh database in a temporary folder (a real file, so readers are real too).
    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let store = Store::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        (dir, store)
    }

    /// A record as the server sends it: `payload` and its checksum (a tombstone when null).
    pub fn server_record(
        entity_type: crate::model::EntityType,
        id: &str,
        version: i64,
        payload: serde_json::Value,
    ) -> crate::protocol::ServerRecord {
        crate::protocol::ServerRecord {
            entity_type,
            entity_id: id.into(),
            version,
            deleted: payload.is_null(),
            updated_hlc: 1,
            checksum: crate::protocol::payload_checksum(&payload),
            payload,
        }
    }

    /// The catalog's schema objects (products, its full-text index and an initial load's
    /// tombstone table) as (name, SQL), to compare a database with a fresh one.
    pub fn catalog_schema(store: &Store) -> Vec<(String, String)> {
        store
            .read(|c| {
                let mut stmt = c.prepare(
                    "SELECT name, sql FROM sqlite_master WHERE tbl_name IN \
                     ('products', 'products_fts', 'products_load_deleted') \
                     AND sql IS NOT NULL ORDER BY name",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .unwrap()
    }

    /// FTS5's own check that the products' full-text index matches the table.
    pub fn assert_product_search_intact(store: &Store) {
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO products_fts (products_fts) VALUES ('integrity-check')",
                    [],
                )?;
                Ok(())
            })
            .expect("the full-text index matches the products table");
    }
}
