//! Server configuration: the command line and the tokens file.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

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
            attempts: 12,
            initial_backoff: Duration::from_millis(500),
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
            rate_limit: 600,
            rate_window: Duration::from_secs(60),
            webhooks: Vec::new(),
            webhook_secret: None,
            webhook_retry: WebhookRetry::default(),
        }
    }
}

pub const USAGE: &str = "\
pos-sync-server: reference server of the pos-sync protocol (docs/protocol.md)

USAGE:
    pos-sync-server --tokens FILE [OPTIONS]

OPTIONS:
    --listen ADDR              address to listen on [default: 127.0.0.1:8080]; port 0 picks one
    --db PATH|:memory:         SQLite database file [default: :memory:]
    --tokens FILE              device tokens, one 'TOKEN DEVICE_ID STORE_ID' per line (# comments)
    --admin-token TOKEN        enable /admin routes behind this bearer token
    --rate-limit N             requests per device per window [default: 600]
    --rate-window-secs S       rate-limit window in seconds [default: 60]
    --webhook URL              POST change events to URL (repeatable)
    --webhook-secret SECRET    sign webhook bodies with HMAC-SHA256(SECRET)
    --webhook-attempts N       attempts per webhook delivery [default: 12]
    --webhook-backoff-ms MS    delay before the first retry, doubled after each [default: 500]
    -h, --help                 print this help
    -V, --version              print the version

The first line written to stdout is the base URL (http://HOST:PORT). Logs go to stderr.
SIGTERM or Ctrl-C stops the server cleanly (exit status 0).";

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

/// Parses the command line (without the program name). Reads the tokens file.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        ..Config::default()
    };
    let mut tokens_file: Option<String> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                let v = value("--listen")?;
                config.listen = v.parse().map_err(|_| {
                    format!("--listen: '{v}' is not an address like 127.0.0.1:8080")
                })?;
            }
            "--db" => config.db = value("--db")?,
            "--tokens" => tokens_file = Some(value("--tokens")?),
            "--admin-token" => {
                let v = value("--admin-token")?;
                if v.is_empty() {
                    return Err("--admin-token must not be empty".into());
                }
                config.admin_token = Some(v);
            }
            "--rate-limit" => {
                config.rate_limit = positive("--rate-limit", &value("--rate-limit")?)?
            }
            "--rate-window-secs" => {
                config.rate_window = Duration::from_secs(
                    positive("--rate-window-secs", &value("--rate-window-secs")?)?.into(),
                )
            }
            "--webhook" => {
                let v = value("--webhook")?;
                if !(v.starts_with("http://") || v.starts_with("https://")) {
                    return Err(format!("--webhook: '{v}' is not an http(s) URL"));
                }
                config.webhooks.push(v);
            }
            "--webhook-secret" => config.webhook_secret = Some(value("--webhook-secret")?),
            "--webhook-attempts" => {
                config.webhook_retry.attempts =
                    positive("--webhook-attempts", &value("--webhook-attempts")?)?
            }
            "--webhook-backoff-ms" => {
                let v = value("--webhook-backoff-ms")?;
                let ms: u64 = v
                    .parse()
                    .map_err(|_| format!("--webhook-backoff-ms: '{v}' is not a number"))?;
                config.webhook_retry.initial_backoff = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    let tokens_file = tokens_file.ok_or("--tokens FILE is required (try --help)")?;
    config.devices = read_tokens_file(Path::new(&tokens_file))?;
    Ok(Command::Run(Box::new(config)))
}

fn positive(flag: &str, v: &str) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag}: '{v}' is not a positive whole number")),
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
        let dir = std::env::temp_dir().join(format!("pos-sync-args-{}", std::process::id()));
        std::fs::write(&dir, "t d s\n").unwrap();
        let args = [
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            dir.to_str().unwrap(),
            "--rate-limit=5",
            "--webhook",
            "http://127.0.0.1:9/hook",
        ]
        .map(String::from);
        let Command::Run(config) = parse_args(args).unwrap() else {
            panic!("expected a run command")
        };
        std::fs::remove_file(&dir).ok();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.db, ":memory:");
        assert_eq!(config.rate_limit, 5);
        assert_eq!(config.rate_window, Duration::from_secs(60));
        assert_eq!(config.webhooks, vec!["http://127.0.0.1:9/hook".to_string()]);
        assert_eq!(config.devices.len(), 1);
        assert!(parse_args(["--db".to_string(), "x".to_string()]).is_err());
        assert!(parse_args(["--bogus".to_string()]).is_err());
        assert!(parse_args(["--rate-limit".to_string(), "0".to_string()]).is_err());
    }
}
