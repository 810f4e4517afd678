//! Password authentication (`--password-file`): MD5 challenge-response, so
//! the password never crosses the wire in clear. Any user name is accepted;
//! the password is what counts.

use std::path::Path;

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use pgwire::api::auth::md5pass::hash_md5_password;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::PgWireResult;
use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// The one password clients must send.
#[derive(Clone)]
pub struct ServerPassword(SecretString);

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
        Self(SecretString::from(password.to_owned()))
    }
}

#[async_trait]
impl AuthSource for ServerPassword {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let salt: [u8; 4] = rand::random();
        let user = login.user().unwrap_or("");
        let expected = hash_md5_password(user, self.0.expose_secret(), &salt);
        Ok(Password::new(Some(salt.to_vec()), expected.into_bytes()))
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
        assert_eq!(pw.0.expose_secret(), "s3cret");
        assert!(!format!("{pw:?}").contains("s3cret"));
        std::fs::write(&path, "\n").unwrap();
        assert!(ServerPassword::from_file(&path).is_err());
    }
}
