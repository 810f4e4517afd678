//! TLS for the server (`--tls-cert`, `--tls-key`, PEM files), on rustls with
//! the ring provider like the rest of the crate.

use std::path::Path;
use std::sync::Arc;

use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{Error, Result};

/// A TLS acceptor serving the certificate chain in `cert` with the key in `key`.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    stripe_sql::stripe::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::Config(format!("could not read the TLS certificate {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!("no certificate found in {}", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::Config(format!("could not read the TLS key {}: {e}", key.display())))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Config(format!("the TLS certificate and key do not make a usable pair: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
