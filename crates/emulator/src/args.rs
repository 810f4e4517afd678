//! Flags of `stripe-sql emulator` (DESIGN.md §8).

/// `stripe-sql emulator --listen 127.0.0.1:12111 [--data demo|empty] [--scale N] ...`
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1:12111")]
    pub listen: std::net::SocketAddr,
    /// Initial data set: `demo` or `empty`.
    #[arg(long, default_value = "demo")]
    pub data: String,
    /// Multiplies the demo data set's size.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Fixed latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Per-endpoint request budget per second (0 = unlimited); excess gets 429.
    #[arg(long, default_value_t = 0.0)]
    pub endpoint_rps: f64,
    /// Global request budget per second (0 = unlimited); excess gets 429.
    #[arg(long, default_value_t = 0.0)]
    pub global_rps: f64,
    /// How the budgets are enforced: `bucket` (a token bucket: bursts of one
    /// second's budget) or `sliding` (at most the budget in any one second).
    #[arg(long, value_enum, default_value = "bucket")]
    pub rate_window: crate::limits::RateWindow,
    /// Probability (0..1) that a request fails with a 500.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Connected accounts to serve (`GET /v1/accounts`, `Stripe-Account`), each
    /// with its own demo data and its own rate limits. (Not `--accounts`: in
    /// `stripe-sql emulator` that is the global flag choosing which accounts
    /// a query reads.)
    #[arg(long, default_value_t = 0)]
    pub connected_accounts: u32,
    /// Seed for demo data and fault injection.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
