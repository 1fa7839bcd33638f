//! Certificates of the TLS networks (`tls`, `quic`, `wss`): a self-signed one made at startup
//! and written as PEM files, which the server loads as it would real ones (`--cert`, `--key`)
//! and the client trusts (`--ca`).

use std::path::{Path, PathBuf};

use teleport::transport::selfsigned;
use teleport::transport::tls::{self, Identity, TlsConfig};

/// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, written to a directory
/// of its own that goes away with this value.
pub struct CertDir {
    dir: PathBuf,
    /// The certificate, PEM: what a client trusts.
    pub cert: PathBuf,
    /// Its private key, PKCS#8 PEM.
    pub key: PathBuf,
}

impl CertDir {
    /// Makes the certificate and writes it under the temporary directory, in a folder named
    /// after `who` and this process.
    pub fn generate(who: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let cert = selfsigned::generate(&["localhost", "127.0.0.1", "::1"])?;
        let name = format!("teleport-{who}-{}-certs", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir)?;
        let dir = CertDir { cert: dir.join("cert.pem"), key: dir.join("key.pem"), dir };
        std::fs::write(&dir.cert, cert.cert_pem())?;
        std::fs::write(&dir.key, cert.key_pem())?;
        Ok(dir)
    }
}

impl Drop for CertDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server configuration presenting the certificate and key of these PEM files.
pub fn server_tls(cert: &Path, key: &Path) -> Result<TlsConfig, tls::TlsError> {
    let identity = Identity::from_pem_files(cert, key)?;
    Ok(TlsConfig::new().with_server(tls::server_config(&identity)?))
}

/// A client configuration trusting the certificates of this PEM file, and nothing else.
pub fn client_tls(ca: &Path) -> Result<TlsConfig, tls::TlsError> {
    Ok(TlsConfig::new().with_client(tls::client_config(tls::load_roots(ca)?)?))
}
