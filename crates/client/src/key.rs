//! The Stripe API key: parsed once, held in a secret type, never printed.
//!
//! Accepted: secret keys (`sk_test_`, `sk_live_`) and restricted keys (`rk_test_`,
//! `rk_live_`). Anything else is rejected before any request is sent, with a message that
//! does not repeat the key (a mistyped key is still a secret).

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// Whether a key works on test data or on the live account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `*_test_` keys: test data, lower rate limits.
    Test,
    /// `*_live_` keys: real money; writes need explicit permission.
    Live,
}

/// What kind of key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `sk_...`: full access.
    Secret,
    /// `rk_...`: restricted to the permissions chosen in the dashboard.
    Restricted,
}

/// A validated Stripe API key. `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct ApiKey {
    secret: SecretString,
    mode: Mode,
    kind: KeyKind,
}

/// Why a string is not a usable API key. The message never contains the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty or whitespace only.
    #[error("the api key is empty")]
    Empty,
    /// Does not start with one of the accepted prefixes.
    #[error(
        "the api key is not a stripe key: expected it to start with sk_test_, sk_live_, \
         rk_test_ or rk_live_ (the key is not shown)"
    )]
    UnknownPrefix,
    /// Has a valid prefix but nothing or invalid characters after it.
    #[error(
        "the api key ({prefix}...) is malformed: expected letters and digits after the prefix \
         (the key is not shown)"
    )]
    Malformed {
        /// The prefix that was recognised (not secret).
        prefix: &'static str,
    },
}

const PREFIXES: [(&str, KeyKind, Mode); 4] = [
    ("sk_test_", KeyKind::Secret, Mode::Test),
    ("sk_live_", KeyKind::Secret, Mode::Live),
    ("rk_test_", KeyKind::Restricted, Mode::Test),
    ("rk_live_", KeyKind::Restricted, Mode::Live),
];

impl ApiKey {
    /// Parses a key; surrounding whitespace (e.g. from a file) is ignored.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let key = raw.trim();
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        let (prefix, kind, mode) =
            PREFIXES.iter().copied().find(|(p, _, _)| key.starts_with(p)).ok_or(KeyError::UnknownPrefix)?;
        let rest = &key[prefix.len()..];
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(KeyError::Malformed { prefix });
        }
        Ok(ApiKey { secret: SecretString::from(key.to_owned()), mode, kind })
    }

    /// Test or live.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Secret or restricted.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({:?} {:?}, [redacted])", self.kind, self.mode)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Test => "test",
            Mode::Live => "live",
        };
        write!(f, "[redacted {mode} key]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_four_prefixes_and_reports_mode_and_kind() {
        let k = ApiKey::parse("sk_test_abc123").unwrap();
        assert_eq!((k.mode(), k.kind()), (Mode::Test, KeyKind::Secret));
        let k = ApiKey::parse("sk_live_abc123").unwrap();
        assert_eq!((k.mode(), k.kind()), (Mode::Live, KeyKind::Secret));
        let k = ApiKey::parse("rk_test_abc123").unwrap();
        assert_eq!((k.mode(), k.kind()), (Mode::Test, KeyKind::Restricted));
        let k = ApiKey::parse("  rk_live_XyZ9\n").unwrap();
        assert_eq!((k.mode(), k.kind()), (Mode::Live, KeyKind::Restricted));
        assert_eq!(k.expose(), "rk_live_XyZ9");
    }

    #[test]
    fn rejects_other_strings_without_echoing_them() {
        assert_eq!(ApiKey::parse("sk_test_").unwrap_err(), KeyError::Malformed { prefix: "sk_test_" });
        for bad in ["pk_test_abc", "sk_abc123", "hello", "sk_test_a b", "sk_test_abc$"] {
            let err = ApiKey::parse(bad).unwrap_err().to_string();
            assert!(!err.contains(bad.trim()), "{err} echoes {bad}");
            assert!(err.contains("api key"), "{err}");
        }
        assert_eq!(ApiKey::parse("   ").unwrap_err(), KeyError::Empty);
        assert_eq!(ApiKey::parse("pk_test_1").unwrap_err(), KeyError::UnknownPrefix);
    }

    #[test]
    fn debug_and_display_hide_the_key() {
        let k = ApiKey::parse("sk_test_SuperSecret42").unwrap();
        assert!(!format!("{k:?}").contains("SuperSecret42"));
        assert!(!format!("{k}").contains("SuperSecret42"));
        assert!(format!("{k:?}").contains("redacted"));
    }
}
