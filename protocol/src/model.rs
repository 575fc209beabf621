//! The domain vocabulary every other module speaks: entity types with their sync priority,
//! direction and conflict policy, queue states, change actions, and the hybrid logical clock.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kinds of data the engine syncs. The declaration order is the sync priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum EntityType {
    Sale,
    StockAdjustment,
    Product,
    Price,
    Customer,
    Report,
}

/// Which way an entity type travels between device and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Upload,
    Download,
    Both,
}

/// Who wins when the device and the server disagree about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The device's record is the truth (sales, stock adjustments).
    LocalWins,
    /// The server's record is the truth (catalog, prices, reports).
    ServerWins,
    /// The later edit by hybrid logical clock wins; a tie goes to manual review.
    Timestamp,
}

impl EntityType {
    /// Every entity type, in sync priority order.
    pub const ALL: [EntityType; 6] = [
        EntityType::Sale,
        EntityType::StockAdjustment,
        EntityType::Product,
        EntityType::Price,
        EntityType::Customer,
        EntityType::Report,
    ];

    /// 1 is synced first.
    pub fn priority(self) -> i64 {
        match self {
            EntityType::Sale => 1,
            EntityType::StockAdjustment => 2,
            EntityType::Product => 3,
            EntityType::Price => 4,
            EntityType::Customer => 5,
            EntityType::Report => 6,
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            EntityType::Sale | EntityType::StockAdjustment => Direction::Upload,
            EntityType::Product | EntityType::Price | EntityType::Report => Direction::Download,
            EntityType::Customer => Direction::Both,
        }
    }

    pub fn conflict_policy(self) -> ConflictPolicy {
        match self.direction() {
            Direction::Upload => ConflictPolicy::LocalWins,
            Direction::Download => ConflictPolicy::ServerWins,
            Direction::Both => ConflictPolicy::Timestamp,
        }
    }

    pub fn uploads(self) -> bool {
        matches!(self.direction(), Direction::Upload | Direction::Both)
    }

    pub fn downloads(self) -> bool {
        matches!(self.direction(), Direction::Download | Direction::Both)
    }

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Sale => "sale",
            EntityType::StockAdjustment => "stock_adjustment",
            EntityType::Product => "product",
            EntityType::Price => "price",
            EntityType::Customer => "customer",
            EntityType::Report => "report",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entity type name that is not one of the six.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEntityType(pub String);

impl fmt::Display for UnknownEntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown entity type '{}' (expected one of: sale, stock_adjustment, product, price, customer, report)",
            self.0
        )
    }
}

impl FromStr for EntityType {
    type Err = UnknownEntityType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEntityType(s.chars().take(64).collect()))
    }
}

/// The state of one change in the device's sync queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncState {
    /// Queued, waiting to be sent.
    Pending,
    /// Claimed by a running upload.
    Syncing,
    /// The server confirmed it (applied or duplicate).
    Synced,
    /// The last attempt failed; it is retried after `next_attempt_at`.
    Failed,
    /// Needs a person: listed by `conflicts()` until resolved.
    Conflict,
}

impl SyncState {
    pub const ALL: [SyncState; 5] = [
        SyncState::Pending,
        SyncState::Syncing,
        SyncState::Synced,
        SyncState::Failed,
        SyncState::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "PENDING",
            SyncState::Syncing => "SYNCING",
            SyncState::Synced => "SYNCED",
            SyncState::Failed => "FAILED",
            SyncState::Conflict => "CONFLICT",
        }
    }

    pub fn parse(s: &str) -> Option<SyncState> {
        SyncState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a change does to its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Create, Action::Update, Action::Delete]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// The device's wall clock, in Unix epoch milliseconds. Injected so tests can run a device
/// whose clock is wrong (or jumps) without touching the machine's clock.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// The real clock shifted by an adjustable offset: a device whose clock is off.
#[derive(Default)]
pub struct OffsetClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl OffsetClock {
    pub fn new(offset_ms: i64) -> OffsetClock {
        OffsetClock {
            offset_ms: offset_ms.into(),
        }
    }

    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms
            .store(offset_ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Hybrid logical clock timestamps, packed into an `i64`: the upper 47 bits hold
/// milliseconds since the Unix epoch, the lower 16 bits a counter that orders events
/// within one millisecond. Packed values compare like the events they stamp.
pub mod hlc {
    const COUNTER_BITS: u32 = 16;
    const COUNTER_MASK: i64 = (1 << COUNTER_BITS) - 1;

    pub fn pack(millis: i64, counter: i64) -> i64 {
        (millis << COUNTER_BITS) | (counter & COUNTER_MASK)
    }

    pub fn millis(ts: i64) -> i64 {
        ts >> COUNTER_BITS
    }

    pub fn counter(ts: i64) -> i64 {
        ts & COUNTER_MASK
    }

    /// The next timestamp after `last`, given the (corrected) wall clock `now_ms`.
    /// Never goes backwards, even when the wall clock does.
    pub fn tick(last: i64, now_ms: i64) -> i64 {
        let last_ms = millis(last);
        if now_ms > last_ms {
            pack(now_ms, 0)
        } else if counter(last) < COUNTER_MASK {
            last + 1
        } else {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            pack(last_ms + 1, 0)
        }
    }

    /// The next local timestamp after seeing `remote` from another node, so that local
    /// events are ordered after everything already observed.
    pub fn observe(last: i64, remote: i64, now_ms: i64) -> i64 {
        tick(last.max(remote), now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_design_table() {
        let got: Vec<(i64, &str, Direction)> = EntityType::ALL
            .iter()
            .map(|t| (t.priority(), t.as_str(), t.direction()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "sale", Direction::Upload),
                (2, "stock_adjustment", Direction::Upload),
                (3, "product", Direction::Download),
                (4, "price", Direction::Download),
                (5, "customer", Direction::Both),
                (6, "report", Direction::Download),
            ]
        );
        assert_eq!(
            EntityType::Sale.conflict_policy(),
            ConflictPolicy::LocalWins
        );
        assert_eq!(
            EntityType::Product.conflict_policy(),
            ConflictPolicy::ServerWins
        );
        assert_eq!(
            EntityType::Customer.conflict_policy(),
            ConflictPolicy::Timestamp
        );
    }

    #[test]
    fn entity_type_round_trips_and_rejects_unknown() {
        for t in EntityType::ALL {
            assert_eq!(t.as_str().parse::<EntityType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        let err = "invoice".parse::<EntityType>().unwrap_err();
        assert!(err.to_string().contains("unknown entity type 'invoice'"));
    }

    #[test]
    fn sync_states_parse_case_insensitively() {
        for s in SyncState::ALL {
            assert_eq!(SyncState::parse(&s.as_str().to_lowercase()), Some(s));
        }
        assert_eq!(SyncState::parse("DONE"), None);
    }

    #[test]
    fn hlc_is_monotonic_when_wall_clock_goes_backwards() {
        let t1 = hlc::tick(0, 1_000);
        let t2 = hlc::tick(t1, 500); // clock jumped back
        let t3 = hlc::tick(t2, 500);
        assert!(t1 < t2 && t2 < t3);
        assert_eq!(hlc::millis(t3), 1_000);
        assert_eq!(hlc::counter(t3), 2);
        let t4 = hlc::tick(t3, 2_000);
        assert_eq!((hlc::millis(t4), hlc::counter(t4)), (2_000, 0));
    }

    #[test]
    fn hlc_observe_orders_after_remote() {
        let remote = hlc::pack(10_000, 7);
        let local = hlc::observe(hlc::pack(5_000, 0), remote, 6_000);
        assert!(local > remote);
        assert_eq!(hlc::millis(local), 10_000);
    }

    #[test]
    fn hlc_counter_overflow_borrows_next_millisecond() {
        let full = hlc::pack(1_000, (1 << 16) - 1);
        let next = hlc::tick(full, 1_000);
        assert!(next > full);
        assert_eq!((hlc::millis(next), hlc::counter(next)), (1_001, 0));
    }
}
