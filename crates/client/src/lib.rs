//! The Stripe HTTP client. Knows nothing of SQL or Arrow.
//!
//! - [`key`]: the API key as a secret; [`config`]: client settings.
//! - [`form`]: Stripe's bracket encoding; [`wire`]: envelopes and [`ApiError`].
//! - [`retry`]: the pure retry policy; [`rate_limit`]: the shared request budget (paced,
//!   with [`window`]: no second ever holds more than the budget).
//! - [`pagination`]: cursor and search-page state machines with a loop guard.
//! - [`raw`]: responses kept as (compacted, see [`compact`]) text for the column decoder.
//! - [`log`]: the request log; [`cache`]: the response cache; [`client`]: the [`Client`] tying them together.

mod attempt;
pub mod cache;
pub mod client;
pub mod compact;
pub mod config;
pub mod form;
pub mod key;
pub mod log;
pub mod pagination;
pub mod rate_limit;
pub mod raw;
pub mod retry;
pub mod window;
pub mod wire;

pub use cache::CallObserver;
pub use client::{AccountScope, Client, install_crypto_provider};
pub use config::{ClientConfig, DEFAULT_API_BASE, DEFAULT_STRIPE_VERSION, MAX_ENDPOINT_RPS, ProxyConfig};
pub use key::{ApiKey, KeyError, KeyKind, Mode};
pub use log::{LogEntry, RequestLog};
pub use raw::{RawObjects, RawPage};
pub use wire::{ApiError, Page, SearchPage, StatusError};
