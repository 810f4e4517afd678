//! Configuration of an emulator instance.

use std::time::Duration;

/// Initial contents of the fake account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSet {
    /// No objects.
    Empty,
    /// The deterministic demo account (see `demo`).
    Demo,
}

/// How an emulator starts and misbehaves.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Initial data.
    pub data: DataSet,
    /// Multiplies the demo data's size.
    pub scale: u32,
    /// Fixed latency added to every response.
    pub latency: Duration,
    /// Random extra latency, uniform in `0..jitter`.
    pub jitter: Duration,
    /// Requests per second allowed per endpoint (0 = unlimited); excess gets 429.
    pub endpoint_rps: f64,
    /// Requests per second allowed overall (0 = unlimited); excess gets 429.
    pub global_rps: f64,
    /// How those budgets are enforced: token bucket or strict sliding window.
    pub rate_window: crate::limits::RateWindow,
    /// Probability (0..1) that a request fails with a 500 before it is handled.
    pub fail_rate: f64,
    /// Probability (0..1) that a write's connection is dropped after it is committed.
    pub drop_after_commit_rate: f64,
    /// Seed for ids, demo data and fault injection.
    pub seed: u64,
    /// Connected accounts the platform has (Connect; see `connect`), each with
    /// its own copy of `data` and its own latency and rate limits.
    pub accounts: u32,
    /// Address to bind (`127.0.0.1:0` when `None`).
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            data: DataSet::Empty,
            scale: 1,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            endpoint_rps: 0.0,
            global_rps: 0.0,
            rate_window: crate::limits::RateWindow::Bucket,
            fail_rate: 0.0,
            drop_after_commit_rate: 0.0,
            seed: 42,
            accounts: 0,
            listen: None,
        }
    }
}

impl EmulatorConfig {
    /// The demo account at scale 1.
    pub fn demo() -> Self {
        EmulatorConfig { data: DataSet::Demo, ..Default::default() }
    }
}
