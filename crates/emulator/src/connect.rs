//! Connected accounts (Stripe Connect): with `accounts = N` the emulator is a
//! platform with N connected accounts. `GET /v1/accounts` lists them (paged,
//! newest first); a request carrying `Stripe-Account: acct_…` is served from
//! that account's own data (the demo data with a seed of its own, built on its
//! first request), under that account's own latency and rate limits. An unknown
//! or revoked account answers as Stripe does: 403, `account_invalid`.

use super::config::{DataSet, EmulatorConfig};
use super::errors::ApiError;
use super::faults::Faults;
use super::idempotency;
use super::list;
use super::params::Params;
use super::server::{Inner, lock};
use super::store::State;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// One connected account.
#[derive(Debug)]
pub struct Connected {
    /// `acct_…`.
    pub id: String,
    /// When the account was connected (unix seconds).
    pub created: i64,
    seed: u64,
    data: DataSet,
    scale: u32,
    inner: OnceLock<Mutex<Inner>>,
    /// This account's latency and rate limits.
    pub faults: Mutex<Faults>,
    revoked: AtomicBool,
    /// Requests still answered before access is revoked (negative: no limit).
    answers_left: AtomicI64,
    /// Requests received as this account (answered or refused).
    pub received: AtomicU64,
}

impl Connected {
    /// The account's state, built on first use.
    pub fn inner(&self) -> &Mutex<Inner> {
        self.inner.get_or_init(|| {
            let mut state = State::new(self.seed);
            if self.data == DataSet::Demo {
                super::demo::generate(&mut state, self.seed, self.scale);
            }
            Mutex::new(Inner { state, idem: idempotency::Store::default() })
        })
    }

    /// Whether a request may go on: counts it against a scheduled revocation.
    fn admit(&self) -> bool {
        self.received.fetch_add(1, Ordering::Relaxed);
        if self.revoked.load(Ordering::SeqCst) {
            return false;
        }
        let left = self.answers_left.fetch_sub(1, Ordering::SeqCst);
        if left == 0 {
            self.revoked.store(true, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// The account object, as `GET /v1/accounts` shows it.
    pub fn object(&self) -> Value {
        json!({
            "id": self.id,
            "object": "account",
            "type": "express",
            "country": "US",
            "created": self.created,
            "charges_enabled": true,
            "payouts_enabled": true,
            "details_submitted": true,
            "default_currency": "usd",
            "metadata": {},
        })
    }
}

/// The platform's connected accounts, newest first.
#[derive(Debug, Default)]
pub struct Accounts {
    list: Vec<Connected>,
    index: HashMap<String, usize>,
}

/// The id of connected account number `i` (deterministic).
pub fn account_id(i: usize) -> String {
    format!("acct_1Connected{i:07}")
}

impl Accounts {
    /// `config.accounts` connected accounts, each with the configured data set.
    pub fn new(config: &EmulatorConfig) -> Self {
        let newest = super::demo::REFERENCE_NOW;
        let list: Vec<Connected> = (0..config.accounts as usize)
            .map(|i| {
                let seed = config.seed.wrapping_add(1 + i as u64).wrapping_mul(0x9E37_79B9);
                let mut own = config.clone();
                own.seed = seed;
                Connected {
                    id: account_id(i),
                    created: newest - i as i64 * 3600,
                    seed,
                    data: config.data,
                    scale: config.scale.max(1),
                    inner: OnceLock::new(),
                    faults: Mutex::new(Faults::new(&own)),
                    revoked: AtomicBool::new(false),
                    answers_left: AtomicI64::new(-1),
                    received: AtomicU64::new(0),
                }
            })
            .collect();
        let index = list.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
        Accounts { list, index }
    }

    /// The account `id`, if connected.
    pub fn get(&self, id: &str) -> Option<&Connected> {
        self.index.get(id).map(|i| &self.list[*i])
    }

    /// Every connected account's id, newest first.
    pub fn ids(&self) -> Vec<String> {
        self.list.iter().map(|c| c.id.clone()).collect()
    }

    /// The account a `Stripe-Account` header names, or Stripe's 403 when it is
    /// unknown or its access was revoked.
    pub fn admit(&self, id: &str, key: &str) -> Result<&Connected, ApiError> {
        match self.get(id) {
            Some(c) if c.admit() => Ok(c),
            _ => Err(denied(id, key)),
        }
    }

    /// Revokes the platform's access to `id` after `answers` more requests
    /// (0: at once).
    pub fn revoke_after(&self, id: &str, answers: u64) {
        if let Some(c) = self.get(id) {
            c.answers_left.store(answers as i64, Ordering::SeqCst);
            if answers == 0 {
                c.revoked.store(true, Ordering::SeqCst);
            }
        }
    }

    /// `GET /v1/accounts`: the connected accounts, paged like any list.
    pub fn list(&self, params: &Params) -> Result<Value, ApiError> {
        let items: Vec<Value> = self.list.iter().map(Connected::object).collect();
        list::page_of(&items, "/v1/accounts", params)
    }

    /// Requests received as account `id` (0 when unknown).
    pub fn received(&self, id: &str) -> u64 {
        self.get(id).map_or(0, |c| c.received.load(Ordering::Relaxed))
    }

    /// Stored objects of `resource` in account `id` (0 when unknown).
    pub fn count(&self, id: &str, resource: &str) -> usize {
        self.get(id).map_or(0, |c| lock(c.inner()).state.count(resource))
    }
}

/// Stripe's answer to a `Stripe-Account` the key may not act as. The message
/// shows only the key's prefix, never the key.
fn denied(id: &str, key: &str) -> ApiError {
    let prefix = key.get(..8).unwrap_or("sk_");
    ApiError::permission(format!(
        "The provided key '{prefix}***' does not have access to account '{id}' (or that account does not exist). Application access may have been revoked."
    ))
    .with_code("account_invalid")
}
