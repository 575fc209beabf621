//! Per-device rate limiting: a fixed window of `limit` requests per `window`.

use pos_sync_protocol::RateLimitStatus;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    start: Instant,
    count: u32,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `device_id`. `Ok` carries the state after counting it;
    /// `Err` carries the seconds to wait (at least 1) when the device is over its limit.
    pub fn check(&self, device_id: &str) -> Result<RateLimitStatus, u64> {
        self.check_at(device_id, Instant::now())
    }

    fn check_at(&self, device_id: &str, now: Instant) -> Result<RateLimitStatus, u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let w = windows.entry(device_id.to_string()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= self.window {
            w.start = now;
            w.count = 0;
        }
        let left = self.window.saturating_sub(now.duration_since(w.start));
        if w.count >= self.limit {
            return Err(ceil_secs(left).max(1));
        }
        w.count += 1;
        Ok(RateLimitStatus {
            limit: self.limit,
            remaining: self.limit - w.count,
            reset_seconds: ceil_secs(left),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_counts_per_device_and_resets() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limiter.check_at("a", t0).unwrap().remaining, 1);
        assert_eq!(limiter.check_at("a", t0).unwrap().remaining, 0);
        assert_eq!(
            limiter.check_at("a", t0 + Duration::from_millis(2500)),
            Err(8)
        );
        // Another device has its own window.
        assert_eq!(limiter.check_at("b", t0).unwrap().remaining, 1);
        let after = limiter.check_at("a", t0 + Duration::from_secs(10)).unwrap();
        assert_eq!((after.remaining, after.reset_seconds), (1, 10));
    }
}
