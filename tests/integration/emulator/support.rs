//! Tiny HTTP helpers for the emulator tests (independent of `stripe_sql::stripe`).

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::sync::OnceLock;
use stripe_sql::emulator::{Emulator, EmulatorConfig};

/// One answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(String::from)
    }

    /// `body.error.<field>` as text.
    pub fn err(&self, field: &str) -> String {
        self.body["error"][field].as_str().unwrap_or("").to_string()
    }

    /// `body.<field>` as text.
    pub fn s(&self, field: &str) -> String {
        self.body[field].as_str().unwrap_or("").to_string()
    }
}

/// A client bound to one server and key.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    http: reqwest::Client,
    /// `Stripe-Account` sent with every request, if any.
    account: Option<String>,
}

/// Form/query encoding of pairs.
pub fn enc(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("reqwest client")
}

impl Api {
    /// Talks to an emulator with its test key.
    pub fn new(emu: &Emulator) -> Self {
        Api::with(&emu.base_url(), emu.api_key())
    }

    /// Talks to any Stripe-like server.
    pub fn with(base: &str, key: &str) -> Self {
        Api { base: base.to_string(), key: key.to_string(), http: client(), account: None }
    }

    /// This client acting as connected account `account` (`Stripe-Account`).
    pub fn as_account(&self, account: &str) -> Self {
        Api { account: Some(account.to_string()), ..self.clone() }
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let rb = match &self.account {
            Some(a) => rb.header("Stripe-Account", a),
            None => rb,
        };
        let r = rb.bearer_auth(&self.key).send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body read");
        let body =
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Resp { status, body, headers }
    }

    fn url(&self, path: &str, q: &[(&str, &str)]) -> String {
        if q.is_empty() { format!("{}{path}", self.base) } else { format!("{}{path}?{}", self.base, enc(q)) }
    }

    /// GET with query pairs.
    pub async fn get(&self, path: &str, q: &[(&str, &str)]) -> Resp {
        self.send(self.http.get(self.url(path, q))).await
    }

    /// POST a form.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        self.send(self.form(path, form)).await
    }

    /// POST a form with an Idempotency-Key.
    pub async fn post_key(&self, path: &str, form: &[(&str, &str)], key: &str) -> Resp {
        self.send(self.form(path, form).header("Idempotency-Key", key)).await
    }

    /// The raw request builder for a form POST (for fault tests).
    pub fn form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.http.post(self.url(path, &[])).header("Content-Type", "application/x-www-form-urlencoded").body(enc(form))
    }

    /// The raw request builder for a GET (for fault tests).
    pub fn raw_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path, &[])).bearer_auth(&self.key)
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path, &[]))).await
    }

    /// Every object of a list, following `starting_after` with `limit=100`.
    pub async fn list_all(&self, path: &str, q: &[(&str, &str)]) -> Vec<Value> {
        let mut out: Vec<Value> = vec![];
        let mut after: Option<String> = None;
        loop {
            let mut params: Vec<(&str, &str)> = q.to_vec();
            params.push(("limit", "100"));
            if let Some(a) = &after {
                params.push(("starting_after", a.as_str()));
            }
            let r = self.get(path, &params).await;
            assert_eq!(r.status, 200, "listing {path} {q:?}: {}", r.body);
            let data = r.body["data"].as_array().cloned().unwrap_or_default();
            let more = r.body["has_more"].as_bool().unwrap_or(false);
            after = data.last().and_then(|v| v["id"].as_str()).map(String::from);
            out.extend(data);
            if !more || after.is_none() {
                return out;
            }
            assert!(out.len() < 1_000_000, "pagination does not end");
        }
    }
}

/// Ids of objects.
pub fn ids(v: &[Value]) -> Vec<String> {
    v.iter().map(|o| o["id"].as_str().unwrap_or("").to_string()).collect()
}

/// A shared read-only demo emulator (never written to by tests).
pub fn demo() -> &'static Emulator {
    static DEMO: OnceLock<Emulator> = OnceLock::new();
    DEMO.get_or_init(|| Emulator::start(EmulatorConfig::demo()).expect("demo emulator starts"))
}

/// A fresh empty emulator for tests that write.
pub fn fresh() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("emulator starts")
}

/// A customer with an attached default card, on an API.
pub async fn customer_with_card(api: &Api, email: &str, card: &str) -> (String, String) {
    let c = api.post("/v1/customers", &[("email", email), ("name", "Test Person")]).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let cus = c.s("id");
    let pm = api.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", cus.as_str())]).await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    let pm_id = pm.s("id");
    let u = api
        .post(&format!("/v1/customers/{cus}"), &[("invoice_settings[default_payment_method]", pm_id.as_str())])
        .await;
    assert_eq!(u.status, 200, "{}", u.body);
    (cus, pm_id)
}
