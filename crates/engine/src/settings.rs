//! Session settings under `stripe.*` (`SET stripe.use_search = false`) and
//! the engine-level write policy: a leaf module that the provider, writes,
//! actions, watch and the engine all read, and that depends on none of them.

use datafusion::catalog::Session;
use datafusion::common::config::ConfigExtension;
use datafusion::common::extensions_options;

use std::time::Duration;

extensions_options! {
    /// Per-session settings of the Stripe tables.
    pub struct StripeOptions {
        /// Use Stripe's Search API for predicates list endpoints cannot express
        /// (search is eventually consistent: new objects appear after ~1 minute).
        pub use_search: bool, default = true
        /// Allow UPDATE/DELETE without a WHERE clause.
        pub allow_unfiltered_dml: bool, default = false
        /// Record the calls a write would make (see `stripe_last_write()`)
        /// instead of sending them; the statement's count is 0.
        pub dry_run: bool, default = false
        /// Concurrent requests one scan, or one write statement, may make. A list
        /// scan needing many pages is split into `created` ranges fetched this many
        /// at a time (1: one sequential cursor walk); the client's rate limiter
        /// still caps the request rate. 16 keeps Stripe's 25 requests/s per endpoint
        /// busy up to ~600 ms per page.
        pub max_concurrency: u64, default = 16
        /// How long list and retrieve responses are reused for identical requests:
        /// seconds (`30`) or a duration (`30s`, `2m`, `500ms`); `0` (the default)
        /// turns the cache off. Writes and actions empty the cache.
        pub cache_ttl: String, default = "0".to_string()
        /// Joins and `IN (subquery)`: read the selective side first and send its
        /// distinct keys as the other side's filters (retrieves, list params,
        /// parent lists) when the query runs. `false`: every side is read as its
        /// own filters say (for comparison and troubleshooting).
        pub join_pushdown: bool, default = true
        /// Most distinct keys a join pushes into the other side; with more, that
        /// side is read with its own filters only. Each key costs one call (a
        /// retrieve, or one list page for a key with at most 100 rows), while a
        /// full scan costs one call per 100 objects: 100 keys cost what a full
        /// scan of a 10,000-object table costs, and a live account's tables are
        /// usually larger. Capped at 10,000 (DataFusion's IN-list limit, set to
        /// match by the engine).
        pub join_max_keys: u64, default = 100
        /// Connect: `'all'` (the platform and every connected account) or a
        /// list of `acct_…` ids; every table then gains an `account` column.
        /// Empty (the default): the one account of the client.
        pub accounts: String, default = String::new()
        /// Under `stripe.accounts`: `'warn'` (the default) reports an account
        /// that fails (revoked, 403, deleted) and goes on with the others;
        /// `'fail'` fails the query.
        pub account_errors: String, default = "warn".to_string()
        /// Under `stripe.accounts`: accounts scanned at once (each one split
        /// into ranges as `max_concurrency` says). 32: four times the first
        /// default (8) doubled a 50- and a 200-account count (`benches/accounts.rs`)
        /// with the same peak memory, since a scan streams; each account keeps
        /// its own rate budget, and the process's `max_rps` still bounds the sum.
        pub account_concurrency: u64, default = 32
        /// Where tables are read from: `live` (the API), `mirror` (the local
        /// Delta mirror; an error for a table that is not mirrored) or `auto`
        /// (the default): the mirror when the table is mirrored and no staler
        /// than `max_staleness`, live otherwise. Without a mirror (`--mirror`)
        /// every setting reads live. Writes always go to Stripe.
        pub source: String, default = "auto".to_string()
        /// How stale (seconds or a duration) a mirrored table may be for `auto`
        /// to read it. 60 s: four 15 s sync intervals, so one slow or failed
        /// poll does not send a dashboard to the API, while an answer is never
        /// older than the minute Stripe's own Search API may lag.
        pub max_staleness: String, default = "60s".to_string()
    }
}

impl ConfigExtension for StripeOptions {
    const PREFIX: &'static str = "stripe";
}

impl StripeOptions {
    /// The session's settings (defaults when the extension is not registered).
    pub fn from_session(state: &dyn Session) -> Self {
        state.config_options().extensions.get::<StripeOptions>().cloned().unwrap_or_default()
    }

    /// `cache_ttl` as a duration.
    pub fn cache_ttl(&self) -> datafusion::error::Result<Duration> {
        parse_duration(&self.cache_ttl).ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!(
                "stripe.cache_ttl must be seconds or a duration such as '30s', '2m' or '500ms', not {:?}",
                self.cache_ttl
            ))
        })
    }

    /// `source` checked: `live`, `mirror` or `auto`.
    pub fn source(&self) -> datafusion::error::Result<Source> {
        match self.source.trim().to_ascii_lowercase().as_str() {
            "live" => Ok(Source::Live),
            "mirror" => Ok(Source::Mirror),
            "auto" => Ok(Source::Auto),
            other => Err(datafusion::error::DataFusionError::Plan(format!(
                "stripe.source must be 'live', 'mirror' or 'auto', not {other:?}"
            ))),
        }
    }

    /// `max_staleness` as a duration.
    pub fn max_staleness(&self) -> datafusion::error::Result<Duration> {
        parse_duration(&self.max_staleness).ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!(
                "stripe.max_staleness must be seconds or a duration such as '60s' or '5m', not {:?}",
                self.max_staleness
            ))
        })
    }

    /// Most join keys pushed into a scan: `join_max_keys`, capped at
    /// [`JOIN_KEYS_CEILING`]; 0 when join pushdown is off.
    pub fn join_key_limit(&self) -> usize {
        if !self.join_pushdown {
            return 0;
        }
        (self.join_max_keys as usize).min(JOIN_KEYS_CEILING)
    }
}

/// Where `stripe.source` says tables are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Always the API.
    Live,
    /// Always the mirror.
    Mirror,
    /// The mirror when fresh enough, else the API.
    Auto,
}

/// Engine-level write permissions (not a SQL setting: a statement cannot lift it).
/// Stored in the `SessionConfig` extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct WritePolicy {
    /// Allow writes with a live key (`sk_live_`, `rk_live_`); off by default.
    pub allow_live_writes: bool,
}

/// Largest useful `stripe.join_max_keys`: the session sets DataFusion's
/// `hash_join_inlist_pushdown_max_distinct_values` to this, so a build side of up
/// to this many distinct keys reaches the scan as an IN list (above it DataFusion
/// sends only a hash lookup, which names no key).
pub const JOIN_KEYS_CEILING: usize = 10_000;

/// Parses `30`, `30s`, `1.5s`, `500ms`, `2m`, `1h`, `0`, `off` (no unit: seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim().trim_matches('\'').trim().to_ascii_lowercase();
    if text == "off" || text == "none" {
        return Some(Duration::ZERO);
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => value * 60.0,
        "h" | "hour" | "hours" => value * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_ttl_accepts_seconds_and_durations() {
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 2m "), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("off"), Some(Duration::ZERO));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("3 weeks"), None);
        let mut o = StripeOptions::default();
        assert_eq!(o.cache_ttl().unwrap(), Duration::ZERO);
        o.cache_ttl = "x".into();
        assert!(o.cache_ttl().unwrap_err().to_string().contains("stripe.cache_ttl"));
    }
}
