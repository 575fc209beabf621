//! Encryption at rest over a database's whole life: rotating the key of an open database
//! (`rekey`), encrypting a plain one that an older app version created (`encrypt_in_place`),
//! and writing a consistent copy for support staff (`export_copy`). SQLCipher's own
//! statements do the work (`PRAGMA rekey`, `sqlcipher_export`); this module makes them safe:
//! keys are checked before anything is touched, and a new file is always written beside its
//! target, flushed, and renamed over it in one step, so a crash leaves the old file or the
//! new one, never half of either. Keys travel only as bound parameters or pragma values,
//! never in a log line or an error message.

use crate::error::{Error, Result};
use crate::store::migrations;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

/// The schema name a copy is attached under while it is written.
const COPY_SCHEMA: &str = "pos_sync_copy";

/// Refuses an empty key: SQLCipher would treat it as "no key" and write a plain file.
pub fn check_key(field: &str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_field(
            field,
            format!("the encryption key '{field}' is empty; nothing was changed"),
        ));
    }
    Ok(())
}

/// Fails with `NotConfigured` when this build has no SQLCipher (cargo feature `encryption`),
/// so nothing ever believes a plain file is encrypted.
pub fn require_sqlcipher(conn: &Connection) -> Result<()> {
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none() {
        return Err(Error::NotConfigured(
            "encryption needs a build of pos-sync with SQLCipher (cargo feature `encryption`); nothing was changed".into(),
        ));
    }
    Ok(())
}

/// Re-encrypts every page of the database open on `writer` under `new_key`, in one write
/// transaction (a crash leaves it wholly under the old key or wholly under the new one),
/// then checkpoints so the file itself, not only its log, is under the new key. The caller
/// makes sure no other connection of this process uses the old key meanwhile.
pub fn rekey(writer: &Connection, new_key: &str) -> Result<()> {
    writer.pragma_update(None, "rekey", new_key)?;
    writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Encrypts the plain database at `path` under `key`, in place: a `sqlcipher_export` into a
/// sibling file (`<name>.encrypting`), flushed, then renamed over the original. Refuses an
/// encrypted or damaged file, a schema newer than this build, and a file that another
/// connection (in any process) has open. A leftover sibling from an earlier crash is
/// discarded first: until the rename, the plain file is the database.
pub fn encrypt_in_place(path: &Path, key: &str) -> Result<()> {
    check_key("key", key)?;
    let conn = open_existing(path)?;
    require_sqlcipher(&conn)?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::invalid(format!(
            "'{}' is already encrypted, or is not a database; nothing was changed",
            path.display()
        )),
        _ => Error::from(e),
    })?;
    migrations::check_supported(&conn)?;
    take_sole_access(&conn, path)?;
    write_beside(path, "encrypting", |partial| copy_into(&conn, partial, key))?;
    log::info!("encrypted the device database in place");
    Ok(())
}

/// Fails unless no other connection (in any process) has the database at `path` open, for
/// operations that would break one that had (rotating the key from a support tool). Leaves
/// the file in rollback-journal mode; the next open switches it back to WAL.
pub fn check_not_in_use(path: &Path, key: Option<&str>) -> Result<()> {
    let conn = open_existing(path)?;
    crate::store::unlock(&conn, key)?;
    take_sole_access(&conn, path)
}

/// Writes a consistent snapshot of the database open on `source` (a fresh read-write
/// connection of its own, already keyed) to `dest`, plain when `key` is `None`, else
/// encrypted under `key`. Written beside `dest` and renamed into place; never overwrites.
pub fn export_copy(
    source: &Connection,
    source_encrypted: bool,
    dest: &Path,
    key: Option<&str>,
) -> Result<()> {
    if let Some(key) = key {
        check_key("key", key)?;
    }
    if dest.exists() {
        return Err(Error::invalid_field(
            "destination_path",
            format!(
                "'{}' already exists; choose a new file (a copy never overwrites one)",
                dest.display()
            ),
        ));
    }
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::invalid_field(
            "destination_path",
            format!("the folder '{}' does not exist", folder.display()),
        ));
    }
    write_beside(dest, "partial", |partial| match (source_encrypted, key) {
        // Plain to plain needs no SQLCipher: SQLite's own snapshot copy.
        (false, None) => {
            let target = partial.to_str().ok_or_else(|| non_utf8(partial))?;
            source.execute("VACUUM INTO ?1", [target])?;
            Ok(())
        }
        (_, key) => {
            require_sqlcipher(source)?;
            copy_into(source, partial, key.unwrap_or(""))
        }
    })?;
    log::info!("wrote a support copy of the device database");
    Ok(())
}

/// A read-write connection to the database file at `path`, which must exist. CREATE is for
/// a copy attached to it later (attached files share the main one's flags).
pub(crate) fn open_existing(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::NotFound(format!(
            "no database at '{}'; nothing was changed",
            path.display()
        )));
    }
    Ok(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// Makes sure this connection is the only one on the file, and keeps it so: leaving WAL
/// mode needs every other connection closed (each WAL connection holds a shared lock on the
/// file for as long as it is open), then the exclusive locking mode keeps the lock it takes
/// until this connection closes.
fn take_sole_access(conn: &Connection, path: &Path) -> Result<()> {
    let in_use = || {
        Error::Database(format!(
            "'{}' is open in another engine or process; close it first (nothing was changed)",
            path.display()
        ))
    };
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                in_use()
            }
            _ => Error::from(e),
        })?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(in_use());
    }
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
        .map_err(|_| in_use())?;
    if sibling(path, "wal").exists() {
        // WAL mode was left, so its log was checkpointed and removed; one still there
        // belongs to someone else.
        return Err(in_use());
    }
    Ok(())
}

/// `sqlcipher_export` of the connection's main database into a new file at `partial`
/// under `key` (`""` for a plain copy), in one transaction, so the copy is one snapshot.
/// The schema version travels along (`sqlcipher_export` copies tables, not pragmas).
fn copy_into(conn: &Connection, partial: &Path, key: &str) -> Result<()> {
    let target = partial.to_str().ok_or_else(|| non_utf8(partial))?;
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {COPY_SCHEMA} KEY ?2"),
        [target, key],
    )?;
    let copied = (|| -> Result<()> {
        // The copy releases its file lock at DETACH whatever the main database does.
        conn.pragma_update(Some(COPY_SCHEMA), "locking_mode", "NORMAL")?;
        conn.execute_batch("BEGIN")?;
        let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        conn.query_row("SELECT sqlcipher_export(?1)", [COPY_SCHEMA], |_| Ok(()))?;
        conn.pragma_update(Some(COPY_SCHEMA), "user_version", version)?;
        let tables = |schema: &str| -> Result<i64> {
            Ok(conn.query_row(
                &format!("SELECT count(*) FROM {schema}.sqlite_schema"),
                [],
                |r| r.get(0),
            )?)
        };
        if tables(COPY_SCHEMA)? != tables("main")? {
            return Err(Error::Database(
                "the copy of the database is incomplete; nothing was replaced".into(),
            ));
        }
        conn.execute_batch("COMMIT")?;
        Ok(())
    })();
    if copied.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let detached = conn.execute(&format!("DETACH DATABASE {COPY_SCHEMA}"), []);
    copied?;
    detached?;
    Ok(())
}

/// Has `write` create the new file at `dest` + `suffix`, then puts it in place (`replace`).
/// What an earlier crash left there is removed first, what a failed `write` left after it
/// (a full disk), so only a complete file ever reaches `dest`.
fn write_beside(dest: &Path, suffix: &str, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let partial = sibling(dest, suffix);
    discard_leftover(&partial)?;
    if let Err(e) = write(&partial).and_then(|()| replace(&partial, dest)) {
        let _ = discard_leftover(&partial);
        return Err(e);
    }
    Ok(())
}

/// Flushes `partial`, renames it over `dest` (atomic on one file system), and flushes the
/// folder so the rename itself survives power loss.
fn replace(partial: &Path, dest: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| {
        Error::Database(format!("{what} '{}' failed: {e}", partial.display()))
    };
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("flushing", e))?;
    std::fs::rename(partial, dest).map_err(|e| io("renaming", e))?;
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("flushing the folder of", e))?;
    Ok(())
}

/// Removes what an interrupted copy left at `partial` (and its rollback journal).
fn discard_leftover(partial: &Path) -> Result<()> {
    for file in [partial.to_path_buf(), sibling(partial, "journal")] {
        match std::fs::remove_file(&file) {
            Ok(()) => log::info!("removed the leftover of an interrupted copy"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Database(format!(
                    "cannot remove the leftover '{}': {e}",
                    file.display()
                )))
            }
        }
    }
    Ok(())
}

/// `till.db` + `wal` = `till.db-wal` (SQLite's naming); other suffixes get a dot.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let separator = if matches!(suffix, "wal" | "shm" | "journal") {
        "-"
    } else {
        "."
    };
    let mut name = path.as_os_str().to_owned();
    name.push(separator);
    name.push(suffix);
    PathBuf::from(name)
}

fn non_utf8(path: &Path) -> Error {
    Error::invalid(format!("the path '{}' is not valid UTF-8", path.display()))
}
