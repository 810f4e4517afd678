//! Idempotency-Key replay: the same key with the same request replays the saved answer;
//! a different endpoint or different parameters is a 400 `idempotency_error`.
//!
//! Like Stripe, saved answers expire after 24 hours (of the emulator's clock),
//! so a long-running emulator (`serve --demo`, `watch --demo`) does not keep
//! every write's answer forever; at most [`MAX_SAVED`] are kept in any case.

use super::errors::ApiError;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

/// How long a saved answer can be replayed (Stripe: keys are pruned after 24 hours).
pub const RETENTION_SECS: i64 = 24 * 3600;
/// Most saved answers kept at once (the oldest go first).
pub const MAX_SAVED: usize = 100_000;

/// A saved answer.
#[derive(Debug, Clone)]
pub struct Saved {
    /// `POST /v1/customers`.
    pub endpoint: String,
    /// Canonical form of the parameters.
    pub fingerprint: String,
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Request id of the original request.
    pub request_id: String,
}

/// Saved answers by (account key, idempotency key), with the order they were
/// saved in (emulator time) for expiry.
#[derive(Debug, Default)]
pub struct Store {
    saved: HashMap<(String, String), Saved>,
    order: VecDeque<(i64, (String, String))>,
}

/// Parameters with sorted keys, so field order does not matter.
pub fn fingerprint(v: &Value) -> String {
    fn canon(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), canon(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
            other => other.clone(),
        }
    }
    canon(v).to_string()
}

impl Store {
    /// A saved answer to replay, a mismatch error, or `None` to run the request.
    pub fn lookup(&self, account: &str, key: &str, endpoint: &str, fp: &str) -> Result<Option<&Saved>, ApiError> {
        let Some(s) = self.saved.get(&(account.to_string(), key.to_string())) else {
            return Ok(None);
        };
        if s.endpoint != endpoint {
            return Err(ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{}' vs '{endpoint}'). Try using a key other than '{key}' if you meant to execute a different request.",
                s.endpoint
            )));
        }
        if s.fingerprint != fp {
            return Err(ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            )));
        }
        Ok(Some(s))
    }

    /// Saves an answer at emulator time `now`, first forgetting those older
    /// than [`RETENTION_SECS`] (and the oldest beyond [`MAX_SAVED`]).
    pub fn save(&mut self, account: &str, key: &str, saved: Saved, now: i64) {
        while let Some((at, _)) = self.order.front() {
            if *at > now - RETENTION_SECS && self.order.len() < MAX_SAVED {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.saved.remove(&old);
            }
        }
        let id = (account.to_string(), key.to_string());
        if self.saved.insert(id.clone(), saved).is_none() {
            self.order.push_back((now, id));
        }
    }

    /// Number of answers kept.
    pub fn len(&self) -> usize {
        self.saved.len()
    }

    /// True when no answer is kept.
    pub fn is_empty(&self) -> bool {
        self.saved.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Saved {
        Saved {
            endpoint: "POST /v1/customers".into(),
            fingerprint: "{}".into(),
            status: 200,
            body: vec![],
            request_id: "req_1".into(),
        }
    }

    #[test]
    fn answers_expire_after_a_day_of_emulator_time() {
        let mut store = Store::default();
        store.save("acct", "k1", saved(), 1_000);
        store.save("acct", "k2", saved(), 1_000 + RETENTION_SECS / 2);
        assert!(store.lookup("acct", "k1", "POST /v1/customers", "{}").unwrap().is_some());
        store.save("acct", "k3", saved(), 1_000 + RETENTION_SECS);
        assert!(store.lookup("acct", "k1", "POST /v1/customers", "{}").unwrap().is_none(), "k1 is a day old");
        assert!(store.lookup("acct", "k2", "POST /v1/customers", "{}").unwrap().is_some());
        assert_eq!(store.len(), 2);
        for i in 0..10_000 {
            store.save("acct", &format!("n{i}"), saved(), 1_000 + RETENTION_SECS + i * 60);
        }
        assert!(
            store.len() <= RETENTION_SECS as usize / 60 + 1,
            "a steady stream keeps a day's worth: {}",
            store.len()
        );
    }
}
