//! TLS configurations: certificates and keys from PEM, rustls configs with the ring provider.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The default bound on an accepted connection's TLS handshake.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file or text could not be read, or holds no item of the kind expected: check the
    /// path, and that it holds `CERTIFICATE` or `PRIVATE KEY` blocks.
    #[error("{what}: {reason}")]
    Pem {
        /// What was being read (a path, or "certificate PEM").
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the certificate, the key or a setting: the message says which.
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built, for example from empty roots.
    #[error("tls client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// A certificate could not be generated.
    #[error("certificate generation: {0}")]
    Generate(String),
}

impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> Self {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

fn pem_error(what: impl Into<String>, reason: impl ToString) -> TlsError {
    TlsError::Pem { what: what.into(), reason: reason.to_string() }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and its private key: what a server (or a client with a certificate)
/// presents.
#[derive(Debug)]
pub struct Identity {
    /// The certificate chain, the end entity first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity { cert_chain: self.cert_chain.clone(), key: self.key.clone_key() }
    }
}

impl Identity {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        let cert_chain = certs_from_pem("certificate PEM", cert_chain)?;
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| pem_error("key PEM", e))?;
        Ok(Identity { cert_chain, key })
    }

    /// Reads the PEM files of a certificate chain and of its private key.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let (cert_path, key_path) = (cert_chain.as_ref(), key.as_ref());
        let cert_pem = std::fs::read(cert_path).map_err(|e| pem_error(path(cert_path), e))?;
        let cert_chain = certs_from_pem(&path(cert_path), &cert_pem)?;
        let key =
            PrivateKeyDer::from_pem_file(key_path).map_err(|e| pem_error(path(key_path), e))?;
        Ok(Identity { cert_chain, key })
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn certs_from_pem(what: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(what, e))?;
    if certs.is_empty() {
        return Err(pem_error(what, "no CERTIFICATE block"));
    }
    Ok(certs)
}

/// Trust roots made of these certificates (a CA, or a self-signed certificate itself).
pub fn roots<'a>(
    certs: impl IntoIterator<Item = &'a CertificateDer<'static>>,
) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certs {
        store.add(cert.clone())?;
    }
    Ok(store)
}

/// Trust roots read from a PEM file of one or more certificates.
pub fn load_roots(pem_file: impl AsRef<Path>) -> Result<RootCertStore, TlsError> {
    let file = pem_file.as_ref();
    let pem = std::fs::read(file).map_err(|e| pem_error(path(file), e))?;
    roots(&certs_from_pem(&path(file), &pem)?)
}

/// A server configuration presenting `identity`, TLS 1.2 and 1.3, no client certificate.
pub fn server_config(identity: &Identity) -> Result<Arc<ServerConfig>, TlsError> {
    let identity = identity.clone();
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(identity.cert_chain, identity.key)?;
    Ok(Arc::new(config))
}

/// A server configuration that also requires a client certificate issued by `client_roots`.
pub fn server_config_verifying_clients(
    identity: &Identity,
    client_roots: RootCertStore,
) -> Result<Arc<ServerConfig>, TlsError> {
    let identity = identity.clone();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), provider()).build()?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.cert_chain, identity.key)?;
    Ok(Arc::new(config))
}

/// A client configuration trusting `roots`, presenting no certificate.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client configuration trusting `roots` and presenting `identity` to servers that ask.
pub fn client_config_with_identity(
    roots: RootCertStore,
    identity: &Identity,
) -> Result<Arc<ClientConfig>, TlsError> {
    let identity = identity.clone();
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(identity.cert_chain, identity.key)?;
    Ok(Arc::new(config))
}

/// What a peer needs to accept and dial on the `tls`, `wss` and `quic` networks. Set it with
/// [`PeerBuilder::tls`](crate::PeerBuilder::tls).
#[derive(Clone, Debug)]
pub struct TlsConfig {
    server: Option<Arc<ServerConfig>>,
    client: Option<Arc<ClientConfig>>,
    server_name: Option<String>,
    handshake_timeout: Duration,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            server: None,
            client: None,
            server_name: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }
}

impl TlsConfig {
    /// An empty configuration: neither accepts nor dials until configs are added.
    pub fn new() -> Self {
        TlsConfig::default()
    }

    /// The configuration of accepted connections (see [`server_config`]).
    pub fn with_server(mut self, config: Arc<ServerConfig>) -> Self {
        self.server = Some(config);
        self
    }

    /// The configuration of dialed connections (see [`client_config`]).
    pub fn with_client(mut self, config: Arc<ClientConfig>) -> Self {
        self.client = Some(config);
        self
    }

    /// The name the server's certificate must carry, instead of the host of the dialed
    /// address (useful when dialing an IP address whose certificate names a host).
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// How long an accepted connection's handshake may take before it is dropped; zero for
    /// no limit. Default 10 s. Dials are bounded by the dial timeout instead.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The server configuration, if any.
    pub fn server(&self) -> Option<&Arc<ServerConfig>> {
        self.server.as_ref()
    }

    /// The client configuration, if any.
    pub fn client(&self) -> Option<&Arc<ClientConfig>> {
        self.client.as_ref()
    }

    /// The server name dials check, if set.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The bound on an accepted connection's handshake.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    pub(crate) fn require_server(&self) -> io::Result<&Arc<ServerConfig>> {
        self.server.as_ref().ok_or_else(|| missing("a server configuration to accept"))
    }

    pub(crate) fn require_client(&self) -> io::Result<&Arc<ClientConfig>> {
        self.client.as_ref().ok_or_else(|| missing("a client configuration to dial"))
    }
}

fn missing(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("the tls configuration has no {what}"))
}
