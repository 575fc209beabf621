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
    // The documents module answers with the engine's internal error; the app sees it
    // converted, as `SyncEngine` converts it.
    let results: [Result<(), PosSyncError>; 6] = [
        documents::sale(text).map(drop).map_err(Into::into),
        documents::stock_adjustment(text).map(drop).map_err(Into::into),
        documents::parse_object("customer", text)
            .and_then(|d| documents::customer_fields(&d).map(drop))
            .map_err(Into::into),
        documents::parse_object("product", text)
            .and_then(|d| documents::product_fields(&d).map(drop))
            .map_err(Into::into),
        documents::parse_object("price", text)
            .and_then(|d| documents::price_fields(&d).map(drop))
            .map_err(Into::into),
        pos_sync::api::entity_type_from_name(text.to_owned()).map(drop),
    ];
    for result in results {
        match result {
            Ok(())
            | Err(PosSyncError::InvalidInput { .. })
            | Err(PosSyncError::PayloadTooLarge { .. }) => {}
            Err(other) => panic!("untyped refusal: {other:?}"),
        }
    }
});
