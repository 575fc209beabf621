//! `pos-sync`: inspect and operate a till's device database (for support staff).
//! Human-readable output by default, `--json` for machines. Inspection commands open the
//! database read-only, so they are safe while the app runs.

use pos_sync::error::{Error, Result};
use pos_sync::model::{EntityType, SyncState};
use pos_sync::store::queue::{self, HealthThresholds};
use pos_sync::store::{
    catalog, check, conflicts, encryption, history, quarantine, Durability, Store,
};
use serde::Serialize;
use std::process::ExitCode;

/// `println!` that ignores a closed stdout (`pos-sync ... | head` must not panic).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

const USAGE: &str = "\
pos-sync: inspect and operate a pos-sync device database

usage: pos-sync --db PATH [--json] COMMAND

commands:
  status                      queue counts by state and entity type, and the health level
  queue [--state S] [--type T] [--limit N]
                              queued changes in sync order (S: pending, syncing, synced,
                              failed, conflict; T: sale, stock_adjustment, customer)
  log [--limit N]             recent sync runs and their steps
  audit [--limit N]           recent audit trail entries
  conflicts                   conflicts waiting for manual review
  quarantine                  downloaded records the device could not use, set aside until
                              the server sends a usable version (--json includes payloads)
  check                       SQLite integrity check plus the queue's invariants;
                              exits 1 when something is wrong
  import products FILE.json   load a JSON array of products into the catalog
  export-unsynced             print every change not yet synced as JSON lines (works on a
                              damaged database as far as it can be read)
  encrypt                     encrypt a plain database in place under the new key (the app
                              must be closed; the new key then opens it)
  rotate-key                  re-encrypt an encrypted database under the new key (the app
                              must be closed)
  export-support-copy DEST    write a consistent copy of the database to the new file DEST,
                              plain, or under POS_SYNC_SUPPORT_KEY when it is set; the copy
                              holds customer data (names, phones, e-mails) and every sale,
                              but no bearer token

Keys never go on the command line (other users of the machine can read it):
  POS_SYNC_DB_KEY             the key of an encrypted database (EngineConfig.encryption_key)
  POS_SYNC_NEW_DB_KEY         the new key for encrypt and rotate-key; when it is not set,
                              the first line of standard input
  POS_SYNC_SUPPORT_KEY        the key of a support copy (none: a plain copy)
";

struct Args {
    db: String,
    json: bool,
    command: Vec<String>,
}

fn parse_args() -> std::result::Result<Args, String> {
    let mut db = None;
    let mut json = false;
    let mut command = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = Some(args.next().ok_or("--db needs a path")?),
            "--json" => json = true,
            "-h" | "--help" => return Err(String::new()),
            _ => command.push(arg),
        }
    }
    let db = db.ok_or("missing --db PATH")?;
    if command.is_empty() {
        return Err("missing a command".into());
    }
    Ok(Args { db, json, command })
}

/// The value of `--name V` in a command's arguments.
fn option(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn limit(args: &[String]) -> std::result::Result<u32, String> {
    option(args, "--limit")
        .map(|v| {
            v.parse()
                .map_err(|_| format!("--limit must be a number, got '{v}'"))
        })
        .unwrap_or(Ok(50))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(value).expect("serializable")
        );
    } else {
        human(value);
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn run(args: &Args) -> Result<ExitCode> {
    // The key of an encrypted database comes from the environment, never the command line
    // (which other users of the machine can see).
    let key = std::env::var("POS_SYNC_DB_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let cmd = &args.command;
    let rest = &cmd[1..];
    let now = chrono::Utc::now().timestamp_millis();
    match cmd[0].as_str() {
        "status" => {
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let stats = store.read(|c| queue::stats(c, &HealthThresholds::default(), now))?;
            print(args.json, &stats, |s| {
                out!(
                    "health: {:?}{}",
                    s.health,
                    if s.health_reason.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", s.health_reason)
                    }
                );
                out!(
                    "pending {}  syncing {}  synced {}  failed {} (rejected {})  conflict {}",
                    s.pending,
                    s.syncing,
                    s.synced,
                    s.failed,
                    s.rejected,
                    s.conflict
                );
                if let Some(age) = s.oldest_unsynced_age_ms {
                    out!("oldest unsynced change: {} s old", age / 1000);
                }
                out!("bytes waiting: {}", s.bytes_pending);
                out!(
                    "{:<18} {:>8} {:>8} {:>8} {:>8} {:>9}",
                    "entity",
                    "pending",
                    "syncing",
                    "synced",
                    "failed",
                    "conflict"
                );
                for e in &s.by_entity {
                    out!(
                        "{:<18} {:>8} {:>8} {:>8} {:>8} {:>9}",
                        e.entity_type.as_str(),
                        e.pending,
                        e.syncing,
                        e.synced,
                        e.failed,
                        e.conflict
                    );
                }
            });
        }
        "queue" => {
            let state = option(rest, "--state")
                .map(|s| {
                    SyncState::parse(&s)
                        .ok_or_else(|| Error::invalid(format!("unknown state '{s}'")))
                })
                .transpose()?;
            let entity = option(rest, "--type")
                .map(|t| {
                    t.parse::<EntityType>()
                        .map_err(|e| Error::invalid(e.to_string()))
                })
                .transpose()?;
            let limit = limit(rest).map_err(Error::invalid)?;
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let items = store.read(|c| queue::items(c, state, entity, limit))?;
            print(args.json, &items, |items| {
                out!(
                    "{:<36} {:<16} {:<9} {:>3}  {:<19}  last error",
                    "change id",
                    "entity",
                    "state",
                    "try",
                    "created"
                );
                for i in items {
                    out!(
                        "{:<36} {:<16} {:<9} {:>3}  {:<19}  {}",
                        i.change_id,
                        format!("{} {}", i.entity_type.as_str(), i.entity_id)
                            .chars()
                            .take(16)
                            .collect::<String>(),
                        i.status.as_str(),
                        i.attempts,
                        time(i.created_at_ms),
                        i.last_error.as_deref().unwrap_or("")
                    );
                }
            });
        }
        "log" => {
            let limit = limit(rest).map_err(Error::invalid)?;
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let log = store.read(|c| history::recent_log(c, limit))?;
            print(args.json, &log, |log| {
                for l in log {
                    out!(
                        "{}  {:<8} {:<16} {:<8} {:>6} records  {}{}",
                        time(l.started_at_ms),
                        l.run_id.chars().take(8).collect::<String>(),
                        l.sync_type,
                        l.direction,
                        l.records_count,
                        l.status,
                        l.error_message
                            .as_deref()
                            .map(|e| format!(" — {e}"))
                            .unwrap_or_default()
                    );
                }
            });
        }
        "audit" => {
            let limit = limit(rest).map_err(Error::invalid)?;
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let audit = store.read(|c| history::recent_audit(c, limit))?;
            print(args.json, &audit, |audit| {
                for a in audit {
                    out!(
                        "{}  {:<14} {} {} v{}",
                        time(a.at_ms),
                        a.event,
                        a.entity_type.as_str(),
                        a.entity_id,
                        a.version.unwrap_or(0)
                    );
                }
            });
        }
        "conflicts" => {
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let open = store.read(conflicts::open)?;
            print(args.json, &open, |open| {
                if open.is_empty() {
                    out!("no conflicts waiting for review");
                }
                for c in open {
                    out!(
                        "{}  {} {}: {}",
                        c.conflict_id,
                        c.entity_type.as_str(),
                        c.entity_id,
                        c.reason
                    );
                    out!("  device: {}\n  server: {}", c.local_json, c.server_json);
                }
            });
        }
        "quarantine" => {
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let held = store.read(quarantine::list)?;
            print(args.json, &held, |held| {
                if held.is_empty() {
                    out!("no downloaded records in quarantine");
                }
                for r in held {
                    out!(
                        "{} {} v{} (seen {}x, first {}, last {}): {}",
                        r.entity_type,
                        // An id may itself be the problem: shown escaped.
                        r.entity_id.escape_debug(),
                        r.version,
                        r.times_seen,
                        time(r.first_seen_at_ms),
                        time(r.last_seen_at_ms),
                        r.reason
                    );
                }
            });
        }
        "check" => {
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            let report = store.read(check::integrity_check)?;
            print(args.json, &report, |r| {
                if r.ok {
                    out!("ok: the database and the sync queue are consistent");
                }
                for p in &r.problems {
                    out!("problem: {p}");
                }
                for w in &r.warnings {
                    out!("note: {w}");
                }
            });
            if !report.ok {
                return Ok(ExitCode::from(1));
            }
        }
        "import" => {
            let (Some("products"), Some(file)) = (rest.first().map(String::as_str), rest.get(1))
            else {
                return Err(Error::invalid("usage: import products FILE.json"));
            };
            let json = std::fs::read_to_string(file)
                .map_err(|e| Error::invalid(format!("cannot read '{file}': {e}")))?;
            let store = Store::open_with_key(&args.db, Durability::Normal, key.as_deref())?;
            let count = store.write(|tx| catalog::import_products(tx, &json))?;
            print(args.json, &serde_json::json!({ "imported": count }), |_| {
                out!("imported {count} products");
            });
        }
        "export-unsynced" => export_unsynced(&args.db, key.as_deref())?,
        "encrypt" => {
            encryption::encrypt_in_place(std::path::Path::new(&args.db), &new_key()?)?;
            print(args.json, &serde_json::json!({ "encrypted": true }), |_| {
                out!("encrypted; open it with the new key from now on");
            });
        }
        "rotate-key" => {
            let Some(current) = key.as_deref() else {
                return Err(Error::invalid(
                    "rotate-key needs the current key in POS_SYNC_DB_KEY",
                ));
            };
            let new_key = new_key()?;
            // The app would be left holding the old key: refuse while anything has it open.
            encryption::check_not_in_use(std::path::Path::new(&args.db), Some(current))?;
            let store = Store::open_with_key(&args.db, Durability::Full, Some(current))?;
            store.rotate_key(&new_key)?;
            print(args.json, &serde_json::json!({ "rotated": true }), |_| {
                out!("the key was rotated; open it with the new key from now on");
            });
        }
        "export-support-copy" => {
            let Some(dest) = rest.first() else {
                return Err(Error::invalid("usage: export-support-copy DEST"));
            };
            let copy_key = std::env::var("POS_SYNC_SUPPORT_KEY").ok();
            let store = Store::open_read_only_with_key(&args.db, key.as_deref())?;
            store.export_copy(std::path::Path::new(dest), copy_key.as_deref())?;
            let under = if copy_key.is_some() {
                "encrypted under POS_SYNC_SUPPORT_KEY"
            } else {
                "plain"
            };
            print(
                args.json,
                &serde_json::json!({ "copy": dest, "encrypted": copy_key.is_some() }),
                |_| {
                    out!(
                        "wrote a {under} copy to {dest}; it holds customer data, handle it as such"
                    )
                },
            );
        }
        other => {
            return Err(Error::invalid(format!(
                "unknown command '{other}'; run pos-sync --help"
            )));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The new key of `encrypt` and `rotate-key`: `POS_SYNC_NEW_DB_KEY`, else the first line of
/// standard input (so a script can pipe it from a secret store).
fn new_key() -> Result<String> {
    if let Ok(key) = std::env::var("POS_SYNC_NEW_DB_KEY") {
        return Ok(key);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid(format!("cannot read the new key from standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Prints every unsynced change as one JSON object per line. A damaged page must cost only
/// the rows on it: the row ids come from the queue's index (no table page is read), then
/// each row is read on its own, so an unreadable page skips its rows (counted on stderr)
/// and the export goes on. If the index is damaged too, every row id up to the largest is
/// tried instead.
fn export_unsynced(path: &str, key: Option<&str>) -> Result<()> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    pos_sync::store::unlock(&conn, key)?;
    let ids: rusqlite::Result<Vec<i64>> = conn
        .prepare(
            "SELECT rowid FROM sync_queue INDEXED BY sync_queue_claim \
             WHERE status IN ('PENDING', 'SYNCING', 'FAILED', 'CONFLICT') ORDER BY priority, seq",
        )
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    let (ids, from_index) = match ids {
        Ok(ids) => (ids, true),
        Err(e) => {
            eprintln!("the queue's index cannot be read ({e}); trying every row");
            let max: i64 =
                conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM sync_queue", [], |r| {
                    r.get(0)
                })?;
            ((1..=max).collect(), false)
        }
    };
    let mut stmt = conn.prepare(
        "SELECT id, entity_type, entity_id, action, status, payload, created_at FROM sync_queue \
         WHERE rowid = ?1",
    )?;
    let (mut exported, mut unreadable) = (0, 0);
    for rowid in ids {
        let record = stmt.query_row([rowid], |row| {
            let status: String = row.get(4)?;
            let payload: String = row.get(5)?;
            Ok((status.clone(), serde_json::json!({
                "change_id": row.get::<_, String>(0)?,
                "entity_type": row.get::<_, String>(1)?,
                "entity_id": row.get::<_, String>(2)?,
                "action": row.get::<_, String>(3)?,
                "status": status,
                "payload": serde_json::from_str::<serde_json::Value>(&payload).unwrap_or(serde_json::Value::String(payload)),
                "created_at": row.get::<_, i64>(6)?,
            })))
        });
        match record {
            Ok((status, _)) if status == "SYNCED" => {}
            Ok((_, v)) => {
                out!("{v}");
                exported += 1;
            }
            Err(rusqlite::Error::QueryReturnedNoRows) if !from_index => {}
            Err(_) => unreadable += 1,
        }
    }
    eprintln!(
        "exported {exported} unsynced changes; {unreadable} could not be read{}",
        if from_index || unreadable == 0 {
            ""
        } else {
            " (some of them may have been synced already)"
        }
    );
    Ok(())
}
