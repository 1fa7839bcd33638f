//! Self-signed certificates for tests, examples and private deployments (feature `tls`).
//!
//! A self-signed certificate is its own trust root: a client that trusts it (and nothing
//! else) reaches exactly the server that presents it.
//!
//! ```
//! use teleport::transport::selfsigned;
//!
//! let cert = selfsigned::generate(&["localhost", "127.0.0.1"])?;
//! assert!(cert.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! let tls = cert.tls_config()?; // accepts with the certificate, dials trusting it
//! assert!(tls.server().is_some() && tls.client().is_some());
//! # Ok::<(), teleport::transport::tls::TlsError>(())
//! ```

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::tls::{self, Identity, TlsConfig, TlsError};

/// A generated self-signed certificate (ECDSA P-256) and its key.
#[derive(Clone, Debug)]
pub struct SelfSigned {
    identity: Identity,
    cert_pem: String,
    key_pem: String,
}

/// Generates a certificate valid for `names`: DNS names (`localhost`) and IP addresses
/// (`127.0.0.1`, `::1`), which a dialer's server name must match.
pub fn generate(names: &[&str]) -> Result<SelfSigned, TlsError> {
    let failed = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let key_pair = rcgen::KeyPair::generate().map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    // A subject of its own, so that a client trusting another self-signed certificate is
    // told `UnknownIssuer` rather than `BadSignature`.
    let key = key_pair.public_key_raw();
    let id: String = key.iter().rev().take(8).map(|b| format!("{b:02x}")).collect();
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("teleport self-signed {id}"));
    let cert = params.self_signed(&key_pair).map_err(failed)?;
    let key = PrivatePkcs8KeyDer::from(key_pair.serialize_der());
    Ok(SelfSigned {
        identity: Identity { cert_chain: vec![cert.der().clone()], key: PrivateKeyDer::Pkcs8(key) },
        cert_pem: cert.pem(),
        key_pem: key_pair.serialize_pem(),
    })
}

impl SelfSigned {
    /// The certificate and key, to present.
    pub fn identity(&self) -> Identity {
        self.identity.clone()
    }

    /// The certificate, DER encoded.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.identity.cert_chain[0]
    }

    /// The certificate, PEM encoded (to write to a file).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PKCS#8 PEM encoded (to write to a file).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Trust roots holding only this certificate.
    pub fn roots(&self) -> Result<RootCertStore, TlsError> {
        tls::roots([self.cert_der()])
    }

    /// A server configuration presenting this certificate.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        tls::server_config(&self.identity)
    }

    /// A client configuration trusting this certificate only.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        tls::client_config(self.roots()?)
    }

    /// Both: a peer with this configuration accepts with the certificate and dials peers
    /// that present it.
    pub fn tls_config(&self) -> Result<TlsConfig, TlsError> {
        Ok(TlsConfig::new().with_server(self.server_config()?).with_client(self.client_config()?))
    }
}
