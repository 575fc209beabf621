//! The plugin's TypeScript record types, generated from the Rust records by ts-rs into
//! `capacitor-plugin/src/generated/` (one file per type; `definitions.ts` re-exports them).
//! The test fails when the committed files differ from what the Rust records give, so a
//! renamed or retyped field cannot reach the app unnoticed. After changing a record:
//!
//! ```sh
//! POS_SYNC_WRITE_TS=1 cargo test --lib bridge::typescript
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ts_rs::{Config, TS};

/// Where the generated files live, relative to the crate.
const OUT_DIR: &str = "capacitor-plugin/src/generated";

/// Every record and enum that crosses the bridge, with what they refer to.
fn export_all(cfg: &Config) {
    use crate::api::EngineConfig;
    use crate::bridge::methods::{BackgroundSyncInfo, OpenResult};
    use crate::bridge::tokens::TokenRequest;
    use crate::store::{catalog, check, conflicts, customers, pos, queue};
    use crate::sync::{events, ConsistencyReport, SyncReport};
    fn one<T: TS + 'static>(cfg: &Config) {
        T::export_all(cfg).unwrap_or_else(|e| panic!("exporting {}: {e}", T::ident(cfg)));
    }
    one::<EngineConfig>(cfg);
    one::<crate::error::ErrorCode>(cfg);
    one::<OpenResult>(cfg);
    one::<TokenRequest>(cfg);
    one::<BackgroundSyncInfo>(cfg);
    one::<pos::SaleReceipt>(cfg);
    one::<pos::ChangeRef>(cfg);
    one::<pos::Sale>(cfg);
    one::<catalog::Product>(cfg);
    one::<catalog::Price>(cfg);
    one::<customers::Customer>(cfg);
    one::<queue::QueueStats>(cfg);
    one::<events::SyncStatus>(cfg);
    one::<SyncReport>(cfg);
    one::<conflicts::Conflict>(cfg);
    one::<ConsistencyReport>(cfg);
    one::<check::IntegrityReport>(cfg);
    one::<crate::protocol::Resolution>(cfg);
}

fn config(dir: &Path) -> Config {
    // Counts, sizes and milliseconds fit a JavaScript number; the 64-bit values that may
    // not (clocks, checksums) are strings by their own attribute (see `wire`).
    Config::new().with_large_int("number").with_out_dir(dir)
}

/// The files in `dir` by name, with `JsonObject` imported where a type uses it.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".ts") && name != "JsonObject.ts" {
            files.insert(name, std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    files
}

/// ts-rs's output, tidied for the plugin's docgen README: records become interfaces (docgen
/// renders their fields as a table, a type alias as one line of code), `Array<T>` becomes
/// `T[]` (else docgen documents the whole `Array` interface), and `JsonObject`, which
/// ts-rs knows only as a name, is imported where it is used.
fn tidy(text: &str) -> String {
    let mut text = text.to_owned();
    while let Some(start) = text.find("Array<") {
        let end = start + text[start..].find('>').expect("Array<T> is closed");
        let inner = text[start + "Array<".len()..end].to_owned();
        text.replace_range(start..=end, &format!("{inner}[]"));
    }
    if let Some(decl) = text.find("export type ") {
        let (head, tail) = text.split_at(decl);
        if let Some((name, body)) = tail["export type ".len()..].split_once(" = { ") {
            if let Some(fields) = body.trim_end().strip_suffix("};") {
                text = format!("{head}export interface {name} {{ {fields}}}\n");
            }
        }
    }
    if text.contains("JsonObject") {
        let import = "import type { JsonObject } from \"./JsonObject\";\n";
        text = match text.find("\n") {
            // After ts-rs's "generated" line, with the other imports.
            Some(i) if text.starts_with("//") => {
                format!("{}{import}{}", &text[..=i], &text[i + 1..])
            }
            _ => format!("{import}{text}"),
        };
    }
    text
}

#[test]
fn the_committed_typescript_records_are_what_the_rust_records_give() {
    let tmp = tempfile::tempdir().unwrap();
    export_all(&config(tmp.path()));
    let generated: BTreeMap<String, String> = read_dir(tmp.path())
        .into_iter()
        .map(|(name, text)| (name, tidy(&text)))
        .collect();
    let out: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join(OUT_DIR);
    if std::env::var_os("POS_SYNC_WRITE_TS").is_some() {
        for name in read_dir(&out).keys() {
            std::fs::remove_file(out.join(name)).unwrap();
        }
        std::fs::create_dir_all(&out).unwrap();
        for (name, text) in &generated {
            std::fs::write(out.join(name), text).unwrap();
        }
    }
    let committed = read_dir(&out);
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&generated),
        "the generated TypeScript files differ from the Rust records: run \
         `POS_SYNC_WRITE_TS=1 cargo test --lib bridge::typescript`"
    );
    for (name, text) in &generated {
        assert_eq!(
            &committed[name], text,
            "{OUT_DIR}/{name} differs from the Rust record: run \
             `POS_SYNC_WRITE_TS=1 cargo test --lib bridge::typescript`"
        );
    }
}
