//! Per-device rate limiting with `governor`: a token bucket (GCRA) per device that holds
//! `limit` requests and refills at `limit` per `window`, so a device may burst its whole
//! budget and then gets one request every `window / limit`.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use pos_sync_protocol::RateLimitStatus;
use std::num::NonZeroU32;
use std::time::Duration;

type Limiter = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

pub struct RateLimiter {
    limit: u32,
    /// Time to earn back one request.
    period: Duration,
    limiter: Limiter,
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateLimiter {
    /// `limit` requests per `window` and device (a `limit` of 0 counts as 1).
    pub fn new(limit: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let period = (window / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("the period is not zero")
            .allow_burst(burst);
        RateLimiter {
            limit: burst.get(),
            period,
            limiter: governor::RateLimiter::keyed(quota).with_middleware(),
        }
    }

    /// Counts one request of `device_id`. `Ok` carries the state after counting it;
    /// `Err` carries the seconds to wait (at least 1) when the device is over its limit.
    pub fn check(&self, device_id: &str) -> Result<RateLimitStatus, u64> {
        match self.limiter.check_key(&device_id.to_string()) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Ok(RateLimitStatus {
                    limit: self.limit,
                    remaining,
                    // Until the bucket is full again.
                    reset_seconds: ceil_secs(self.period * (self.limit - remaining)),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(ceil_secs(wait).max(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_bursts_its_budget_then_waits_for_one_request() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10));
        let first = limiter.check("a").unwrap();
        assert_eq!(
            (first.limit, first.remaining, first.reset_seconds),
            (2, 1, 5)
        );
        assert_eq!(limiter.check("a").unwrap().remaining, 0);
        // One request comes back every 5 s.
        let wait = limiter.check("a").unwrap_err();
        assert!((4..=5).contains(&wait), "{wait}");
        // Another device has its own bucket.
        assert_eq!(limiter.check("b").unwrap().remaining, 1);
    }
}
