//! Criterion benchmarks of what a till does all day, each beside raw rusqlite doing the same
//! rows with the same schema and pragmas in the same run (issue 2):
//!
//! - `record_sale/{engine,raw}_{full,normal}`: one sale (sale row + queue row), one
//!   transaction, durable (`synchronous=FULL`, the engine's default) and `NORMAL`;
//! - `catalog_100k/{barcode,search}_{engine,raw}`: a barcode lookup and a three-letter
//!   name-prefix search (LIMIT 20) in a 100k-product catalog.
//!
//! `cargo bench --bench local` measures; `cargo test --bench local` (inside `make
//! bench-quick`) runs each benchmark once on a small catalog so the code cannot rot. The
//! end-to-end harness (`benches/e2e.rs`) reads criterion's estimates for the report.

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pos_sync::store::Durability;
use std::time::Duration;

fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn record_sale(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("record_sale");
    for (durability, sync, label) in [
        (Durability::Full, "FULL", "full"),
        (Durability::Normal, "NORMAL", "normal"),
    ] {
        let engine = engine(dir.path(), &format!("engine-{label}"), durability);
        let mut rng = rng(1);
        group.bench_function(format!("engine_{label}"), |b| {
            b.iter_batched(
                || sale_json(&mut rng),
                |json| engine.record_sale(json).expect("sale recorded"),
                BatchSize::SmallInput,
            )
        });
        let path = dir.path().join(format!("raw-{label}.db"));
        let conn = raw_open(path.to_str().unwrap(), sync);
        let mut rng = common::rng(2);
        let mut seq = 0;
        group.bench_function(format!("raw_{label}"), |b| {
            b.iter_batched(
                || {
                    seq += 1;
                    (raw_sale(&mut rng, seq), seq)
                },
                |(sale, seq)| raw_record_sale(&conn, &sale, seq, 1_764_000_000_000 + seq),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn catalog_lookups(c: &mut Criterion) {
    let n = if measuring() { 100_000 } else { 2_000 };
    let dir = tempfile::tempdir().unwrap();
    let (engine, docs) = catalog(dir.path(), n);
    let raw = rusqlite::Connection::open_with_flags(
        dir.path().join("catalog.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut rng = rng(3);
    let barcodes = random_barcodes(&mut rng, &docs, 10_000);
    let prefixes: Vec<String> = (0..2_000).map(|_| search_prefix(&mut rng, &docs)).collect();
    let mut group = c.benchmark_group("catalog_100k");
    let mut i = 0;
    group.bench_function("barcode_engine", |b| {
        b.iter(|| {
            i = (i + 1) % barcodes.len();
            engine
                .product_by_barcode(barcodes[i].clone())
                .unwrap()
                .expect("found")
        })
    });
    group.bench_function("barcode_raw", |b| {
        let mut stmt = raw.prepare_cached(RAW_BARCODE_SQL).unwrap();
        b.iter(|| {
            i = (i + 1) % barcodes.len();
            stmt.query_row([&barcodes[i]], raw_row).expect("found")
        })
    });
    group.bench_function("search_engine", |b| {
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            let hits = engine.search_products(prefixes[i].clone(), 20).unwrap();
            assert!(!hits.is_empty());
            hits
        })
    });
    group.bench_function("search_raw", |b| {
        let mut stmt = raw.prepare_cached(RAW_SEARCH_SQL).unwrap();
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            let fts = format!("\"{}\"*", prefixes[i]);
            let hits: Vec<RawRow> = stmt
                .query_map(rusqlite::params![fts, 20], raw_row)
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(!hits.is_empty());
            hits
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = record_sale, catalog_lookups
}
criterion_main!(benches);
