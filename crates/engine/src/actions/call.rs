//! One planned action: which endpoint, which body, and the statement's
//! idempotency key. Sends the requests for a list of ids, up to
//! `stripe.max_concurrency` at a time; after a failure no further id is
//! started (those in flight finish), and the error reports exactly which ids
//! were done, which failed and which were not attempted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::error::{DataFusionError, Result};
use futures::{StreamExt, stream};
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
    /// How many ids are sent at once (`stripe.max_concurrency` when planned).
    pub concurrency: usize,
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
        Self { def, body, statement_nonce, concurrency: 1 }
    }

    /// The call sending up to `concurrency` ids at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
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
        let idempotency_key =
            (method == "POST").then(|| format!("stripe-sql-{}-{}-{id}", self.def.name, self.statement_nonce));
        Request { method, path, params: Value::Object(params), idempotency_key }
    }

    /// Sends the request for `id`.
    pub async fn send(&self, client: &stripe::Client, id: &str) -> Result<Value, stripe::ApiError> {
        let r = self.request(id);
        match r.idempotency_key {
            Some(key) => client.post_with_key(&r.path, &r.params, &key).await,
            None => client.delete(&r.path, &r.params).await,
        }
    }

    /// Runs the action for every id, each sent through its own client
    /// (`clients[i]` for `ids[i]`: under `stripe.accounts`, the client acting
    /// as its account), and returns Stripe's objects in the order of `ids`. A
    /// repeated id is sent once (its key would make Stripe replay the answer
    /// anyway) and its object repeated. After a failure no further id is
    /// started; the error lists done, failed and skipped ids.
    pub async fn run_as(&self, clients: &[stripe::Client], ids: &[String]) -> Result<Vec<Value>> {
        let mut distinct: Vec<&str> = Vec::with_capacity(ids.len());
        let mut sent_by: Vec<&stripe::Client> = Vec::with_capacity(ids.len());
        for (id, client) in ids.iter().zip(clients) {
            if !distinct.contains(&id.as_str()) {
                distinct.push(id);
                sent_by.push(client);
            }
        }
        let failed = AtomicBool::new(false);
        // Owned items: a closure over borrowed items trips the `Send` check of the exec's stream.
        let owned: Vec<(usize, String, stripe::Client)> =
            distinct.iter().zip(sent_by).enumerate().map(|(i, (id, c))| (i, id.to_string(), c.clone())).collect();
        let outcomes: Vec<(usize, Outcome)> = stream::iter(owned)
            .map(|(i, id, client)| {
                let failed = &failed;
                async move {
                    if failed.load(Ordering::SeqCst) {
                        return (i, Outcome::NotAttempted);
                    }
                    match self.send(&client, &id).await {
                        Ok(object) => (i, Outcome::Done(object)),
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            (i, Outcome::Failed(e))
                        }
                    }
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut by_index: Vec<Option<Outcome>> = (0..distinct.len()).map(|_| None).collect();
        for (i, outcome) in outcomes {
            by_index[i] = Some(outcome);
        }
        let by_index: Vec<Outcome> = by_index.into_iter().map(|o| o.unwrap_or(Outcome::NotAttempted)).collect();
        if by_index.iter().any(|o| matches!(o, Outcome::Failed(_))) {
            return Err(self.failure(&distinct, &by_index));
        }
        let objects: Vec<&Value> = by_index
            .iter()
            .map(|o| match o {
                Outcome::Done(object) => object,
                _ => unreachable!("no failure, so every id was done"),
            })
            .collect();
        Ok(ids.iter().map(|id| objects[distinct.iter().position(|d| d == id).unwrap_or(0)].clone()).collect())
    }

    fn failure(&self, ids: &[&str], outcomes: &[Outcome]) -> DataFusionError {
        let name = &self.def.name;
        let failures: Vec<String> = ids
            .iter()
            .zip(outcomes)
            .filter_map(|(id, o)| match o {
                Outcome::Failed(e) => Some(format!("failed for {id}: {e}")),
                _ => None,
            })
            .collect();
        if let ([id], [Outcome::Failed(e)]) = (ids, outcomes) {
            return DataFusionError::Execution(format!("{name}('{id}') failed: {e}"));
        }
        let list = |wanted: fn(&Outcome) -> bool| {
            let chosen: Vec<&str> = ids.iter().zip(outcomes).filter(|(_, o)| wanted(o)).map(|(id, _)| *id).collect();
            (chosen.len(), if chosen.is_empty() { "none".to_string() } else { chosen.join(", ") })
        };
        let (done, done_ids) = list(|o| matches!(o, Outcome::Done(_)));
        let (_, skipped_ids) = list(|o| matches!(o, Outcome::NotAttempted));
        DataFusionError::Execution(format!(
            "{name} stopped after a failure: done for {done} of {} id(s) [{done_ids}]; {}; not attempted [{skipped_ids}]",
            ids.len(),
            failures.join("; "),
        ))
    }
}

/// What happened to one id of a bulk call.
enum Outcome {
    Done(Value),
    Failed(stripe::ApiError),
    NotAttempted,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, body: Value) -> PreparedCall {
        let def = crate::catalog::builtin().action(name).expect("action").clone();
        PreparedCall::new(Arc::new(def), body.as_object().unwrap().clone())
    }

    #[test]
    fn fills_the_path_or_the_id_param() {
        let c = call("capture_payment_intent", json!({"amount_to_capture": 5}));
        let r = c.request("pi_1");
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/payment_intents/pi_1/capture"));
        assert_eq!(r.params, json!({"amount_to_capture": 5}));
        let r = call("refund_charge", json!({"amount": 5})).request("ch_1");
        assert_eq!(r.path, "/v1/refunds");
        assert_eq!(r.params, json!({"charge": "ch_1", "amount": 5}));
    }

    #[test]
    fn keys_are_stable_per_statement_and_id_and_differ_between_statements() {
        let c = call("void_invoice", json!({}));
        assert_eq!(c.request("in_1").idempotency_key, c.request("in_1").idempotency_key);
        assert_ne!(c.request("in_1").idempotency_key, c.request("in_2").idempotency_key);
        let other = call("void_invoice", json!({}));
        assert_ne!(c.request("in_1").idempotency_key, other.request("in_1").idempotency_key);
        assert_eq!(call("cancel_subscription", json!({})).request("sub_1").idempotency_key, None);
    }
}
