//! Layered configuration: defaults < `--config FILE` (TOML) < environment < flags.
//!
//! The API key falls back to the Stripe CLI's profile file (`~/.config/stripe/config.toml`,
//! the `[default]` profile's `test_mode_api_key`) when no layer sets it. The environment
//! and home directory are injected ([`Config::load_from`]) so the layering is testable.

use crate::cli::GlobalArgs;
use crate::repl::OutputFormat;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;
use stripe_sql::stripe::{
    ApiKey, ClientConfig, DEFAULT_API_BASE, DEFAULT_STRIPE_VERSION, MAX_ENDPOINT_RPS, Mode, ProxyConfig,
};

/// Where the API key came from (for messages; never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `--api-key`.
    Flag,
    /// `STRIPE_API_KEY`.
    Env,
    /// `api_key` in the `--config` file.
    ConfigFile(PathBuf),
    /// The Stripe CLI's profile file.
    StripeCli(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Flag => f.write_str("--api-key"),
            KeySource::Env => f.write_str("STRIPE_API_KEY"),
            KeySource::ConfigFile(p) => write!(f, "api_key in {}", p.display()),
            KeySource::StripeCli(p) => write!(f, "the stripe cli profile {}", p.display()),
        }
    }
}

/// The resolved configuration of one run. `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct Config {
    /// The API key, if any layer provided one (not needed with `--demo`).
    pub api_key: Option<ApiKey>,
    /// Where the key came from.
    pub key_source: Option<KeySource>,
    /// API base URL.
    pub api_base: String,
    /// `Stripe-Account` for Connect.
    pub account: Option<String>,
    /// `--accounts`: the initial `stripe.accounts` (Connect fan-out).
    pub accounts: Option<String>,
    /// `Stripe-Version`.
    pub stripe_version: String,
    /// HTTPS proxy.
    pub proxy: Option<ProxyConfig>,
    /// Global request budget per second.
    pub max_rps: f64,
    /// Per-endpoint request budget per second (never above 25).
    pub endpoint_rps: f64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Time allowed for one HTTP request.
    pub request_timeout: Duration,
    /// Entries the request log keeps (`request_log_size` in the config file).
    pub request_log_size: usize,
    /// Whether writes are allowed with a live key.
    pub allow_live_writes: bool,
    /// Output format of results.
    pub format: OutputFormat,
    /// `-v` count (0 = quiet).
    pub verbosity: u8,
    /// Demo mode: the built-in emulator, no key needed.
    pub demo: bool,
    /// Where mirrors live (`--mirror DIR`; default `<data dir>/stripe-sql/mirror`).
    pub mirror: std::path::PathBuf,
    /// Whether `--mirror` was given: queries may then read from the mirror
    /// (`stripe.source`, `auto` by default); without it every read is live.
    pub mirror_reads: bool,
}

/// The default root of mirrors: `<the user's data dir>/stripe-sql/mirror`.
pub fn default_mirror_root() -> std::path::PathBuf {
    dirs::data_dir().unwrap_or_else(|| std::path::PathBuf::from(".")).join("stripe-sql").join("mirror")
}

/// The `--config` TOML file; every key optional, unknown keys rejected.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    api_key: Option<String>,
    api_base: Option<String>,
    account: Option<String>,
    stripe_version: Option<String>,
    proxy: Option<String>,
    max_rps: Option<f64>,
    endpoint_rps: Option<f64>,
    max_retries: Option<u32>,
    request_timeout_secs: Option<u64>,
    request_log_size: Option<usize>,
    allow_live_writes: Option<bool>,
    format: Option<OutputFormat>,
}

fn config_err(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

impl Config {
    /// Loads with the process environment and the user's home directory.
    pub fn load(args: &GlobalArgs) -> Result<Config> {
        let home = dirs::home_dir();
        Self::load_from(args, &|name| std::env::var(name).ok(), home.as_deref())
    }

    /// Loads with an injected environment lookup and home directory.
    pub fn load_from(args: &GlobalArgs, env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Result<Config> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let file = match &args.config {
            Some(path) => read_file_config(path)?,
            None => FileConfig::default(),
        };

        let (raw_key, key_source) = if let Some(k) = &args.api_key {
            (Some(k.0.clone()), Some(KeySource::Flag))
        } else if let Some(k) = env("STRIPE_API_KEY") {
            (Some(k), Some(KeySource::Env))
        } else if let (Some(k), Some(p)) = (file.api_key.clone(), &args.config) {
            (Some(k), Some(KeySource::ConfigFile(p.clone())))
        } else {
            match stripe_cli_key(&env, home) {
                Some((k, p)) => (Some(k), Some(KeySource::StripeCli(p))),
                None => (None, None),
            }
        };
        let api_key = match (&raw_key, &key_source) {
            (Some(raw), Some(src)) => Some(ApiKey::parse(raw).map_err(|e| config_err(format!("{e} (from {src})")))?),
            _ => None,
        };

        let api_base = args
            .api_base
            .clone()
            .or_else(|| env("STRIPE_API_BASE"))
            .or(file.api_base)
            .unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
        let parsed = url::Url::parse(&api_base)
            .map_err(|e| config_err(format!("the api base {api_base:?} is not a url: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(config_err(format!("the api base {api_base:?} must be an http or https url")));
        }

        let account = args.account.clone().or_else(|| env("STRIPE_ACCOUNT")).or(file.account);
        let stripe_version = args
            .stripe_version
            .clone()
            .or_else(|| env("STRIPE_VERSION"))
            .or(file.stripe_version)
            .unwrap_or_else(|| DEFAULT_STRIPE_VERSION.to_owned());
        let proxy = args
            .proxy
            .clone()
            .or_else(|| env("HTTPS_PROXY"))
            .or_else(|| env("https_proxy"))
            .or(file.proxy)
            .map(|p| ProxyConfig::parse(&p).map_err(config_err))
            .transpose()?;

        let default_rps = match api_key.as_ref().map(ApiKey::mode) {
            Some(Mode::Live) => 100.0,
            _ => 25.0,
        };
        let max_rps = args.max_rps.or(file.max_rps).unwrap_or(default_rps);
        if !(max_rps.is_finite() && max_rps > 0.0) {
            return Err(config_err(format!("max_rps must be a positive number, got {max_rps}")));
        }
        let endpoint_rps = file.endpoint_rps.unwrap_or(MAX_ENDPOINT_RPS);
        if !(endpoint_rps.is_finite() && endpoint_rps > 0.0) {
            return Err(config_err(format!("endpoint_rps must be a positive number, got {endpoint_rps}")));
        }
        let endpoint_rps = endpoint_rps.min(MAX_ENDPOINT_RPS).min(max_rps);
        let request_log_size = file.request_log_size.unwrap_or(stripe_sql::stripe::log::DEFAULT_CAPACITY);
        if request_log_size == 0 {
            return Err(config_err("request_log_size must be at least 1 (the request log keeps that many calls)"));
        }

        Ok(Config {
            api_key,
            key_source,
            api_base,
            account,
            accounts: args.accounts.clone(),
            stripe_version,
            proxy,
            max_rps,
            endpoint_rps,
            max_retries: file.max_retries.unwrap_or(3),
            request_timeout: Duration::from_secs(file.request_timeout_secs.unwrap_or(80)),
            request_log_size,
            allow_live_writes: args.allow_live_writes || file.allow_live_writes.unwrap_or(false),
            format: args.format.or(file.format).unwrap_or_default(),
            verbosity: args.verbose,
            demo: args.demo,
            mirror: args.mirror.clone().unwrap_or_else(default_mirror_root),
            mirror_reads: args.mirror.is_some(),
        })
    }

    /// The HTTP client settings; an error when no API key was configured.
    pub fn client_config(&self) -> Result<ClientConfig> {
        let key = self.api_key.clone().ok_or_else(|| {
            config_err(
                "no api key: pass --api-key, set STRIPE_API_KEY, put api_key in the --config file, \
                 log in with the stripe cli, or use --demo",
            )
        })?;
        let mut cfg = ClientConfig::new(key);
        cfg.api_base = self.api_base.clone();
        cfg.account = self.account.clone();
        cfg.stripe_version = self.stripe_version.clone();
        cfg.proxy = self.proxy.clone();
        cfg.max_rps = self.max_rps;
        cfg.endpoint_rps = self.endpoint_rps;
        cfg.max_retries = self.max_retries;
        cfg.request_timeout = self.request_timeout;
        cfg.request_log_size = self.request_log_size;
        Ok(cfg)
    }
}

fn read_file_config(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| config_err(format!("could not read the config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| config_err(format!("could not parse the config file {}: {e}", path.display())))
}

/// The `[default]` profile's `test_mode_api_key` from the Stripe CLI's config file.
fn stripe_cli_key(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Option<(String, PathBuf)> {
    let dir = match env("XDG_CONFIG_HOME") {
        Some(xdg) => PathBuf::from(xdg),
        None => home?.join(".config"),
    };
    let path = dir.join("stripe").join("config.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let key = table.get("default")?.get("test_mode_api_key")?.as_str()?.to_owned();
    Some((key, path))
}

#[cfg(test)]
mod tests;
