//! Power-loss campaign: what a till keeps when the power goes, not just the process.
//!
//! A SIGKILL (crash.rs) loses nothing the kernel already has; a power cut also loses every
//! write the disk was never asked to make durable. To model that, a child process (this test
//! binary, re-run as `power_loss::child_process_entry`) registers [`vfs`] as SQLite's default
//! VFS: it writes through to the real files but remembers, per file, the bytes each write
//! replaced since that file's last `xSync`. At the cut it puts those bytes back and restores
//! each file's last synced length — the disk as it was at the last flush — then exits at once.
//! The cut comes right after a sale was reported recorded, or inside the N-th `xSync` (before
//! it reaches the disk: a commit on its way). The parent then opens the database normally.
//!
//! What the model leaves out: the directory entries of new files (treated as durable) and torn
//! sector writes (a write is lost or kept whole). SQLite's own tests cover both.

use crate::rig;
use pos_sync::store::Durability;
use pos_sync::{EngineConfig, SyncEngine};
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const ENV_DB: &str = "POS_SYNC_POWER_CHILD_DB";
const ENV_DURABILITY: &str = "POS_SYNC_POWER_CHILD_DURABILITY";
const ENV_SALES: &str = "POS_SYNC_POWER_CHILD_SALES";
const ENV_CUT_AT_SYNC: &str = "POS_SYNC_POWER_CHILD_CUT_AT_SYNC";
const ENV_LIFE: &str = "POS_SYNC_POWER_CHILD_LIFE";
/// The child's exit code after a power cut.
const CUT_EXIT: i32 = 77;

/// The child: runs only when the parent sets the environment; otherwise a no-op test.
#[test]
fn child_process_entry() {
    let (Ok(db), Ok(durability), Ok(sales), Ok(cut_at), Ok(life)) = (
        std::env::var(ENV_DB),
        std::env::var(ENV_DURABILITY),
        std::env::var(ENV_SALES),
        std::env::var(ENV_CUT_AT_SYNC),
        std::env::var(ENV_LIFE),
    ) else {
        return;
    };
    vfs::install(cut_at.parse().unwrap());
    let mut config = EngineConfig::new(&db, rig::STORE, "R1", rig::DEVICE);
    config.durability = Some(match durability.as_str() {
        "full" => Durability::Full,
        _ => Durability::Normal,
    });
    let engine = SyncEngine::open(config).expect("the database opens after a power cut");
    let mut out = std::io::stdout().lock();
    for n in 0..sales.parse::<usize>().unwrap() {
        let id = format!("L{life}-{n}");
        let receipt = engine
            .record_sale(rig::sale(&id, "p1", 1))
            .expect("a sale is recorded");
        writeln!(out, "REC {id} {}", receipt.receipt_number).unwrap();
        out.flush().unwrap();
    }
    // Every sale was reported recorded: the power goes now.
    vfs::power_cut();
}

/// One life of the child: the sales it reported recorded, and whether the power was cut.
struct Life {
    reported: Vec<(String, String)>,
    cut: bool,
}

fn run_child(db: &str, durability: &str, sales: usize, cut_at_sync: usize, life: usize) -> Life {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "power_loss::child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ENV_DB, db)
        .env(ENV_DURABILITY, durability)
        .env(ENV_SALES, sales.to_string())
        .env(ENV_CUT_AT_SYNC, cut_at_sync.to_string())
        .env(ENV_LIFE, life.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reported = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            // The first line also carries libtest's "test ... " prefix.
            let (_, record) = line.split_once("REC ")?;
            let mut words = record.split(' ');
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(CUT_EXIT),
        "the child ends by a power cut"
    );
    Life {
        reported,
        cut: status.code() == Some(CUT_EXIT),
    }
}

/// Creates the device database without the power-cut VFS, closed cleanly, so its schema is on
/// disk before the first cut (with NORMAL, a brand-new database lost whole would model nothing).
fn create_database(db: &str) {
    let config = EngineConfig::new(db, rig::STORE, "R1", rig::DEVICE);
    drop(SyncEngine::open(config).unwrap());
}

/// What the database holds after the cut, read without the engine (so nothing is repaired
/// first): each sale's receipt, and whether its queue row is there.
fn on_disk(db: &str) -> Vec<(String, String, bool)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "the database is intact after the power cut");
    let mut stmt = conn
        .prepare(
            "SELECT s.id, s.receipt_number,
                    EXISTS (SELECT 1 FROM sync_queue q WHERE q.entity_type = 'sale' AND q.entity_id = s.id)
             FROM sales s ORDER BY s.receipt_number",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

/// Receipts on disk are exactly `STORE-R1-000001..n`, each sale with its queue row.
fn assert_gapless_with_queue_rows(rows: &[(String, String, bool)]) {
    for (i, (id, receipt, queued)) in rows.iter().enumerate() {
        assert_eq!(
            receipt,
            &format!("{}-R1-{:06}", rig::STORE, i + 1),
            "receipts stay gapless"
        );
        assert!(queued, "sale {id} kept its queue row (one transaction)");
    }
}

#[test]
fn with_synchronous_full_every_recorded_sale_survives_a_power_cut() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("till.db");
    let db = db.to_str().unwrap();
    create_database(db);
    let lives = rig::size("POWER_LIVES", 4, 40);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x90_4e_12);
    let mut reported_total = 0;
    let mut in_flight_kept = 0;
    for life in 0..lives {
        // Life 0 ends right after its last reported sale; later lives inside a random sync,
        // i.e. while a commit is on its way to the disk.
        let cut_at = if life == 0 {
            0
        } else {
            rng.random_range(1..60)
        };
        let result = run_child(db, "full", 25, cut_at, life);
        assert!(result.cut);
        let rows = on_disk(db);
        assert_gapless_with_queue_rows(&rows);
        reported_total += result.reported.len();
        // Every sale reported recorded is there with its receipt; at most one more (the one
        // whose commit was reaching the disk when the power went) may have been kept too.
        for (id, receipt) in &result.reported {
            assert!(
                rows.iter().any(|(i, r, _)| i == id && r == receipt),
                "sale {id} ({receipt}) was reported recorded and must survive"
            );
        }
        assert!(
            rows.len() == reported_total || rows.len() == reported_total + 1,
            "{} on disk, {reported_total} reported",
            rows.len()
        );
        in_flight_kept += rows.len() - reported_total;
        reported_total = rows.len();
    }
    rig::report(
        "power loss (FULL)",
        &format!(
            "{lives} power cuts, {reported_total} sales on disk, 0 reported sales lost, {in_flight_kept} in-flight commits kept, receipts gapless, integrity ok"
        ),
    );
}

#[test]
fn with_synchronous_normal_a_power_cut_loses_only_the_latest_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("till.db");
    let db = db.to_str().unwrap();
    create_database(db);
    let sales = rig::size("POWER_NORMAL_SALES", 400, 2000);
    let result = run_child(db, "normal", sales, 0, 0);
    let rows = on_disk(db);
    assert_gapless_with_queue_rows(&rows);
    // What survives is a prefix of what was reported: the sales up to the last checkpoint
    // (WAL mode with NORMAL syncs the log only then).
    assert!(rows.len() <= result.reported.len());
    for ((id, receipt), (on_disk_id, on_disk_receipt, _)) in result.reported.iter().zip(&rows) {
        assert_eq!((id, receipt), (on_disk_id, on_disk_receipt));
    }
    assert!(
        rows.len() < result.reported.len(),
        "NORMAL must lose the commits after the last checkpoint, or this test models nothing"
    );
    rig::report(
        "power loss (NORMAL)",
        &format!(
            "{} sales reported recorded, {} on disk after the cut ({} lost: those since the last checkpoint), receipts gapless, each kept sale with its queue row, integrity ok",
            result.reported.len(),
            rows.len(),
            result.reported.len() - rows.len()
        ),
    );
}

/// The power-cut VFS: SQLite's default VFS with an undo log of unsynced writes per file.
mod vfs {
    use rusqlite::ffi;
    use std::collections::HashMap;
    use std::ffi::{c_char, c_int, c_void, CStr};
    use std::os::unix::fs::FileExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};

    /// Per file: its length at the last sync and what each write since then replaced.
    #[derive(Default)]
    struct Unsynced {
        synced_len: u64,
        replaced: Vec<(u64, Vec<u8>)>,
    }

    #[repr(C)]
    struct ShimFile {
        base: ffi::sqlite3_file,
        /// The default VFS's file, allocated right behind this struct.
        real: *mut ffi::sqlite3_file,
        /// The file's path, or null for SQLite's nameless temporary files (not tracked).
        path: *mut c_char,
    }

    struct State {
        real_vfs: *mut ffi::sqlite3_vfs,
        files: Mutex<HashMap<String, Unsynced>>,
        syncs: AtomicUsize,
        cut_at_sync: usize,
    }
    // The raw pointer is SQLite's default VFS, which lives as long as the process.
    unsafe impl Send for State {}
    unsafe impl Sync for State {}

    static STATE: OnceLock<State> = OnceLock::new();

    fn state() -> &'static State {
        STATE.get().expect("vfs::install was called")
    }

    /// Registers the power-cut VFS as the default; `cut_at_sync > 0` cuts the power inside
    /// that `xSync` call instead of syncing.
    pub fn install(cut_at_sync: usize) {
        unsafe {
            assert_eq!(ffi::sqlite3_initialize(), ffi::SQLITE_OK);
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!real.is_null());
            STATE
                .set(State {
                    real_vfs: real,
                    files: Mutex::default(),
                    syncs: AtomicUsize::new(0),
                    cut_at_sync,
                })
                .ok()
                .expect("installed once");
            let mut shim: ffi::sqlite3_vfs = *real;
            shim.szOsFile = (std::mem::size_of::<ShimFile>() as c_int) + (*real).szOsFile;
            shim.zName = c"power-cut".as_ptr();
            shim.pNext = std::ptr::null_mut();
            shim.xOpen = Some(open);
            let shim = Box::leak(Box::new(shim));
            assert_eq!(ffi::sqlite3_vfs_register(shim, 1), ffi::SQLITE_OK);
        }
    }

    /// Puts every file back as it was at its last sync, then ends the process at once.
    pub fn power_cut() -> ! {
        let files = state().files.lock().unwrap_or_else(|p| p.into_inner());
        for (path, unsynced) in files.iter() {
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else {
                continue; // deleted since (a rollback journal): gone either way
            };
            for (offset, bytes) in unsynced.replaced.iter().rev() {
                file.write_all_at(bytes, *offset).unwrap();
            }
            file.set_len(unsynced.synced_len).unwrap();
        }
        std::process::exit(super::CUT_EXIT);
    }

    unsafe fn real(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
        (*(file as *mut ShimFile)).real
    }

    unsafe fn path_of(file: *mut ffi::sqlite3_file) -> Option<String> {
        let path = (*(file as *mut ShimFile)).path;
        (!path.is_null()).then(|| CStr::from_ptr(path).to_string_lossy().into_owned())
    }

    /// The real file's current length.
    unsafe fn real_len(real: *mut ffi::sqlite3_file) -> u64 {
        let mut size: ffi::sqlite3_int64 = 0;
        ((*(*real).pMethods).xFileSize.unwrap())(real, &mut size);
        size as u64
    }

    /// Remembers the bytes of `[offset, offset + len)` that exist now, before they change.
    unsafe fn remember(file: *mut ffi::sqlite3_file, offset: u64, len: u64) {
        let Some(path) = path_of(file) else { return };
        let real = real(file);
        let end = (offset + len).min(real_len(real));
        if end <= offset {
            return;
        }
        let mut old = vec![0u8; (end - offset) as usize];
        ((*(*real).pMethods).xRead.unwrap())(
            real,
            old.as_mut_ptr() as *mut c_void,
            old.len() as c_int,
            offset as ffi::sqlite3_int64,
        );
        let mut files = state().files.lock().unwrap();
        files.entry(path).or_default().replaced.push((offset, old));
    }

    unsafe extern "C" fn open(
        _vfs: *mut ffi::sqlite3_vfs,
        name: ffi::sqlite3_filename,
        file: *mut ffi::sqlite3_file,
        flags: c_int,
        out_flags: *mut c_int,
    ) -> c_int {
        let shim = file as *mut ShimFile;
        let real = (shim as *mut u8).add(std::mem::size_of::<ShimFile>()) as *mut ffi::sqlite3_file;
        let vfs = state().real_vfs;
        let rc = ((*vfs).xOpen.unwrap())(vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            (*shim).base.pMethods = std::ptr::null();
            return rc;
        }
        (*shim).real = real;
        (*shim).path = std::ptr::null_mut();
        if !name.is_null() {
            let path = CStr::from_ptr(name).to_string_lossy().into_owned();
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            state()
                .files
                .lock()
                .unwrap()
                .entry(path.clone())
                .or_insert(super::vfs::Unsynced {
                    synced_len: len,
                    replaced: Vec::new(),
                });
            (*shim).path = std::ffi::CString::new(path).unwrap().into_raw();
        }
        (*shim).base.pMethods = &METHODS;
        ffi::SQLITE_OK
    }

    unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
        let shim = file as *mut ShimFile;
        if !(*shim).path.is_null() {
            drop(std::ffi::CString::from_raw((*shim).path));
            (*shim).path = std::ptr::null_mut();
        }
        let real = real(file);
        ((*(*real).pMethods).xClose.unwrap())(real)
    }

    unsafe extern "C" fn write(
        file: *mut ffi::sqlite3_file,
        data: *const c_void,
        amount: c_int,
        offset: ffi::sqlite3_int64,
    ) -> c_int {
        remember(file, offset as u64, amount as u64);
        let real = real(file);
        ((*(*real).pMethods).xWrite.unwrap())(real, data, amount, offset)
    }

    unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
        let real = real(file);
        let len = real_len(real);
        if (size as u64) < len {
            remember(file, size as u64, len - size as u64);
        }
        ((*(*real).pMethods).xTruncate.unwrap())(real, size)
    }

    unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
        let n = state().syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if n == state().cut_at_sync {
            power_cut();
        }
        let real = real(file);
        let rc = ((*(*real).pMethods).xSync.unwrap())(real, flags);
        if rc == ffi::SQLITE_OK {
            if let Some(path) = path_of(file) {
                let len = real_len(real);
                let mut files = state().files.lock().unwrap();
                let unsynced = files.entry(path).or_default();
                unsynced.replaced.clear();
                unsynced.synced_len = len;
            }
        }
        rc
    }

    /// Everything else goes to the default VFS's file unchanged.
    macro_rules! forward {
        ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*), $ret:ty) => {
            unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> $ret {
                let real = real(file);
                ((*(*real).pMethods).$method.unwrap())(real $(, $arg)*)
            }
        };
    }
    forward!(read, xRead, (data: *mut c_void, amount: c_int, offset: ffi::sqlite3_int64), c_int);
    forward!(file_size, xFileSize, (size: *mut ffi::sqlite3_int64), c_int);
    forward!(lock, xLock, (level: c_int), c_int);
    forward!(unlock, xUnlock, (level: c_int), c_int);
    forward!(check_reserved_lock, xCheckReservedLock, (out: *mut c_int), c_int);
    forward!(file_control, xFileControl, (op: c_int, arg: *mut c_void), c_int);
    forward!(sector_size, xSectorSize, (), c_int);
    forward!(device_characteristics, xDeviceCharacteristics, (), c_int);
    forward!(shm_map, xShmMap, (region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), c_int);
    forward!(shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int), c_int);
    forward!(shm_barrier, xShmBarrier, (), ());
    forward!(shm_unmap, xShmUnmap, (delete: c_int), c_int);

    // Version 2: shared memory for WAL, no memory-mapped I/O (whose writes would bypass xWrite).
    static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
        iVersion: 2,
        xClose: Some(close),
        xRead: Some(read),
        xWrite: Some(write),
        xTruncate: Some(truncate),
        xSync: Some(sync),
        xFileSize: Some(file_size),
        xLock: Some(lock),
        xUnlock: Some(unlock),
        xCheckReservedLock: Some(check_reserved_lock),
        xFileControl: Some(file_control),
        xSectorSize: Some(sector_size),
        xDeviceCharacteristics: Some(device_characteristics),
        xShmMap: Some(shm_map),
        xShmLock: Some(shm_lock),
        xShmBarrier: Some(shm_barrier),
        xShmUnmap: Some(shm_unmap),
        xFetch: None,
        xUnfetch: None,
    };
}
