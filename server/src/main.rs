//! `pos-sync-server --listen 127.0.0.1:0 --db PATH|:memory: --tokens FILE ...`
//! The first stdout line is the base URL; logs go to stderr; SIGTERM/Ctrl-C exit 0.

use clap::Parser;
use pos_sync_server::config::Cli;
use pos_sync_server::{logging, Server};
use std::io::Write;
use std::process::ExitCode;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn main() -> ExitCode {
    logging::init();
    // clap prints --help and --version to stdout (exit 0) and usage errors to stderr (exit 2).
    let config = match Cli::parse().into_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pos-sync-server: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pos-sync-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match Server::bind(config).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("pos-sync-server: {e}");
                return ExitCode::from(2);
            }
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", server.url());
        let _ = stdout.flush();
        drop(stdout);
        match server.run(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pos-sync-server: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
