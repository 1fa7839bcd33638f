//! WebSocket with tokio-tungstenite (network `ws`, and `wss` with the `tls` feature).
//!
//! The server accepts upgrades on one path ([`WsConfig::with_path`], default `/`) and serves
//! each upgraded connection as a session; a hook may refuse an upgrade from its request (a
//! token in the query, a header) with `403 Forbidden`, and other paths get `404`. The client
//! dials `ws://host:port/path` and `wss://` URLs; a bare `host:port` takes the network's
//! scheme and the configured path.
//!
//! Frames travel in binary messages: each message holds whole frames as the write loop
//! batched them (or a 1 MiB piece of a larger batch), and the reader joins the messages into
//! a byte stream. So every protocol (raw, json, protobuf) frames as over TCP and the status
//! travels intact. Go eRPC's WebSocket mixer instead puts one frame in each message through
//! sub-protocols of its own: the two do not talk to each other.
//!
//! ```
//! use teleport::transport::ws::WsConfig;
//!
//! let ws = WsConfig::new().with_path("/ws").with_hook(|request| {
//!     match request.uri().query() {
//!         Some(q) if q.split('&').any(|kv| kv == "token=secret") => Ok(()),
//!         _ => Err("a valid token is required".to_owned()),
//!     }
//! });
//! assert_eq!(ws.path(), "/ws");
//! ```

mod stream;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener as TokioListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Callback, ErrorResponse, Response};
use tokio_tungstenite::tungstenite::http::{StatusCode, Uri};
use tokio_tungstenite::{accept_hdr_async_with_config, client_async_with_config};

use self::stream::{conn_of, ws_config};
use super::setup::{Parts, accepted_parts, bounded, tcp_parts};
use super::tcp::SocketOptions;
use super::{Addr, BoxFuture, Conn, Connecting, Listener, Transports};

/// The HTTP request of an upgrade, as a hook sees it.
pub type UpgradeRequest = tokio_tungstenite::tungstenite::handshake::server::Request;

type Hook = Arc<dyn Fn(&UpgradeRequest) -> Result<(), String> + Send + Sync>;

/// The settings of the WebSocket networks: the path, the upgrade hook, the handshake bound.
/// Set it with [`PeerBuilder::ws`](crate::PeerBuilder::ws).
#[derive(Clone)]
pub struct WsConfig {
    path: String,
    hook: Option<Hook>,
    handshake_timeout: Duration,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig { path: "/".to_owned(), hook: None, handshake_timeout: Duration::from_secs(10) }
    }
}

impl std::fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConfig")
            .field("path", &self.path)
            .field("hook", &self.hook.is_some())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl WsConfig {
    /// The defaults: path `/`, no hook, a 10 s handshake bound.
    pub fn new() -> Self {
        WsConfig::default()
    }

    /// The path upgrades are accepted on, and dials of a bare `host:port` ask for.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// A hook that sees each upgrade request before it is accepted; `Err(reason)` refuses
    /// it with `403 Forbidden` and the reason as the body.
    pub fn with_hook(
        mut self,
        hook: impl Fn(&UpgradeRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// How long an accepted connection may take to upgrade (TLS included); zero for no
    /// limit. Default 10 s. Dials are bounded by the dial timeout instead.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Lets an upgrade through when it asks for the path and the hook consents.
struct Gate(WsConfig);

impl Callback for Gate {
    fn on_request(
        self,
        request: &UpgradeRequest,
        response: Response,
    ) -> Result<Response, ErrorResponse> {
        let config = self.0;
        if request.uri().path() != config.path {
            return Err(refusal(StatusCode::NOT_FOUND, "no websocket endpoint here".to_owned()));
        }
        if let Some(hook) = &config.hook {
            hook(request).map_err(|reason| refusal(StatusCode::FORBIDDEN, reason))?;
        }
        Ok(response)
    }
}

fn refusal(status: StatusCode, reason: String) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(reason));
    *response.status_mut() = status;
    response
}

/// A handshake error, with the refusal's status and body when the server answered one.
fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> io::Error {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(response) => {
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            let reason = format!("websocket upgrade refused: {} {body}", response.status());
            io::Error::new(io::ErrorKind::PermissionDenied, reason.trim_end().to_owned())
        }
        e => io::Error::other(format!("websocket handshake failed: {e}")),
    }
}

async fn upgrade<S>(stream: S, config: WsConfig, parts: Parts) -> io::Result<Conn>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ws = accept_hdr_async_with_config(stream, Gate(config), Some(ws_config()))
        .await
        .map_err(handshake_error)?;
    Ok(conn_of(ws, parts))
}

/// A WebSocket listener, plain or over TLS: each connection's TLS handshake and upgrade run
/// in its own task, bounded by [`WsConfig::with_handshake_timeout`].
pub struct WsListener {
    inner: TokioListener,
    local_addr: SocketAddr,
    options: SocketOptions,
    config: WsConfig,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for WsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsListener")
            .field("local_addr", &self.local_addr)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WsListener {
    /// Binds `addr` (port 0 picks a free port) for plain WebSocket (`ws://`).
    pub async fn bind(addr: &str, options: SocketOptions, config: &WsConfig) -> io::Result<Self> {
        let inner = super::tcp::listen(addr, options.listen_backlog).await?;
        let local_addr = inner.local_addr()?;
        Ok(WsListener {
            inner,
            local_addr,
            options,
            config: config.clone(),
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// Binds `addr` for WebSocket over TLS (`wss://`). Fails if `tls` has no server
    /// configuration.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub async fn bind_tls(
        addr: &str,
        options: SocketOptions,
        config: &WsConfig,
        tls: &super::tls::TlsConfig,
    ) -> io::Result<Self> {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.require_server()?.clone());
        let listener = WsListener::bind(addr, options, config).await?;
        Ok(WsListener { tls: Some(acceptor), ..listener })
    }
}

impl Listener for WsListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move { self.accept_connecting().await?.await })
    }

    fn local_addr(&self) -> Addr {
        Addr::Tcp(self.local_addr)
    }

    fn accept_connecting(&mut self) -> BoxFuture<'_, io::Result<Connecting>> {
        Box::pin(async move {
            let (tcp, remote) = self.inner.accept().await?;
            let parts = accepted_parts(&tcp, remote, &self.options)?;
            let config = self.config.clone();
            #[cfg(feature = "tls")]
            let tls = self.tls.clone();
            Ok(Box::pin(async move {
                let timeout = config.handshake_timeout;
                let handshake = async move {
                    #[cfg(feature = "tls")]
                    if let Some(acceptor) = tls {
                        let stream =
                            acceptor.accept(tcp).await.map_err(super::tls::handshake_error)?;
                        return upgrade(stream, config, parts).await;
                    }
                    upgrade(tcp, config, parts).await
                };
                bounded(timeout, "websocket upgrade", handshake).await
            }) as Connecting)
        })
    }
}

/// The URL to dial: `addr` if it is one, else `ws://addr/path` (or `wss://`).
fn url_of(addr: &str, secure: bool, path: &str) -> String {
    if addr.contains("://") {
        return addr.to_owned();
    }
    format!("{}://{addr}{path}", if secure { "wss" } else { "ws" })
}

/// Connects to a `ws://` or `wss://` URL, or to `host:port` with the network's scheme and
/// the configured path, and upgrades the connection.
pub(crate) async fn dial(
    addr: &str,
    secure: bool,
    options: &SocketOptions,
    transports: &Transports,
) -> io::Result<Conn> {
    let url = url_of(addr, secure, transports.ws.path());
    let bad =
        |reason: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {reason}"));
    let uri: Uri = url.parse().map_err(|_| bad("not a url"))?;
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(bad("the scheme is neither ws nor wss")),
    };
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    let host_port = format!("{host}:{}", uri.port_u16().unwrap_or(if secure { 443 } else { 80 }));
    let tcp = TcpStream::connect(&host_port).await?;
    let parts = tcp_parts(&tcp, options)?;
    if secure {
        #[cfg(feature = "tls")]
        {
            let tls = transports.tls.as_ref().ok_or_else(|| bad("wss needs PeerBuilder::tls"))?;
            let stream = super::tls::connect_stream(tcp, &host_port, tls).await?;
            return client_upgrade(url, stream, parts).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(bad("wss needs the `tls` feature"));
    }
    client_upgrade(url, tcp, parts).await
}

async fn client_upgrade<S>(url: String, stream: S, parts: Parts) -> io::Result<Conn>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (ws, _response) =
        client_async_with_config(url, stream, Some(ws_config())).await.map_err(handshake_error)?;
    Ok(conn_of(ws, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_to_dial() {
        assert_eq!(url_of("127.0.0.1:80", false, "/ws"), "ws://127.0.0.1:80/ws");
        assert_eq!(url_of("[::1]:443", true, "/"), "wss://[::1]:443/");
        assert_eq!(url_of("ws://h:1/x?token=t", true, "/ws"), "ws://h:1/x?token=t");
    }
}
