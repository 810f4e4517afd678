//! Layering tests with an injected environment and home directory.

use super::*;
use crate::cli::KeyArg;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn defaults_without_anything() {
    let cfg = Config::load_from(&GlobalArgs::default(), &env_of(&[]), None).unwrap();
    assert!(cfg.api_key.is_none());
    assert_eq!(cfg.api_base, "https://api.stripe.com");
    assert_eq!(cfg.stripe_version, "2023-08-16");
    assert_eq!((cfg.max_rps, cfg.endpoint_rps), (25.0, 25.0));
    assert_eq!(cfg.format, OutputFormat::Table);
    let err = cfg.client_config().unwrap_err().to_string();
    assert!(err.contains("no api key"), "{err}");
}

#[test]
fn file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.toml",
        r#"
        api_key = "sk_test_fromfile1"
        api_base = "http://file.local"
        account = "acct_file"
        stripe_version = "2020-01-01"
        format = "csv"
        max_rps = 7
    "#,
    );
    let args = GlobalArgs { config: Some(file.clone()), ..Default::default() };
    let cfg = Config::load_from(&args, &env_of(&[]), None).unwrap();
    assert_eq!(cfg.key_source, Some(KeySource::ConfigFile(file.clone())));
    assert_eq!((cfg.api_base.as_str(), cfg.account.as_deref()), ("http://file.local", Some("acct_file")));
    assert_eq!((cfg.format, cfg.max_rps, cfg.endpoint_rps), (OutputFormat::Csv, 7.0, 7.0));

    let env = env_of(&[
        ("STRIPE_API_KEY", "sk_test_fromenv1"),
        ("STRIPE_API_BASE", "http://env.local"),
        ("STRIPE_ACCOUNT", "acct_env"),
        ("STRIPE_VERSION", "2021-01-01"),
    ]);
    let cfg = Config::load_from(&args, &env, None).unwrap();
    assert_eq!(cfg.key_source, Some(KeySource::Env));
    assert_eq!(
        (cfg.api_base.as_str(), cfg.account.as_deref(), cfg.stripe_version.as_str()),
        ("http://env.local", Some("acct_env"), "2021-01-01")
    );

    let args = GlobalArgs {
        config: Some(file),
        api_key: Some(KeyArg("sk_live_fromflag1".into())),
        api_base: Some("http://flag.local".into()),
        account: Some("acct_flag".into()),
        stripe_version: Some("2022-01-01".into()),
        max_rps: Some(50.0),
        format: Some(OutputFormat::Json),
        ..Default::default()
    };
    let cfg = Config::load_from(&args, &env, None).unwrap();
    assert_eq!(cfg.key_source, Some(KeySource::Flag));
    assert_eq!(cfg.api_key.as_ref().unwrap().mode(), Mode::Live);
    assert_eq!(
        (cfg.api_base.as_str(), cfg.account.as_deref(), cfg.stripe_version.as_str()),
        ("http://flag.local", Some("acct_flag"), "2022-01-01")
    );
    assert_eq!((cfg.format, cfg.max_rps, cfg.endpoint_rps), (OutputFormat::Json, 50.0, 25.0));
    let client = cfg.client_config().unwrap();
    assert_eq!((client.api_base.as_str(), client.max_rps, client.endpoint_rps), ("http://flag.local", 50.0, 25.0));
}

#[test]
fn live_keys_default_to_100_rps_but_25_per_endpoint() {
    let env = env_of(&[("STRIPE_API_KEY", "rk_live_abc")]);
    let cfg = Config::load_from(&GlobalArgs::default(), &env, None).unwrap();
    assert_eq!((cfg.max_rps, cfg.endpoint_rps), (100.0, 25.0));
}

#[test]
fn endpoint_budget_is_capped_at_25() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", "endpoint_rps = 80\nmax_rps = 200\n");
    let args = GlobalArgs { config: Some(file), ..Default::default() };
    let cfg = Config::load_from(&args, &env_of(&[]), None).unwrap();
    assert_eq!((cfg.max_rps, cfg.endpoint_rps), (200.0, 25.0));
}

#[test]
fn stripe_cli_profile_is_the_last_fallback() {
    let home = tempfile::tempdir().unwrap();
    let path = write(
        home.path(),
        ".config/stripe/config.toml",
        "[default]\ndevice_name = \"x\"\ntest_mode_api_key = \"sk_test_fromcli1\"\nlive_mode_api_key = \"sk_live_no\"\n",
    );
    let cfg = Config::load_from(&GlobalArgs::default(), &env_of(&[]), Some(home.path())).unwrap();
    assert_eq!(cfg.key_source, Some(KeySource::StripeCli(path)));
    assert_eq!(cfg.api_key.unwrap().mode(), Mode::Test);
    let env = env_of(&[("STRIPE_API_KEY", "sk_test_fromenv1")]);
    let cfg = Config::load_from(&GlobalArgs::default(), &env, Some(home.path())).unwrap();
    assert_eq!(cfg.key_source, Some(KeySource::Env));
}

#[test]
fn malformed_key_is_a_clear_error_without_the_key() {
    let env = env_of(&[("STRIPE_API_KEY", "pk_test_oops123")]);
    let err = Config::load_from(&GlobalArgs::default(), &env, None).unwrap_err().to_string();
    assert!(err.contains("STRIPE_API_KEY") && err.contains("not a stripe key"), "{err}");
    assert!(!err.contains("pk_test_oops123"), "{err}");
}

#[test]
fn proxy_from_env_and_bad_values_are_errors() {
    let env = env_of(&[("HTTPS_PROXY", "http://u:p@proxy.local:8080")]);
    let cfg = Config::load_from(&GlobalArgs::default(), &env, None).unwrap();
    let proxy = cfg.proxy.unwrap();
    assert_eq!((proxy.url.as_str(), proxy.username.as_deref()), ("http://proxy.local:8080/", Some("u")));
    let args = GlobalArgs { max_rps: Some(0.0), ..Default::default() };
    assert!(Config::load_from(&args, &env_of(&[]), None).is_err());
    let args = GlobalArgs { api_base: Some("ftp://x".into()), ..Default::default() };
    assert!(Config::load_from(&args, &env_of(&[]), None).is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", "unknown_key = 1\n");
    let args = GlobalArgs { config: Some(file), ..Default::default() };
    let err = Config::load_from(&args, &env_of(&[]), None).unwrap_err().to_string();
    assert!(err.contains("could not parse the config file"), "{err}");
}

/// Loads a config whose `--config` file holds `toml`.
fn load_with_file(toml: &str) -> Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "stripe-sql.toml", toml);
    let args = GlobalArgs { config: Some(path), demo: true, ..GlobalArgs::default() };
    Config::load_from(&args, &env_of(&[]), Some(dir.path()))
}

#[test]
fn request_log_size_comes_from_the_config_file_and_must_be_positive() {
    assert_eq!(load_with_file("").unwrap().request_log_size, stripe_sql::stripe::log::DEFAULT_CAPACITY);
    let config = load_with_file("request_log_size = 250\napi_key = \"sk_test_x\"\n").unwrap();
    assert_eq!(config.request_log_size, 250);
    assert_eq!(config.client_config().unwrap().request_log_size, 250);
    let err = load_with_file("request_log_size = 0\n").unwrap_err().to_string();
    assert!(err.contains("request_log_size must be at least 1"), "{err}");
}
