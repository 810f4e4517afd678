//! Password authentication (`--password-file`): SCRAM-SHA-256, Postgres's
//! default since version 14, or MD5 challenge-response when asked for
//! (`--password-auth md5`, for old drivers). Either way the password never
//! crosses the wire. Any user name is accepted; the password is what counts.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use pgwire::api::auth::md5pass::hash_md5_password;
use pgwire::api::auth::sasl::scram::{SCRAM_ITERATIONS, gen_salted_password};
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::PgWireResult;
use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// How clients prove they know the password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PasswordAuth {
    /// SCRAM-SHA-256 (RFC 7677): the server keeps only a salted hash.
    #[default]
    #[value(name = "scram-sha-256")]
    ScramSha256,
    /// MD5 challenge-response, for drivers that predate SCRAM.
    Md5,
}

/// The one password clients must send, with its SCRAM salted hash computed
/// once (4096 PBKDF2 rounds per connection would slow every connect).
#[derive(Clone)]
pub struct ServerPassword(Arc<Secret>);

struct Secret {
    clear: SecretString,
    scram_salt: [u8; 16],
    scram_salted: Vec<u8>,
}

impl std::fmt::Debug for ServerPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerPassword(<redacted>)")
    }
}

impl ServerPassword {
    /// Reads the password from the first line of `path` (trailing newline dropped).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("could not read the password file {}: {e}", path.display())))?;
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.is_empty() {
            return Err(Error::Config(format!("the password file {} is empty", path.display())));
        }
        Ok(Self::new(line))
    }

    /// A password given directly (embedded servers, tests).
    pub fn new(password: &str) -> Self {
        let scram_salt: [u8; 16] = rand::random();
        let scram_salted = gen_salted_password(password, &scram_salt, SCRAM_ITERATIONS);
        Self(Arc::new(Secret { clear: SecretString::from(password.to_owned()), scram_salt, scram_salted }))
    }

    /// Whether `candidate` is the password (Flight SQL's basic auth, which
    /// sends it in the clear, so only over TLS or loopback). Compared in
    /// constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = self.0.clear.expose_secret().as_bytes();
        let given = candidate.as_bytes();
        let mut diff = expected.len() ^ given.len();
        for (i, b) in expected.iter().enumerate() {
            diff |= usize::from(b ^ given.get(i).copied().unwrap_or(0));
        }
        diff == 0
    }

    /// The source MD5 authentication checks against.
    pub fn md5(&self) -> Arc<Md5Source> {
        Arc::new(Md5Source(self.clone()))
    }

    /// The source SCRAM-SHA-256 authentication checks against.
    pub fn scram(&self) -> Arc<dyn AuthSource> {
        Arc::new(ScramSource(self.clone()))
    }
}

/// Answers MD5 challenges: a fresh salt per connection.
#[derive(Debug)]
pub struct Md5Source(ServerPassword);

#[async_trait]
impl AuthSource for Md5Source {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let salt: [u8; 4] = rand::random();
        let user = login.user().unwrap_or("");
        let expected = hash_md5_password(user, (self.0).0.clear.expose_secret(), &salt);
        Ok(Password::new(Some(salt.to_vec()), expected.into_bytes()))
    }
}

/// Answers SCRAM exchanges with the salted hash (`SaltedPassword` of RFC 5802).
#[derive(Debug)]
struct ScramSource(ServerPassword);

#[async_trait]
impl AuthSource for ScramSource {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        let secret = &(self.0).0;
        Ok(Password::new(Some(secret.scram_salt.to_vec()), secret.scram_salted.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_first_line_and_no_leak_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let pw = ServerPassword::from_file(&path).unwrap();
        assert_eq!(pw.0.clear.expose_secret(), "s3cret");
        assert_eq!(pw.0.scram_salted, gen_salted_password("s3cret", &pw.0.scram_salt, SCRAM_ITERATIONS));
        assert!(!format!("{pw:?}").contains("s3cret"));
        std::fs::write(&path, "\n").unwrap();
        assert!(ServerPassword::from_file(&path).is_err());
    }
}
