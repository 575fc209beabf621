//! A process-wide logger that keeps every line at Trace level, for the tests that check no
//! secret reaches a log line. Include it with `#[path = "support/log_capture.rs"] mod ...;`
//! in a test binary of its own (the logger is global).

use std::sync::Mutex;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LINES.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

/// Installs the logger at Trace (once per process; later calls do nothing).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Every line logged so far.
pub fn lines() -> Vec<String> {
    LINES.lock().unwrap().clone()
}
