//! Listening, accepting, dialing and serving connections.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::listener::{ListenerConfig, Serving};
use super::{DialAddr, Peer};
use crate::proto::Proto;
use crate::session::{Origin, RedialTarget, Session};
use crate::status::{self, Status};
use crate::transport::{self, Addr, Conn, Listener};

/// Options of one listener.
#[derive(Clone, Default)]
pub struct ListenOptions {
    /// The protocol of its connections instead of the peer's (the seed's `ProtoFunc`).
    pub proto: Option<Arc<dyn Proto>>,
}

/// Options of one dial.
#[derive(Clone, Default)]
pub struct DialOptions {
    /// The protocol of the connection instead of the peer's.
    pub proto: Option<Arc<dyn Proto>>,
    /// The dial timeout instead of the configured `default_dial_timeout`.
    pub timeout: Option<Duration>,
    /// Whether the session redials when its connection drops (default: when the
    /// configured `redial_times` is not 0).
    pub redial: Option<bool>,
}

impl Peer {
    /// Listens where the configuration says (`local_ip:listen_port`, or `unix_path`) and
    /// serves every connection in the background. Returns the bound address (useful with
    /// port 0). The other listeners of the configuration are served by
    /// [`listen_all`](Self::listen_all), or one by one by [`listen_on`](Self::listen_on).
    pub async fn listen(&self) -> io::Result<Addr> {
        self.listen_with(ListenOptions::default()).await
    }

    /// Listens with options; see [`Peer::listen`].
    pub async fn listen_with(&self, options: ListenOptions) -> io::Result<Addr> {
        self.config()
            .validate_listen()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = self.bind(&ListenerConfig::main(self.config())).await?;
        Ok(self.serve_listener(listener, options))
    }

    /// Serves every connection of `listener` in the background (any transport).
    pub fn serve_listener(&self, listener: Box<dyn Listener>, options: ListenOptions) -> Addr {
        let serving = options.proto.map_or_else(|| self.inner.serving.clone(), Serving::shared);
        self.serve_with(listener, serving)
    }

    /// Serves every connection of `listener` in the background as `serving` says.
    pub(super) fn serve_with(&self, mut listener: Box<dyn Listener>, serving: Serving) -> Addr {
        let addr = listener.local_addr();
        for plugin in self.plugins().iter() {
            if let Err(status) = plugin.post_listen(&addr) {
                tracing::warn!(plugin = plugin.name(), %status, "post_listen refused");
            }
        }
        tracing::info!(%addr, "listening");
        let peer = self.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.accept_connecting().await {
                    Ok(connecting) => {
                        let (peer, serving) = (peer.clone(), serving.clone());
                        // The handshake (TLS, WebSocket...) runs here, not in the accept loop.
                        tokio::spawn(async move {
                            let conn = match connecting.await {
                                Ok(conn) => conn,
                                Err(e) => {
                                    tracing::info!(error = %e, "handshake failed");
                                    return;
                                }
                            };
                            let remote = conn.remote_addr.clone();
                            let (conn, proto) = serving.accept(conn);
                            if let Err(status) = peer.serve_conn_with(conn, Some(proto)).await {
                                tracing::info!(%remote, %status, "connection refused");
                            }
                        });
                    }
                    Err(e) if transport::is_out_of_resources(&e) => {
                        // Out of file descriptors and the like: pause instead of spinning.
                        tracing::warn!(error = %e, "accept failed; pausing");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => {
                        // One connection's trouble (reset before it was accepted): skip it.
                        tracing::debug!(error = %e, "connection dropped while accepted");
                        tokio::task::yield_now().await;
                    }
                }
            }
        });
        self.inner.accept_loops.lock().push(task);
        addr
    }

    /// Listens on every listener ([`listen_all`](Self::listen_all)), then waits until the
    /// peer shuts down.
    pub async fn listen_and_serve(&self) -> io::Result<()> {
        self.listen_all().await?;
        self.stopped().await;
        Ok(())
    }

    /// Serves a connection obtained elsewhere as an accepted session.
    pub async fn serve_conn(&self, conn: Conn) -> Result<Session, Status> {
        self.serve_conn_with(conn, None).await
    }

    /// Serves a connection with a protocol other than the peer's.
    pub async fn serve_conn_with(
        &self,
        conn: Conn,
        proto: Option<Arc<dyn Proto>>,
    ) -> Result<Session, Status> {
        self.check_open()?;
        let proto = proto.unwrap_or_else(|| self.proto().clone());
        let addrs = (conn.local_addr.clone(), conn.remote_addr.clone());
        let session = Session::new(self.clone(), addrs, Origin::Accepted, None);
        if let Err(status) = session.attach(conn, proto, Origin::Accepted).await {
            session.give_up();
            return Err(status);
        }
        self.hub().insert(&session);
        Ok(session)
    }

    /// Dials `addr`: `host:port`, a socket path for the `unix` network, a `ws://` or `wss://`
    /// URL (or `host:port`) for the WebSocket networks, or the [`Addr`] that
    /// [`listen`](Self::listen) returned (see [`DialAddr`]).
    pub async fn dial(&self, addr: impl DialAddr) -> Result<Session, Status> {
        self.dial_with(addr, DialOptions::default()).await
    }

    /// Dials with options. A failure is `105 Dial Failed` with the reason as cause, or the
    /// status a connect plugin refused with.
    pub async fn dial_with(
        &self,
        addr: impl DialAddr,
        options: DialOptions,
    ) -> Result<Session, Status> {
        let addr = &*addr.dial_addr();
        self.check_open()?;
        let timeout = options.timeout.unwrap_or(self.config().default_dial_timeout);
        let proto = options.proto.unwrap_or_else(|| self.proto().clone());
        let conn = self.connect(addr, timeout).await?;
        let redial = options.redial.unwrap_or(self.config().redial_times != 0);
        let target = redial.then(|| RedialTarget {
            addr: addr.to_owned(),
            proto: proto.clone(),
            dial_timeout: timeout,
        });
        let addrs = (conn.local_addr.clone(), conn.remote_addr.clone());
        let origin = Origin::Dialed { redial: false };
        let session = Session::new(self.clone(), addrs, origin, target);
        if let Err(status) = session.attach(conn, proto, origin).await {
            session.give_up();
            return Err(status);
        }
        self.hub().insert(&session);
        Ok(session)
    }

    /// Opens a connection on the configured network, bounded by `timeout` (zero: none).
    pub(crate) async fn connect(&self, addr: &str, timeout: Duration) -> Result<Conn, Status> {
        let connect = transport::dial(self.config().network, addr, self.transports());
        let result = if timeout.is_zero() {
            connect.await
        } else {
            tokio::time::timeout(timeout, connect)
                .await
                .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "dial timed out")))
        };
        result.map_err(|e| Status::with_code(status::CODE_DIAL_FAILED, format!("{addr}: {e}")))
    }
}
