//! What every scan and write of one engine shares under `stripe.accounts`: the
//! platform's client (whose per-account budgets are shared by the whole
//! process, see `stripe::Client::as_account`), the platform's own id, the
//! connected accounts' listing (`GET /v1/accounts`, paged) and the warnings of
//! accounts that failed. The engine puts it in the session's extensions, where
//! writes and actions find it.

use std::sync::{Arc, Mutex};

use datafusion::error::{DataFusionError, Result};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};

use crate::stripe;

/// Shared by the tables of one engine.
#[derive(Debug)]
pub struct Fanout {
    client: stripe::Client,
    platform: tokio::sync::OnceCell<String>,
    warnings: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fanout {
    /// Fan-out over the accounts `client`'s key reaches.
    pub fn new(client: stripe::Client) -> Arc<Self> {
        Arc::new(Fanout { client, platform: tokio::sync::OnceCell::new(), warnings: Mutex::default() })
    }

    /// The platform's own account id (`GET /v1/account`, asked once).
    pub async fn platform(&self) -> Result<String> {
        let id = self
            .platform
            .get_or_try_init(|| async {
                let account = self.client.get("/v1/account", &json!({})).await.map_err(external)?;
                account["id"]
                    .as_str()
                    .map(String::from)
                    .ok_or_else(|| DataFusionError::Execution("GET /v1/account answered without an id".to_string()))
            })
            .await?;
        Ok(id.clone())
    }

    /// A client acting as `account`: the platform's own client for the
    /// platform, else one under that account's budget (the client's per-endpoint
    /// budget, for the account overall and per endpoint, shared by every
    /// engine of the process), beside the process's overall budget.
    pub fn client_for(&self, account: &str, platform: &str) -> stripe::Client {
        if account == platform {
            return self.client.clone();
        }
        self.client.as_account(account)
    }

    /// The platform's id and every connected account's, listed now (for
    /// checking a write's target under `stripe.accounts = 'all'`).
    pub async fn all_accounts(self: &Arc<Self>) -> Result<std::collections::BTreeSet<String>> {
        self.every_account().collect::<Vec<_>>().await.into_iter().collect()
    }

    /// The platform's id, then every connected account's (paged, as the pages come).
    pub fn every_account(self: &Arc<Self>) -> BoxStream<'static, Result<String>> {
        let me = Arc::clone(self);
        let platform = futures::stream::once(async move { me.platform().await });
        let pages = self.client.list("/v1/accounts", json!({"limit": 100}));
        let connected = pages.flat_map(|page| {
            let ids: Vec<Result<String>> = match page {
                Ok(page) => {
                    page.data.iter().filter_map(|a: &Value| a["id"].as_str().map(|s| Ok(s.to_string()))).collect()
                }
                Err(e) => vec![Err(external(e))],
            };
            futures::stream::iter(ids)
        });
        platform.chain(connected).boxed()
    }

    /// Records that `account` failed (its rows may be missing or partial).
    pub fn warn(&self, account: &str, error: &DataFusionError) {
        let text = format!("account {account} failed, its rows are missing or partial: {error}");
        tracing::warn!("{text}");
        lock(&self.warnings).push(text);
    }

    /// The warnings recorded since the last [`Fanout::clear_warnings`].
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    /// The warnings recorded so far, forgotten.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.warnings))
    }

    /// Forgets the warnings (a new statement starts).
    pub fn clear_warnings(&self) {
        lock(&self.warnings).clear();
    }
}

fn external(e: stripe::ApiError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
