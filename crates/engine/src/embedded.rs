//! The embedded API for Rust programs: query a Stripe account (or the
//! built-in emulator's demo data) with SQL and get Arrow record batches or a
//! DataFusion `DataFrame`, or add the `stripe` schema to a `SessionContext`
//! you already have.
//!
//! ```no_run
//! # async fn run() -> stripe_sql::Result<()> {
//! use stripe_sql::embedded::StripeSql;
//! let stripe = StripeSql::builder().api_key("sk_test_...").build()?;
//! let batches = stripe.sql("SELECT id, email FROM customers LIMIT 5").await?;
//! # Ok(()) }
//! ```

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use secrecy::{ExposeSecret, SecretString};

#[cfg(feature = "demo")]
use crate::emulator::EmulatorConfig;
use crate::engine::Engine;
use crate::stripe;
use crate::{Error, Result};

/// A SQL session over one Stripe account; build it with [`StripeSql::builder`].
#[derive(Debug)]
pub struct StripeSql {
    engine: Engine,
}

impl StripeSql {
    /// Starts a builder: give it an API key (or `.demo()`), then `.build()`.
    pub fn builder() -> StripeSqlBuilder {
        StripeSqlBuilder::default()
    }

    /// Runs one SQL statement and collects its rows as Arrow record batches.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.engine.sql(sql).await
    }

    /// Plans one SQL statement as a DataFusion DataFrame (nothing runs until it is collected).
    pub async fn dataframe(&self, sql: &str) -> Result<DataFrame> {
        self.engine.dataframe(sql).await
    }

    /// The underlying DataFusion context (register more tables, UDFs, ...).
    pub fn context(&self) -> &SessionContext {
        self.engine.context()
    }

    /// The engine (request log, emulator controls in demo mode).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Configures a [`StripeSql`] session.
#[derive(Default)]
pub struct StripeSqlBuilder {
    api_key: Option<SecretString>,
    api_base: Option<String>,
    account: Option<String>,
    demo: bool,
    allow_live_writes: bool,
    mirror: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for StripeSqlBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSqlBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_base", &self.api_base)
            .field("account", &self.account)
            .field("demo", &self.demo)
            .field("mirror", &self.mirror)
            .finish()
    }
}

impl StripeSqlBuilder {
    /// The Stripe secret or restricted key (`sk_test_...`, `rk_live_...`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Another API base URL (a proxy, stripe-mock, the standalone emulator).
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// Act on a connected account (`Stripe-Account` header).
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Serve the built-in emulator's demo data instead of a Stripe account (no key needed).
    #[cfg(feature = "demo")]
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Allow INSERT/UPDATE/DELETE and actions with a live key (refused by default).
    pub fn allow_live_writes(mut self, allow: bool) -> Self {
        self.allow_live_writes = allow;
        self
    }

    /// Read mirrored tables from the mirror under `dir` (made by `stripe-sql
    /// sync`), as `stripe.source` says (`auto` by default).
    pub fn mirror(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.mirror = Some(dir.into());
        self
    }

    /// Builds the session: starts the emulator in demo mode, otherwise checks the key.
    pub fn build(self) -> Result<StripeSql> {
        #[cfg(feature = "demo")]
        if self.demo {
            let engine = Engine::with_emulator(EmulatorConfig::demo(), |_| {})?;
            if let Some(dir) = self.mirror {
                engine.set_mirror(dir);
            }
            return Ok(StripeSql { engine });
        }
        let key = self
            .api_key
            .ok_or_else(|| Error::Config("no api key given: call .api_key(\"sk_test_...\") or .demo()".to_owned()))?;
        let key = stripe::ApiKey::parse(key.expose_secret()).map_err(|e| Error::Config(e.to_string()))?;
        let mut config = stripe::ClientConfig::new(key);
        if let Some(base) = self.api_base {
            config.api_base = base;
        }
        config.account = self.account;
        let engine = Engine::new(stripe::Client::new(config)?)?;
        engine.set_allow_live_writes(self.allow_live_writes);
        if let Some(dir) = self.mirror {
            engine.set_mirror(dir);
        }
        Ok(StripeSql { engine })
    }
}

/// Registers schema `stripe` (every Stripe table) and the engine's table
/// functions into an existing DataFusion context, fetching through `client`.
/// Tables are then reachable as `stripe.customers`.
pub fn register(ctx: &SessionContext, client: &stripe::Client) -> Result<()> {
    crate::engine::register(ctx, client)
}

/// [`register`] with a client built from an API key; returns the client
/// (its request log shows every Stripe call the context makes).
pub fn register_with_key(ctx: &SessionContext, api_key: &str) -> Result<stripe::Client> {
    let key = stripe::ApiKey::parse(api_key).map_err(|e| Error::Config(e.to_string()))?;
    let client = stripe::Client::new(stripe::ClientConfig::new(key))?;
    register(ctx, &client)?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_without_key_or_demo_says_what_to_do() {
        let err = StripeSql::builder().build().unwrap_err().to_string();
        assert!(err.contains(".api_key") && err.contains(".demo()"), "{err}");
    }

    #[test]
    fn builder_debug_hides_the_key() {
        let b = StripeSql::builder().api_key("sk_test_secretvalue123");
        assert!(!format!("{b:?}").contains("secretvalue"));
    }
}
