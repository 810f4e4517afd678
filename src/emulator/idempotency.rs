//! Idempotency-Key replay: the same key with the same request replays the saved answer;
//! a different endpoint or different parameters is a 400 `idempotency_error`.

use super::errors::ApiError;
use serde_json::Value;
use std::collections::HashMap;

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

/// Saved answers by (account key, idempotency key).
#[derive(Debug, Default)]
pub struct Store(HashMap<(String, String), Saved>);

/// Parameters with sorted keys, so field order does not matter.
pub fn fingerprint(v: &Value) -> String {
    fn canon(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), canon(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
            other => other.clone(),
        }
    }
    canon(v).to_string()
}

impl Store {
    /// A saved answer to replay, a mismatch error, or `None` to run the request.
    pub fn lookup(
        &self,
        account: &str,
        key: &str,
        endpoint: &str,
        fp: &str,
    ) -> Result<Option<&Saved>, ApiError> {
        let Some(s) = self.0.get(&(account.to_string(), key.to_string())) else {
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

    /// Saves an answer.
    pub fn save(&mut self, account: &str, key: &str, saved: Saved) {
        self.0.insert((account.to_string(), key.to_string()), saved);
    }
}
