//! Reliability campaigns (issue 9): crashes, network faults, wrong clocks, hostile input,
//! storage faults and security checks, each against real engines and the real reference
//! server on loopback. They run small inside `cargo test` (so `make test` runs them) and
//! full size with `POS_SYNC_RELIABILITY=full` (`make reliability`). docs/reliability.md
//! describes each campaign and its latest full-size results.

#[path = "../support/mod.rs"]
mod support;

mod clocks;
mod crash;
mod hostile_input;
mod network;
mod power_loss;
mod rig;
mod security;
mod storage;
