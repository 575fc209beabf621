//! The JSON the app passes in: sales, stock adjustments, customers, products and prices are
//! validated with a typed error (InvalidInput or PayloadTooLarge) and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pos_sync::documents;
use pos_sync::PosSyncError;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let results = [
        documents::sale(text).map(drop),
        documents::stock_adjustment(text).map(drop),
        documents::parse_object("customer", text)
            .and_then(|d| documents::customer_fields(&d).map(drop)),
        documents::parse_object("product", text)
            .and_then(|d| documents::product_fields(&d).map(drop)),
        documents::parse_object("price", text).and_then(|d| documents::price_fields(&d).map(drop)),
        pos_sync::api::entity_type_from_name(text.to_owned()).map(drop),
    ];
    for result in results {
        match result {
            Ok(()) | Err(PosSyncError::InvalidInput(_)) | Err(PosSyncError::PayloadTooLarge(_)) => {
            }
            Err(other) => panic!("untyped refusal: {other:?}"),
        }
    }
});
