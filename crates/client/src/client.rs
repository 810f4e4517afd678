//! The Stripe client: GET/POST/DELETE with retries, rate limiting and a request log, plus
//! list and search pagination as streams of pages.

use super::attempt::{AttemptResult, Prepared, send_once};
use super::cache::{CallObserver, ResponseCache};
use super::config::ClientConfig;
use super::form;
use super::log::RequestLog;
use super::pagination::{ListCursor, SearchCursor};
use super::rate_limit::{RateLimiter, endpoint_key};
use super::raw::{RawObjects, RawPage};
use super::retry::{Decision, Outcome, RetryPolicy};
use super::wire::{ApiError, Page};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Stripe API client. Cloning is cheap; clones share the connection pool, the rate
/// budget and the request log.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// How long GET responses of this clone may come from the shared cache (zero: never).
    cache_ttl: Duration,
    /// Told about this clone's requests and cache hits (a scan's metrics).
    observer: Option<Arc<dyn CallObserver>>,
    /// Where this clone logs its attempts (shared with the clones made from it).
    log: RequestLog,
    /// The connected account this clone acts as, with that account's own budget.
    scope: Option<Arc<AccountScope>>,
}

/// A connected account a clone acts as (`Stripe-Account`), with its own rate
/// budget; share one per account so every scan of that account draws on it.
#[derive(Debug)]
pub struct AccountScope {
    account: String,
    limiter: RateLimiter,
    /// `created` of this account (`GET /v1/account` as it), asked once.
    created: tokio::sync::OnceCell<Option<i64>>,
}

impl AccountScope {
    /// Account `account` (`acct_…`) allowed `rps` requests per second overall and
    /// `endpoint_rps` per endpoint (0 = unlimited).
    pub fn new(account: &str, rps: f64, endpoint_rps: f64) -> Arc<Self> {
        Arc::new(AccountScope {
            account: account.to_owned(),
            limiter: RateLimiter::new(rps, endpoint_rps),
            created: Default::default(),
        })
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.account
    }
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    limiter: RateLimiter,
    /// The process's budget for requests made as connected accounts: overall
    /// only (each account has its own per-endpoint budget in its scope).
    fanout: RateLimiter,
    policy: RetryPolicy,
    cache: ResponseCache,
    /// `created` of the account (`GET /v1/account`), asked once; `None` when unavailable.
    account_created: tokio::sync::OnceCell<Option<i64>>,
    /// One budget per connected account for the whole process: every clone
    /// (each `serve` connection's engine, each scan) acting as an account
    /// draws on the same one.
    scopes: std::sync::Mutex<std::collections::HashMap<String, Arc<AccountScope>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Installs the process-wide TLS crypto provider (ring) once; later calls do nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// Builds a client from `config`.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        install_crypto_provider();
        url::Url::parse(&config.api_base)
            .map_err(|e| ApiError::InvalidRequest(format!("the api base url {:?} is invalid: {e}", config.api_base)))?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("stripe-sql/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout);
        builder = match &config.proxy {
            None => builder.no_proxy(),
            Some(p) => {
                let mut proxy = reqwest::Proxy::all(&p.url)
                    .map_err(|e| ApiError::InvalidRequest(format!("the proxy url is invalid: {e}")))?;
                if let Some(user) = &p.username {
                    use secrecy::ExposeSecret;
                    let pass = p.password.as_ref().map(|s| s.expose_secret()).unwrap_or("");
                    proxy = proxy.basic_auth(user, pass);
                }
                builder.proxy(proxy)
            }
        };
        let http = builder
            .build()
            .map_err(|e| ApiError::InvalidRequest(format!("the http client could not be built: {e}")))?;
        let policy = RetryPolicy {
            max_retries: config.max_retries,
            base_delay: config.retry_base_delay,
            max_delay: config.retry_max_delay,
            ..RetryPolicy::default()
        };
        let limiter = RateLimiter::new(config.max_rps, config.endpoint_rps);
        let fanout = RateLimiter::new(config.max_rps, 0.0);
        let log = RequestLog::with_capacity(config.request_log_size);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                limiter,
                fanout,
                policy,
                cache: ResponseCache::new(),
                account_created: tokio::sync::OnceCell::new(),
                scopes: Default::default(),
            }),
            cache_ttl: Duration::ZERO,
            observer: None,
            log,
            scope: None,
        })
    }

    /// A clone whose GETs (list pages, retrieves) may be answered from the shared
    /// cache when the same request was answered less than `ttl` ago; zero disables.
    pub fn with_cache_ttl(&self, ttl: Duration) -> Client {
        Client { cache_ttl: ttl, ..self.clone() }
    }

    /// A clone that tells `observer` about each of its requests and cache hits.
    pub fn with_observer(&self, observer: Arc<dyn CallObserver>) -> Client {
        Client { observer: Some(observer), ..self.clone() }
    }

    /// A clone acting as the connected account of `scope` (`Stripe-Account`),
    /// under that account's budget and the process's overall one; it never
    /// uses the response cache (whose keys do not name an account).
    pub fn with_account(&self, scope: Arc<AccountScope>) -> Client {
        Client { scope: Some(scope), ..self.clone() }
    }

    /// A clone acting as connected account `account` (`Stripe-Account`) under
    /// that account's budget, which every clone of this client shares (one
    /// registry per process, made on first use with the configured
    /// per-endpoint rate as the account's overall and per-endpoint budget).
    pub fn as_account(&self, account: &str) -> Client {
        let scope = {
            let mut scopes = self.inner.scopes.lock().unwrap_or_else(|e| e.into_inner());
            let rps = self.inner.config.endpoint_rps;
            Arc::clone(scopes.entry(account.to_owned()).or_insert_with(|| AccountScope::new(account, rps, rps)))
        };
        self.with_account(scope)
    }

    /// The budget of connected account `account` if a clone has acted as it.
    pub fn account_scope(&self, account: &str) -> Option<Arc<AccountScope>> {
        self.inner.scopes.lock().unwrap_or_else(|e| e.into_inner()).get(account).cloned()
    }

    /// The connected account this clone acts as, if any (set by
    /// [`Client::with_account`] or the configuration's `account`).
    pub fn account(&self) -> Option<&str> {
        self.scope.as_deref().map(AccountScope::account).or(self.inner.config.account.as_deref())
    }

    /// Empties the response cache shared by every clone (`\cache clear`).
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }

    /// Number of responses in the shared cache.
    pub fn cached_responses(&self) -> usize {
        self.inner.cache.len()
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The log of every HTTP attempt made by this client and its clones.
    pub fn request_log(&self) -> RequestLog {
        self.log.clone()
    }

    /// A clone (same connections, rate budget and cache) that logs into `log`
    /// instead, and so do the clones made from it: one `serve` connection's
    /// calls, apart from the others', freed with the connection.
    pub fn with_request_log(&self, log: RequestLog) -> Client {
        Client { log, ..self.clone() }
    }

    /// When the account was created (unix seconds), from `GET /v1/account`: asked
    /// once and shared by every clone; `None` when the call fails (a restricted
    /// key, a fake without the endpoint) or the answer has no `created`.
    pub async fn account_created(&self) -> Option<i64> {
        // A connected account's creation time is its own, not the platform's.
        let cell = self.scope.as_ref().map_or(&self.inner.account_created, |s| &s.created);
        *cell
            .get_or_init(|| async {
                let account = self.get("/v1/account", &Value::Object(Default::default())).await.ok()?;
                account.get("created")?.as_i64()
            })
            .await
    }

    /// `GET path?query` (query encoded with Stripe's bracket form).
    pub async fn get(&self, path: &str, query: &Value) -> Result<Value, ApiError> {
        self.call(Method::GET, path, query, None, parse_value).await
    }

    /// `GET path?query` of one object, kept as compact JSON text (for the column decoder).
    pub async fn get_raw(&self, path: &str, query: &Value) -> Result<RawObjects, ApiError> {
        self.call(Method::GET, path, query, None, RawObjects::single).await
    }

    /// `GET path?query` of one list or search page, its objects kept as text.
    pub async fn get_page(&self, path: &str, query: &Value) -> Result<RawPage, ApiError> {
        self.call(Method::GET, path, query, None, RawPage::parse).await
    }

    /// `POST path` with a form body and a fresh `Idempotency-Key` (reused by retries).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let key = format!("stripe-sql-{:032x}", rand::random::<u128>());
        self.call(Method::POST, path, body, Some(key), parse_value).await
    }

    /// `POST path` with the caller's `Idempotency-Key` (e.g. to resume a multi-row write).
    pub async fn post_with_key(&self, path: &str, body: &Value, key: &str) -> Result<Value, ApiError> {
        self.call(Method::POST, path, body, Some(key.to_owned()), parse_value).await
    }

    /// `DELETE path?query`.
    pub async fn delete(&self, path: &str, query: &Value) -> Result<Value, ApiError> {
        self.call(Method::DELETE, path, query, None, parse_value).await
    }

    /// Every page of a list endpoint, following `starting_after` (or `ending_before` when the
    /// query has it). Ends after `has_more=false`; a repeated cursor ends with an error.
    pub fn list(&self, path: &str, query: Value) -> BoxStream<'static, Result<Page, ApiError>> {
        let path_owned = path.to_owned();
        self.list_raw(path, query)
            .map(move |page| page.and_then(|p| p.to_page().map_err(|e| unreadable(&path_owned, e.to_string()))))
            .boxed()
    }

    /// Like [`Client::list`], with each page's objects kept as compact JSON text.
    pub fn list_raw(&self, path: &str, query: Value) -> BoxStream<'static, Result<RawPage, ApiError>> {
        let start = (self.clone(), path.to_owned(), ListCursor::new(query));
        futures::stream::unfold(Some(start), |state| async move {
            let (client, path, mut cursor) = state?;
            let query = cursor.next_query()?;
            let page = client.get_page(&path, &query).await.and_then(|p| {
                cursor.advance(&p).map_err(|e| pagination(&path, e))?;
                Ok(p)
            });
            match page {
                Ok(p) => Some((Ok(p), Some((client, path, cursor)))),
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed()
    }

    /// Every page of a search endpoint, following `next_page` as `page`.
    pub fn search(&self, path: &str, query: Value) -> BoxStream<'static, Result<Page, ApiError>> {
        let path_owned = path.to_owned();
        self.search_raw(path, query)
            .map(move |page| page.and_then(|p| p.to_page().map_err(|e| unreadable(&path_owned, e.to_string()))))
            .boxed()
    }

    /// Like [`Client::search`], with each page's objects kept as compact JSON text.
    pub fn search_raw(&self, path: &str, query: Value) -> BoxStream<'static, Result<RawPage, ApiError>> {
        let start = (self.clone(), path.to_owned(), SearchCursor::new(query));
        futures::stream::unfold(Some(start), |state| async move {
            let (client, path, mut cursor) = state?;
            let query = cursor.next_query()?;
            let page = client.get_page(&path, &query).await.and_then(|p| {
                cursor.advance_parts(&p, p.next_page.as_deref()).map_err(|e| pagination(&path, e))?;
                Ok(p)
            });
            match page {
                Ok(p) => Some((Ok(p), Some((client, path, cursor)))),
                Err(e) => Some((Err(e), None)),
            }
        })
        .boxed()
    }

    /// One call whose 2xx body `parse` reads; a body that is not JSON is
    /// retried like a lost answer, one of an unexpected shape is an error.
    async fn call<T>(
        &self,
        method: Method,
        path: &str,
        params: &Value,
        idempotency_key: Option<String>,
        parse: fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<T, ApiError> {
        let req = self.prepare(method, path, params, idempotency_key)?;
        if req.method != Method::GET {
            // Writes change what reads return (also on other resources): empty
            // the cache before and after, so no read can serve pre-write data.
            self.inner.cache.clear();
            let result = self.send(req, parse).await;
            self.inner.cache.clear();
            return result.map(|(value, _)| value);
        }
        if self.cache_ttl.is_zero() || self.scope.is_some() {
            return self.send(req, parse).await.map(|(value, _)| value);
        }
        let generation = self.inner.cache.generation();
        let cached = self.inner.cache.get(&req.url, self.cache_ttl, Instant::now()).and_then(|body| parse(&body).ok());
        if let Some(value) = cached {
            self.log.push(super::log::LogEntry {
                seq: 0,
                method: req.method.as_str().to_owned(),
                path: req.path.clone(),
                params: req.params.clone(),
                status: Some(200),
                attempt: 1,
                duration: Duration::ZERO,
                error: None,
                idempotency_key: false,
                cached: true,
                sent_at: std::time::SystemTime::now(),
                account: self.account().map(str::to_owned),
            });
            if let Some(observer) = &self.observer {
                observer.on_cache_hit();
            }
            return Ok(value);
        }
        let key = req.url.clone();
        let (value, body) = self.send(req, parse).await?;
        self.inner.cache.put(key, body, generation, self.cache_ttl, Instant::now());
        Ok(value)
    }

    /// The per-endpoint budget this clone's requests adapt on 429s: its
    /// account's, or the process's.
    fn budget(&self) -> &RateLimiter {
        self.scope.as_ref().map_or(&self.inner.limiter, |s| &s.limiter)
    }

    /// Sends `req` with retries under the limiter; returns the parsed answer and its body.
    async fn send<T>(
        &self,
        req: Prepared,
        parse: fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<(T, Bytes), ApiError> {
        let endpoint = endpoint_key(req.method.as_str(), &req.path);
        let started = Instant::now();
        tracing::debug!(method = %req.method, path = %req.path, params = ?req.params, "stripe request");
        let mut attempt = 1;
        // Set once a POST attempt got no (readable) answer: it may have been applied.
        let mut answer_lost = false;
        loop {
            match &self.scope {
                Some(scope) => {
                    scope.limiter.acquire(&endpoint).await;
                    self.inner.fanout.acquire(&endpoint).await;
                }
                None => self.inner.limiter.acquire(&endpoint).await,
            }
            if let Some(observer) = &self.observer {
                observer.on_request();
            }
            let result =
                send_once(&self.inner.http, &self.inner.config, self.account(), &self.log, &req, attempt).await;
            let (outcome, error) = match result {
                AttemptResult::Success { status, body, request_id } => match parse(&body) {
                    Ok(value) => {
                        self.budget().on_success(&endpoint);
                        tracing::info!(method = %req.method, path = %req.path, status, attempt,
                            elapsed_ms = started.elapsed().as_millis() as u64, "stripe request done");
                        return Ok((value, body));
                    }
                    // JSON of another shape than expected (a list without `data`): asking
                    // again gets the same answer.
                    Err(e) if e.classify() == serde_json::error::Category::Data => {
                        self.budget().on_success(&endpoint);
                        return Err(ApiError::InvalidResponse {
                            method: req.method.to_string(),
                            path: req.path.clone(),
                            message: format!("the response is not the expected object: {e}"),
                            request_id,
                        });
                    }
                    // A cut-off or garbled answer is a transport failure: a write may have
                    // been applied, so it is retried (with the same Idempotency-Key, which
                    // replays the saved answer) rather than reported as not written.
                    Err(e) => (
                        Outcome::Transport,
                        ApiError::InvalidResponse {
                            method: req.method.to_string(),
                            path: req.path.clone(),
                            message: format!("the body is not json: {e}"),
                            request_id,
                        },
                    ),
                },
                AttemptResult::Status { error, should_retry, retry_after } => {
                    if error.status == 429 {
                        self.budget().on_rate_limited(&endpoint, retry_after);
                    }
                    let outcome = Outcome::Status { status: error.status, should_retry, retry_after };
                    (outcome, ApiError::Status(Box::new(error)))
                }
                AttemptResult::Transport { message, timeout } => {
                    let error = if timeout {
                        ApiError::Timeout {
                            method: req.method.to_string(),
                            path: req.path.clone(),
                            after: self.inner.config.request_timeout,
                            attempts: attempt,
                        }
                    } else {
                        ApiError::Transport {
                            method: req.method.to_string(),
                            path: req.path.clone(),
                            base: self.inner.config.api_base.clone(),
                            message,
                            attempts: attempt,
                        }
                    };
                    (Outcome::Transport, error)
                }
            };
            answer_lost |= req.method == Method::POST && outcome == Outcome::Transport;
            let decision = self.inner.policy.decide(
                attempt,
                req.method.as_str(),
                req.idempotency_key.is_some(),
                &outcome,
                rand::random::<f64>(),
            );
            match decision {
                Decision::RetryAfter(wait) => {
                    tracing::warn!(method = %req.method, path = %req.path, attempt, wait_ms = wait.as_millis() as u64,
                        "stripe request failed, retrying: {error}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::GiveUp => {
                    let mut error = error;
                    if let ApiError::Status(status) = &mut error
                        && status.status == 429
                        && attempt > 1
                    {
                        let rate = self.budget().endpoint_rate(&endpoint);
                        let slowed = if rate > 0.0 { format!("{rate:.1} requests/s") } else { "no limit".to_string() };
                        let note = format!(
                            "still rate limited after {attempt} attempts (retries exhausted; the client had slowed {endpoint} to {slowed})"
                        );
                        status.message = Some(match status.message.take() {
                            Some(m) => format!("{m}; {note}"),
                            None => note,
                        });
                    }
                    tracing::error!(method = %req.method, path = %req.path, attempt, "stripe request failed: {error}");
                    if answer_lost && matches!(error, ApiError::Status(_)) {
                        // The last status does not settle it: an earlier attempt may have
                        // written. Report the failure as one without a definite answer.
                        return Err(ApiError::Transport {
                            method: req.method.to_string(),
                            path: req.path.clone(),
                            base: self.inner.config.api_base.clone(),
                            message: format!(
                                "an earlier attempt got no answer, so the write may have been applied; the last attempt failed: {error}"
                            ),
                            attempts: attempt,
                        });
                    }
                    return Err(error);
                }
            }
        }
    }

    fn prepare(
        &self,
        method: Method,
        path: &str,
        params: &Value,
        idempotency_key: Option<String>,
    ) -> Result<Prepared, ApiError> {
        if !path.starts_with('/') || path.contains(['?', '#']) || path.contains("..") {
            return Err(ApiError::InvalidRequest(format!(
                "the path {path:?} must start with / and have no query string"
            )));
        }
        if !params.is_object() && !params.is_null() {
            return Err(ApiError::InvalidRequest(format!("parameters for {path} must be a json object")));
        }
        let params = form::encode(params);
        let encoded = form::to_urlencoded(&params);
        let mut url = format!("{}{}", self.inner.config.api_base.trim_end_matches('/'), path);
        let body = if method == Method::POST {
            Some(encoded)
        } else {
            if !encoded.is_empty() {
                url.push('?');
                url.push_str(&encoded);
            }
            None
        };
        Ok(Prepared { method, path: path.to_owned(), url, params, body, idempotency_key })
    }
}

fn parse_value(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(body)
}

fn unreadable(path: &str, message: String) -> ApiError {
    ApiError::InvalidResponse { method: "GET".into(), path: path.to_owned(), message, request_id: None }
}

fn pagination(path: &str, e: super::pagination::PaginationError) -> ApiError {
    ApiError::Pagination { path: path.to_owned(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_acting_as_an_account_draws_on_one_budget() {
        let key = crate::ApiKey::parse("sk_test_budget0000000000000000").expect("key");
        let client = Client::new(ClientConfig::new(key)).expect("client");
        // Two `serve` connections: clones with logs of their own.
        let (one, two) =
            (client.with_request_log(RequestLog::default()), client.with_request_log(RequestLog::default()));
        assert!(client.account_scope("acct_1").is_none());
        let (a, b) = (one.as_account("acct_1"), two.as_account("acct_1"));
        assert_eq!((a.account(), b.account()), (Some("acct_1"), Some("acct_1")));
        let shared = client.account_scope("acct_1").expect("made on first use");
        assert!(Arc::ptr_eq(a.scope.as_ref().unwrap(), &shared) && Arc::ptr_eq(b.scope.as_ref().unwrap(), &shared));
        let other = two.as_account("acct_2");
        assert!(!Arc::ptr_eq(other.scope.as_ref().unwrap(), &shared), "each account has its own");
    }
}
