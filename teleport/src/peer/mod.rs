//! [`Peer`]: server and client at once. It listens, dials, routes and holds its sessions.

mod config;
#[cfg(feature = "http")]
mod http_conn;
mod hub;
mod listener;
mod serve;
mod shutdown;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::socket::OutboundStats;
pub use crate::transport::network::Network;
pub use config::{ConfigError, PeerConfig};
pub use listener::{ListenerConfig, Protocol};
pub use serve::{DialOptions, ListenOptions};

pub use shutdown::graceful_signal;

pub(crate) use hub::Hub;

use crate::codec::{self, CodecRegistry};
use crate::plugin::{Plugin, Plugins};
use crate::proto::Proto;
use crate::router::{Group, RouteTable};
use crate::session::Session;
use crate::socket::OutboundBudget;
use crate::status::{self, Status};
use crate::transport::{Addr, Transports};
use crate::xfer::XferRegistry;
use listener::Serving;

pub(crate) struct PeerInner {
    config: PeerConfig,
    serving: Serving,
    filters: Arc<XferRegistry>,
    codecs: CodecRegistry,
    default_codec: u8,
    plugins: Plugins,
    routes: Arc<RouteTable>,
    hub: Hub,
    shutting_down: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
    stopped: Notify,
    accept_loops: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    transports: Transports,
    outbound: Arc<OutboundBudget>,
}

/// A peer: it listens and dials, and every connection becomes a [`Session`] that can call
/// and push both ways. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use teleport::{Peer, PeerConfig, transport::memory};
///
/// let server = Peer::new(PeerConfig::default())?;
/// server.route_call_fn("/math/add", |_ctx, nums: Vec<i64>| async move {
///     Ok(nums.iter().sum::<i64>())
/// });
/// let client = Peer::new(PeerConfig::default())?;
///
/// let (a, b) = memory::pair();
/// server.serve_conn(a).await?;
/// let session = client.serve_conn(b).await?;
/// let sum: i64 = session.call("/math/add", &[1, 2, 3]).await?;
/// assert_eq!(sum, 6);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Peer {
    inner: Arc<PeerInner>,
}

/// Builds a [`Peer`] with plugins, a protocol, codecs or filters other than the defaults.
pub struct PeerBuilder {
    config: PeerConfig,
    plugins: Vec<Arc<dyn Plugin>>,
    proto: Option<Arc<dyn Proto>>,
    protocol: Option<Protocol>,
    codecs: CodecRegistry,
    filters: XferRegistry,
    transports: Transports,
}

impl PeerBuilder {
    /// Adds a peer-wide plugin; plugins run in the order added.
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// Adds a shared peer-wide plugin.
    pub fn plugin_arc(mut self, plugin: Arc<dyn Plugin>) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// The protocol of every connection (default: [`RawProto`](crate::RawProto) with the configured limits
    /// and the transfer filters); listen and dial may override it.
    pub fn proto(mut self, proto: Arc<dyn Proto>) -> Self {
        self.proto = Some(proto);
        self.protocol = None;
        self
    }

    /// The protocol of every connection by name (default [`Protocol::Raw`]), built with the
    /// configured limits and the transfer filters, unlike a protocol value given to
    /// [`proto`](Self::proto); listeners may override it.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self.proto = None;
        self
    }

    /// The body codecs the peer accepts.
    pub fn codecs(mut self, codecs: CodecRegistry) -> Self {
        self.codecs = codecs;
        self
    }

    /// The transfer filters of the protocols the peer builds.
    pub fn filters(mut self, filters: XferRegistry) -> Self {
        self.filters = filters;
        self
    }

    /// The certificates of the `tls`, `wss` and `quic` networks: a server configuration to
    /// listen, a client configuration to dial (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::transport::tls::TlsConfig) -> Self {
        self.transports.tls = Some(tls);
        self
    }

    /// The path, upgrade hook and handshake bound of the `ws` and `wss` networks (feature
    /// `ws`; default: path `/`, no hook).
    #[cfg(feature = "ws")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
    pub fn ws(mut self, ws: crate::transport::ws::WsConfig) -> Self {
        self.transports.ws = ws;
        self
    }

    /// The settings of the `kcp` network (feature `kcp`; default: see
    /// [`KcpSettings`](crate::transport::kcp::KcpSettings)).
    #[cfg(feature = "kcp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kcp")))]
    pub fn kcp(mut self, kcp: crate::transport::kcp::KcpSettings) -> Self {
        self.transports.kcp = kcp;
        self
    }

    /// Runs the plugins' `pre_new_peer` hooks, checks the configuration and builds the peer.
    pub fn build(mut self) -> Result<Peer, ConfigError> {
        for plugin in &self.plugins {
            plugin.pre_new_peer(&mut self.config).map_err(|status| ConfigError::Refused {
                plugin: plugin.name().to_owned(),
                status,
            })?;
        }
        self.config.validate()?;
        let default_codec =
            self.codecs.by_name(&self.config.default_body_codec).map(|c| c.id).ok_or_else(
                || ConfigError::Invalid {
                    field: "default_body_codec",
                    reason: format!("unknown body codec {:?}", self.config.default_body_codec),
                },
            )?;
        let filters = Arc::new(self.filters);
        let serving = match (self.proto, self.protocol.unwrap_or(Protocol::Raw)) {
            (Some(proto), _) => Serving::shared(proto),
            (None, protocol) => Serving::build(protocol, self.config.limits(), &filters, false)
                .map_err(|reason| ConfigError::Invalid { field: "protocol", reason })?,
        };
        self.transports.socket = self.config.socket_options();
        let outbound = Arc::new(OutboundBudget::new(
            self.config.max_outbound_bytes_total,
            self.config.default_push_policy,
            self.config.push_policies.clone(),
        ));
        let plugins = Plugins::new(self.plugins);
        let peer = Peer {
            inner: Arc::new(PeerInner {
                outbound,
                config: self.config,
                serving,
                filters,
                codecs: self.codecs,
                default_codec,
                routes: Arc::new(RouteTable::new(plugins.clone())),
                plugins,
                hub: Hub::default(),
                shutting_down: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
                stopped: Notify::new(),
                accept_loops: Mutex::new(Vec::new()),
                transports: self.transports,
            }),
        };
        for plugin in peer.plugins().iter() {
            if let Err(status) = plugin.post_new_peer(&peer) {
                let reason = format!("plugin {} refused the peer: {status}", plugin.name());
                return Err(ConfigError::Invalid { field: "plugins", reason });
            }
        }
        Ok(peer)
    }
}

impl Peer {
    /// A peer with the default protocol, codecs, filters and no plugins.
    pub fn new(config: PeerConfig) -> Result<Peer, ConfigError> {
        Peer::builder(config).build()
    }

    /// A builder, to add plugins or change the protocol, codecs or filters.
    pub fn builder(config: PeerConfig) -> PeerBuilder {
        PeerBuilder {
            config,
            plugins: Vec::new(),
            proto: None,
            protocol: None,
            codecs: CodecRegistry::default(),
            filters: XferRegistry::default(),
            transports: Transports::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PeerConfig {
        &self.inner.config
    }

    /// The peer-wide plugins.
    pub(crate) fn plugins(&self) -> &Plugins {
        &self.inner.plugins
    }

    /// The default protocol.
    pub fn proto(&self) -> &Arc<dyn Proto> {
        self.inner.serving.proto()
    }

    /// The body codecs the peer knows.
    pub fn codecs(&self) -> &CodecRegistry {
        &self.inner.codecs
    }

    /// The id of the default body codec.
    pub fn default_codec(&self) -> u8 {
        self.inner.default_codec
    }

    /// The root route group: no prefix, no plugins of its own.
    pub fn root(&self) -> Group {
        Group::new(self.inner.routes.clone(), String::new(), Vec::new())
    }

    /// A route group under `prefix` with plugins of its own.
    pub fn group(&self, prefix: &str, plugins: Vec<Arc<dyn Plugin>>) -> Group {
        self.root().group(prefix, plugins)
    }

    /// Registers a call handler; see [`Group::route_call_fn`].
    pub fn route_call_fn<A, R, F, Fut>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        R: codec::EncodeBody + Send + 'static,
        F: Fn(crate::CallCtx, A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, Status>> + Send + 'static,
    {
        self.root().route_call_fn(name, f);
        self
    }

    /// Registers a push handler; see [`Group::route_push_fn`].
    pub fn route_push_fn<A, F, Fut>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        F: Fn(crate::PushCtx, A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), Status>> + Send + 'static,
    {
        self.root().route_push_fn(name, f);
        self
    }

    /// Registers a synchronous call handler; see [`Group::route_call_sync_fn`].
    pub fn route_call_sync_fn<A, R, F>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        R: codec::EncodeBody + Send + 'static,
        F: Fn(&crate::CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
    {
        self.root().route_call_sync_fn(name, f);
        self
    }

    /// Registers a blocking call handler; see [`Group::route_call_blocking_fn`].
    pub fn route_call_blocking_fn<A, R, F>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        R: codec::EncodeBody + Send + 'static,
        F: Fn(&crate::CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
    {
        self.root().route_call_blocking_fn(name, f);
        self
    }

    /// Registers a blocking push handler; see [`Group::route_push_blocking_fn`].
    pub fn route_push_blocking_fn<A, F>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        F: Fn(&crate::PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.root().route_push_blocking_fn(name, f);
        self
    }

    /// Registers a synchronous push handler; see [`Group::route_push_sync_fn`].
    pub fn route_push_sync_fn<A, F>(&self, name: &str, f: F) -> &Self
    where
        A: codec::DecodeBody + Send + 'static,
        F: Fn(&crate::PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.root().route_push_sync_fn(name, f);
        self
    }

    /// Sets the unknown-call handler; see [`Group::set_unknown_call`].
    pub fn set_unknown_call<R, F, Fut>(&self, f: F) -> &Self
    where
        R: codec::EncodeBody + Send + 'static,
        F: Fn(crate::CallCtx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, Status>> + Send + 'static,
    {
        self.root().set_unknown_call(f);
        self
    }

    /// Sets the unknown-push handler; see [`Group::set_unknown_push`].
    pub fn set_unknown_push<F, Fut>(&self, f: F) -> &Self
    where
        F: Fn(crate::PushCtx) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), Status>> + Send + 'static,
    {
        self.root().set_unknown_push(f);
        self
    }

    /// The names of the registered call routes, sorted.
    pub fn call_routes(&self) -> Vec<String> {
        self.inner.routes.current().call_names()
    }

    /// The names of the registered push routes, sorted.
    pub fn push_routes(&self) -> Vec<String> {
        self.inner.routes.current().push_names()
    }

    /// The number of sessions.
    pub fn session_count(&self) -> usize {
        self.inner.hub.len()
    }

    /// The session with this id.
    pub fn get_session(&self, id: &str) -> Option<Session> {
        self.inner.hub.get(id)
    }

    /// A snapshot of every session (to broadcast, for example).
    pub fn sessions(&self) -> Vec<Session> {
        self.inner.hub.all()
    }

    /// Whether [`Peer::shutdown`] has started.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    pub(crate) fn check_open(&self) -> Result<(), Status> {
        if self.is_shutting_down() {
            return Err(Status::with_code(
                status::CODE_SERVICE_UNAVAILABLE,
                "the peer is shutting down",
            ));
        }
        Ok(())
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub(crate) fn transports(&self) -> &Transports {
        &self.inner.transports
    }

    /// The live route table.
    pub(crate) fn route_table(&self) -> &RouteTable {
        &self.inner.routes
    }

    /// Counts a running handler until the guard drops; shutdown waits for the count to reach 0.
    pub(crate) fn track_handler(&self) -> HandlerGuard {
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        HandlerGuard { peer: self.inner.clone() }
    }

    /// The number of handlers running.
    pub fn handlers_in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// How the outbound budget stands (bytes queued, all sessions together) and what the
    /// push policies did.
    pub fn outbound_stats(&self) -> OutboundStats {
        self.inner.outbound.stats()
    }

    pub(crate) fn outbound(&self) -> &Arc<OutboundBudget> {
        &self.inner.outbound
    }

    /// Closes the session holding the most queued outbound bytes, dropping them (the
    /// [`PushPolicy::CloseSlowest`](crate::socket::PushPolicy::CloseSlowest) policy).
    pub(crate) fn close_slowest(&self) {
        let slowest = self
            .sessions()
            .into_iter()
            .filter_map(|s| s.queued_bytes().map(|bytes| (bytes, s)))
            .max_by_key(|(bytes, _)| *bytes);
        if let Some((bytes, session)) = slowest {
            session.close_as_slowest(bytes);
        }
    }
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("network", &self.config().network)
            .field("sessions", &self.session_count())
            .field("plugins", self.plugins())
            .finish()
    }
}

/// Marks one running handler.
pub(crate) struct HandlerGuard {
    peer: Arc<PeerInner>,
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        if self.peer.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.peer.idle.notify_waiters();
        }
    }
}

/// What [`Peer::dial`] accepts: an address as text (`host:port`, a socket path, a
/// WebSocket URL), a [`std::net::SocketAddr`], or the [`Addr`] that [`Peer::listen`]
/// returned.
pub trait DialAddr {
    /// The address as the dialer reads it.
    fn dial_addr(&self) -> Cow<'_, str>;
}

impl DialAddr for str {
    fn dial_addr(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl DialAddr for String {
    fn dial_addr(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl DialAddr for std::net::SocketAddr {
    fn dial_addr(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl DialAddr for Addr {
    fn dial_addr(&self) -> Cow<'_, str> {
        match self {
            Addr::Tcp(addr) | Addr::Udp(addr) => Cow::Owned(addr.to_string()),
            Addr::Unix(path) => Cow::Borrowed(path),
            memory @ Addr::Memory(_) => Cow::Owned(memory.to_string()),
        }
    }
}

impl<T: DialAddr + ?Sized> DialAddr for &T {
    fn dial_addr(&self) -> Cow<'_, str> {
        (**self).dial_addr()
    }
}
