//! Logging to stderr with `tracing-subscriber`. `POS_SYNC_LOG` sets the filter: a level
//! (error, warn, info, debug, trace, off) or `tracing` directives such as
//! `info,pos_sync_server=debug`; the default is info. Records of crates that log with the
//! `log` facade (the engine, reqwest, hyper) are forwarded to the same output.
//!
//! No line carries a token: the server logs device and store ids, never request headers.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

/// The environment variable that sets the log filter.
pub const LOG_ENV: &str = "POS_SYNC_LOG";

/// Installs the subscriber once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .with_env_var(LOG_ENV)
        .from_env_lossy();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
