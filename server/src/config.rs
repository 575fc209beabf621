//! Server configuration: the command line and the tokens file.

use clap::Parser;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_RATE_LIMIT: u32 = 600;
const DEFAULT_RATE_WINDOW_SECS: u64 = 60;
const DEFAULT_WEBHOOK_ATTEMPTS: u32 = 12;
const DEFAULT_WEBHOOK_BACKOFF_MS: u64 = 500;

/// One device allowed to sync: its bearer token, its id and the store it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub token: String,
    pub device_id: String,
    pub store_id: String,
}

impl DeviceToken {
    pub fn new(token: &str, device_id: &str, store_id: &str) -> Self {
        DeviceToken {
            token: token.to_string(),
            device_id: device_id.to_string(),
            store_id: store_id.to_string(),
        }
    }
}

/// How webhook deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Attempts per delivery, the first one included.
    pub attempts: u32,
    /// Delay before the second attempt; doubles after each failure.
    pub initial_backoff: Duration,
    /// Time allowed for one attempt.
    pub timeout: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        WebhookRetry {
            attempts: DEFAULT_WEBHOOK_ATTEMPTS,
            initial_backoff: Duration::from_millis(DEFAULT_WEBHOOK_BACKOFF_MS),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// SQLite database file, or `:memory:`.
    pub db: String,
    pub devices: Vec<DeviceToken>,
    /// Bearer token of the `/admin` routes; `None` disables them (they answer 404).
    pub admin_token: Option<String>,
    /// Requests per device per window.
    pub rate_limit: u32,
    pub rate_window: Duration,
    pub webhooks: Vec<String>,
    pub webhook_secret: Option<String>,
    pub webhook_retry: WebhookRetry,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: ":memory:".to_string(),
            devices: Vec::new(),
            admin_token: None,
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_window: Duration::from_secs(DEFAULT_RATE_WINDOW_SECS),
            webhooks: Vec::new(),
            webhook_secret: None,
            webhook_retry: WebhookRetry::default(),
        }
    }
}

/// The command line (clap). `--help` lists it; docs/protocol.md §20 documents it.
#[derive(Debug, Parser)]
#[command(
    name = "pos-sync-server",
    version,
    about = "Reference server of the pos-sync protocol (docs/protocol.md)",
    after_help = "The first line written to stdout is the base URL (http://HOST:PORT). Logs go to \
                  stderr (level: POS_SYNC_LOG). SIGTERM or Ctrl-C stops the server cleanly \
                  (exit status 0)."
)]
pub struct Cli {
    /// Address to listen on; port 0 picks a free one
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file, or :memory:
    #[arg(long, value_name = "PATH|:memory:", default_value = ":memory:")]
    db: String,
    /// Device tokens, one 'TOKEN DEVICE_ID STORE_ID' per line (# comments)
    #[arg(long, value_name = "FILE")]
    tokens: PathBuf,
    /// Enable the /admin routes behind this bearer token
    #[arg(long, value_name = "TOKEN", value_parser = not_empty)]
    admin_token: Option<String>,
    /// Requests per device per window
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RATE_LIMIT,
          value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: u32,
    /// Rate-limit window in seconds
    #[arg(long, value_name = "S", default_value_t = DEFAULT_RATE_WINDOW_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    rate_window_secs: u64,
    /// POST change events to URL (repeatable)
    #[arg(long = "webhook", value_name = "URL", value_parser = http_url)]
    webhooks: Vec<String>,
    /// Sign webhook bodies with HMAC-SHA256(SECRET)
    #[arg(long, value_name = "SECRET")]
    webhook_secret: Option<String>,
    /// Attempts per webhook delivery
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WEBHOOK_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..))]
    webhook_attempts: u32,
    /// Delay before the first retry, doubled after each (at most 5 minutes)
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_WEBHOOK_BACKOFF_MS)]
    webhook_backoff_ms: u64,
}

fn not_empty(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(v.to_string())
}

fn http_url(v: &str) -> Result<String, String> {
    if !(v.starts_with("http://") || v.starts_with("https://")) {
        return Err(format!("'{v}' is not an http(s) URL"));
    }
    Ok(v.to_string())
}

impl Cli {
    /// The configuration it asks for; reads the tokens file.
    pub fn into_config(self) -> Result<Config, String> {
        Ok(Config {
            listen: self.listen,
            db: self.db,
            devices: read_tokens_file(&self.tokens)?,
            admin_token: self.admin_token,
            rate_limit: self.rate_limit,
            rate_window: Duration::from_secs(self.rate_window_secs),
            webhooks: self.webhooks,
            webhook_secret: self.webhook_secret,
            webhook_retry: WebhookRetry {
                attempts: self.webhook_attempts,
                initial_backoff: Duration::from_millis(self.webhook_backoff_ms),
                ..WebhookRetry::default()
            },
        })
    }
}

pub fn read_tokens_file(path: &Path) -> Result<Vec<DeviceToken>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read tokens file {}: {e}", path.display()))?;
    parse_tokens(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses tokens-file text: each non-empty line not starting with `#` is
/// `TOKEN DEVICE_ID STORE_ID`, separated by whitespace.
pub fn parse_tokens(text: &str) -> Result<Vec<DeviceToken>, String> {
    let mut devices: Vec<DeviceToken> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [token, device, store] = fields[..] else {
            return Err(format!(
                "line {}: expected 'TOKEN DEVICE_ID STORE_ID', found {} fields",
                n + 1,
                fields.len()
            ));
        };
        if devices.iter().any(|d| d.token == token) {
            return Err(format!("line {}: the same token appears twice", n + 1));
        }
        if let Some(d) = devices
            .iter()
            .find(|d| d.device_id == device && d.store_id != store)
        {
            return Err(format!(
                "line {}: device '{device}' is already in store '{}'; a device belongs to one store",
                n + 1,
                d.store_id
            ));
        }
        devices.push(DeviceToken::new(token, device, store));
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn tokens_file_skips_comments_and_rejects_bad_lines() {
        let devices =
            parse_tokens("# comment\n\n tok-a  dev-1 store-a\ntok-b dev-2 store-b\n").unwrap();
        assert_eq!(
            devices,
            vec![
                DeviceToken::new("tok-a", "dev-1", "store-a"),
                DeviceToken::new("tok-b", "dev-2", "store-b")
            ]
        );
        assert!(parse_tokens("tok dev").unwrap_err().contains("line 1"));
        assert!(parse_tokens("t1 d s1\nt1 e s1")
            .unwrap_err()
            .contains("twice"));
        assert!(parse_tokens("t1 d s1\nt2 d s2")
            .unwrap_err()
            .contains("one store"));
    }

    #[test]
    fn args_parse_flags_and_defaults() {
        Cli::command().debug_assert();
        let dir = std::env::temp_dir().join(format!("pos-sync-args-{}", std::process::id()));
        std::fs::write(&dir, "t d s\n").unwrap();
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("pos-sync-server").chain(args.iter().copied()))
        };
        let config = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            dir.to_str().unwrap(),
            "--rate-limit=5",
            "--webhook",
            "http://127.0.0.1:9/hook",
        ])
        .unwrap()
        .into_config()
        .unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.db, ":memory:");
        assert_eq!(config.rate_limit, 5);
        assert_eq!(config.rate_window, Duration::from_secs(60));
        assert_eq!(config.webhooks, vec!["http://127.0.0.1:9/hook".to_string()]);
        assert_eq!(config.webhook_retry, WebhookRetry::default());
        assert_eq!(config.devices.len(), 1);
        let tokens = dir.to_str().unwrap();
        assert!(parse(&["--db", "x"]).is_err(), "--tokens is required");
        assert!(parse(&["--tokens", tokens, "--bogus"]).is_err());
        assert!(parse(&["--tokens", tokens, "--rate-limit", "0"]).is_err());
        assert!(parse(&["--tokens", tokens, "--webhook", "ftp://x"]).is_err());
        assert!(parse(&["--tokens", tokens, "--admin-token="]).is_err());
        assert!(parse(&["--tokens", "/nonexistent/tokens"])
            .unwrap()
            .into_config()
            .unwrap_err()
            .contains("cannot read tokens file"));
        std::fs::remove_file(&dir).ok();
    }
}
