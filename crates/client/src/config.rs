//! Settings of one [`super::Client`]: where to connect, as whom, how fast, how patiently.

use super::key::ApiKey;
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;

/// Stripe's API base URL.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// The API version of the spec the catalog was generated from.
pub const DEFAULT_STRIPE_VERSION: &str = "2023-08-16";
/// Stripe's documented per-endpoint limit; the client never plans above it.
pub const MAX_ENDPOINT_RPS: f64 = 25.0;

/// An HTTPS proxy, optionally with basic auth. `Debug` hides the password.
#[derive(Clone)]
pub struct ProxyConfig {
    /// Proxy URL without credentials, e.g. `http://proxy.local:3128`.
    pub url: String,
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<SecretString>,
}

impl ProxyConfig {
    /// Splits `http://user:pass@host:port` into URL and credentials.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut url = url::Url::parse(raw.trim()).map_err(|e| format!("the proxy url is invalid: {e}"))?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
            return Err(format!("the proxy url has unsupported scheme {:?}", url.scheme()));
        }
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let username = (!url.username().is_empty()).then(|| decode(url.username()));
        let password = url.password().map(|p| SecretString::from(decode(p)));
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(ProxyConfig { url: url.to_string(), username, password })
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Everything a [`super::Client`] needs. `Debug` hides the key and proxy password.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The API key (sent as `Authorization: Bearer`).
    pub api_key: ApiKey,
    /// Base URL, e.g. `https://api.stripe.com` or an emulator's `http://127.0.0.1:PORT`.
    pub api_base: String,
    /// Connected account for Connect (`Stripe-Account` header).
    pub account: Option<String>,
    /// `Stripe-Version` header.
    pub stripe_version: String,
    /// HTTPS proxy; `None` means direct (proxy environment variables are read by the
    /// configuration layer, not by the HTTP library).
    pub proxy: Option<ProxyConfig>,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request (send to end of body).
    pub request_timeout: Duration,
    /// Global request budget per second (0 = unlimited).
    pub max_rps: f64,
    /// Per-endpoint request budget per second (0 = unlimited).
    pub endpoint_rps: f64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff before the first retry (doubles each retry, with jitter).
    pub retry_base_delay: Duration,
    /// Cap on the backoff.
    pub retry_max_delay: Duration,
    /// Entries the request log keeps (the oldest are dropped beyond it).
    pub request_log_size: usize,
}

impl ClientConfig {
    /// Defaults for `api_key`: Stripe's base URL, version 2023-08-16, 25 rps per endpoint,
    /// 25 (test) or 100 (live) rps overall, 3 retries, 10 s connect / 80 s request timeouts,
    /// a request log of [`super::log::DEFAULT_CAPACITY`] entries.
    pub fn new(api_key: ApiKey) -> Self {
        let max_rps = match api_key.mode() {
            super::key::Mode::Test => 25.0,
            super::key::Mode::Live => 100.0,
        };
        ClientConfig {
            api_key,
            api_base: DEFAULT_API_BASE.to_owned(),
            account: None,
            stripe_version: DEFAULT_STRIPE_VERSION.to_owned(),
            proxy: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(80),
            max_rps,
            endpoint_rps: MAX_ENDPOINT_RPS,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(8),
            request_log_size: super::log::DEFAULT_CAPACITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn proxy_credentials_are_split_out_and_hidden() {
        let p = ProxyConfig::parse("http://bob:s%40cret@proxy.local:3128").unwrap();
        assert_eq!(p.url, "http://proxy.local:3128/");
        assert_eq!(p.username.as_deref(), Some("bob"));
        assert_eq!(p.password.as_ref().unwrap().expose_secret(), "s@cret");
        assert!(!format!("{p:?}").contains("cret"));
        assert!(ProxyConfig::parse("not a url").is_err());
        assert!(ProxyConfig::parse("ftp://x").is_err());
    }

    #[test]
    fn defaults_depend_on_key_mode() {
        let test = ClientConfig::new(ApiKey::parse("sk_test_1").unwrap());
        let live = ClientConfig::new(ApiKey::parse("sk_live_1").unwrap());
        assert_eq!((test.max_rps, live.max_rps), (25.0, 100.0));
        assert_eq!(test.stripe_version, "2023-08-16");
        assert!(!format!("{live:?}").contains("sk_live_1"));
    }
}
