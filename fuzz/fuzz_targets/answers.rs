//! Server answers: the transport's decoding of upload, download, status and resolve answers
//! (with and without a declared body checksum, any HTTP status) and the engine's checks of
//! a download page. Nothing may panic; a page whose records changed may never verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pos_sync::protocol::DownloadResponse;

const PATHS: [&str; 4] = [
    "/api/sync/upload",
    "/api/sync/download",
    "/api/sync/status",
    "/api/sync/resolve",
];
const STATUSES: [u16; 8] = [200, 201, 400, 401, 403, 429, 500, 503];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let path = PATHS[(selector & 3) as usize];
    let status = STATUSES[((selector >> 2) & 7) as usize];
    let declared = (selector & 0x20 != 0).then(|| pos_sync::protocol::body_checksum(body));
    let _ = pos_sync::untrusted::decode_answer(path, status, declared.as_deref(), body);
    if let Ok(page) = serde_json::from_slice::<DownloadResponse>(body) {
        let _ = pos_sync::untrusted::verify_download_page(&page, page.entity_type, 5000);
    }
});
