//! One planned action: which endpoint, which body, and the statement's
//! idempotency key. Sends the requests for a list of ids (in order, stopping
//! at the first failure) and reports exactly which ids were done, which one
//! failed and which were not attempted.

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use serde_json::{Map, Value};

use crate::catalog::ActionDef;
use crate::stripe;

/// An action with validated parameters, ready to run for any id.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    /// The catalog entry.
    pub def: Arc<ActionDef>,
    /// Body parameters (without the id).
    pub body: Map<String, Value>,
    /// Random per planned statement: re-executing the same plan reuses the
    /// keys (Stripe replays the first answer), a new statement gets new ones.
    pub statement_nonce: String,
}

/// One HTTP request an action makes for one id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `POST` or `DELETE`.
    pub method: String,
    /// Path with the id filled in.
    pub path: String,
    /// Form body (POST) or query (DELETE).
    pub params: Value,
    /// The `Idempotency-Key` sent with a POST (`None` for DELETE).
    pub idempotency_key: Option<String>,
}

impl PreparedCall {
    /// A call of `def` with `body`, with a fresh statement nonce.
    pub fn new(def: Arc<ActionDef>, body: Map<String, Value>) -> Self {
        let statement_nonce = format!("{:024x}", rand::random::<u128>() >> 32);
        Self {
            def,
            body,
            statement_nonce,
        }
    }

    /// The request for `id` (which the caller has checked with `args::check_id`).
    pub fn request(&self, id: &str) -> Request {
        let mut params = Map::new();
        let path = match &self.def.id_param {
            Some(param) => {
                params.insert(param.clone(), Value::String(id.to_string()));
                self.def.path.clone()
            }
            None => self.def.path.replace("{id}", id),
        };
        params.extend(self.body.clone());
        let method = self.def.method.to_ascii_uppercase();
        let idempotency_key = (method == "POST")
            .then(|| format!("stripe-sql-{}-{}-{id}", self.def.name, self.statement_nonce));
        Request {
            method,
            path,
            params: Value::Object(params),
            idempotency_key,
        }
    }

    /// Sends the request for `id`.
    pub async fn send(&self, client: &stripe::Client, id: &str) -> Result<Value, stripe::ApiError> {
        let r = self.request(id);
        match r.idempotency_key {
            Some(key) => client.post_with_key(&r.path, &r.params, &key).await,
            None => client.delete(&r.path, &r.params).await,
        }
    }

    /// Runs the action for every id in order and returns Stripe's objects.
    /// Stops at the first failure; the error lists done, failed and skipped ids.
    pub async fn run_all(&self, client: &stripe::Client, ids: &[String]) -> Result<Vec<Value>> {
        let mut objects = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            match self.send(client, id).await {
                Ok(object) => objects.push(object),
                Err(e) => return Err(self.failure(ids, i, &e)),
            }
        }
        Ok(objects)
    }

    fn failure(&self, ids: &[String], failed: usize, error: &stripe::ApiError) -> DataFusionError {
        let name = &self.def.name;
        let id = &ids[failed];
        if ids.len() == 1 {
            return DataFusionError::Execution(format!("{name}('{id}') failed: {error}"));
        }
        let list = |s: &[String]| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.join(", ")
            }
        };
        DataFusionError::Execution(format!(
            "{name} stopped at the first failure: done for {} of {} id(s) [{}]; failed for {id}: {error}; not attempted [{}]",
            failed,
            ids.len(),
            list(&ids[..failed]),
            list(&ids[failed + 1..])
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, body: Value) -> PreparedCall {
        let def = crate::catalog::builtin()
            .action(name)
            .expect("action")
            .clone();
        PreparedCall::new(Arc::new(def), body.as_object().unwrap().clone())
    }

    #[test]
    fn fills_the_path_or_the_id_param() {
        let c = call("capture_payment_intent", json!({"amount_to_capture": 5}));
        let r = c.request("pi_1");
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/v1/payment_intents/pi_1/capture")
        );
        assert_eq!(r.params, json!({"amount_to_capture": 5}));
        let r = call("refund_charge", json!({"amount": 5})).request("ch_1");
        assert_eq!(r.path, "/v1/refunds");
        assert_eq!(r.params, json!({"charge": "ch_1", "amount": 5}));
    }

    #[test]
    fn keys_are_stable_per_statement_and_id_and_differ_between_statements() {
        let c = call("void_invoice", json!({}));
        assert_eq!(
            c.request("in_1").idempotency_key,
            c.request("in_1").idempotency_key
        );
        assert_ne!(
            c.request("in_1").idempotency_key,
            c.request("in_2").idempotency_key
        );
        let other = call("void_invoice", json!({}));
        assert_ne!(
            c.request("in_1").idempotency_key,
            other.request("in_1").idempotency_key
        );
        assert_eq!(
            call("cancel_subscription", json!({}))
                .request("sub_1")
                .idempotency_key,
            None
        );
    }
}
