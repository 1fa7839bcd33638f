//! A proxy: forwards every call and push to an unknown route upstream, without decoding it.
//!
//! [`Proxy`] sets the peer's unknown-call and unknown-push handlers. For each message it
//! asks its selector for a [`Forwarder`] (a [`Session`](crate::Session) to a backend, later a pool), and sends
//! the message there with its service method, raw body bytes, body codec and every meta pair,
//! plus `X-Real-IP`: the client's socket address, or, when the client is one of the trusted
//! proxies, the `X-Real-IP` it sent. The upstream's reply comes back with its status, meta,
//! codec and body unchanged. When no reply comes (the upstream connection closed, a write
//! failed, a dial failed: codes 100 to 199), the caller gets 502 Bad Gateway.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::proxy::Proxy;
//! use teleport::{CallOptions, Peer, PeerConfig, transport::memory};
//!
//! let backend = Peer::new(PeerConfig::default())?;
//! backend.route_call_fn("/math/add", |ctx, nums: Vec<i64>| async move {
//!     ctx.set_meta("seen-ip", ctx.real_ip());
//!     Ok(nums.iter().sum::<i64>())
//! });
//! let front = Peer::new(PeerConfig::default())?;
//! let (a, b) = memory::pair();
//! backend.serve_conn(a).await?;
//! let upstream = front.serve_conn(b).await?;
//!
//! let proxy = Peer::builder(PeerConfig::default())
//!     .plugin(Proxy::new(move |_label| Some(upstream.clone())))
//!     .build()?;
//! let client = Peer::new(PeerConfig::default())?;
//! let (c, d) = memory::pair();
//! proxy.serve_conn(c).await?;
//! let session = client.serve_conn(d).await?;
//!
//! let reply = session.call_with::<i64>("/math/add", &[1, 2, 3], &CallOptions::new()).await?;
//! assert_eq!(reply.value, 6);
//! assert!(reply.meta.get("seen-ip").unwrap().starts_with("memory:"));
//! # Ok(()) }
//! ```
//!
//! Every forwarded message carries a hop count (`X-Tp-Hops`, see
//! [`Incoming::forward_message`]); one that was forwarded `max_hops` times already is
//! answered 508 Loop Detected, so a proxy pointed at itself, or two at each other, fails
//! fast instead of filling every handler slot.
//!
//! By default a proxy forwards only what arrives on the sessions its peer **accepted** (its
//! clients). A call that an upstream makes back over a session the proxy's peer dialed is not
//! sent upstream again (where it would come back to the caller's own routes): it is answered
//! 404 with a cause that says so, and such a push is dropped. [`Proxy::scope`] widens this
//! to [`Scope::All`].
//!
//! Differences from Go eRPC: Go trusts any `X-Real-IP` a client sends; we trust it only from
//! the configured proxies. Go turns every 1xx status into 502, also one the upstream sent;
//! we turn only our own failures to reach it into 502, and pass upstream replies on as
//! they are, including the meta of error replies.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::boxed::BoxFuture;
use crate::codec::RawBody;
#[cfg(doc)]
use crate::context::META_HOPS;
use crate::context::{CallCtx, Incoming, META_REAL_IP, PushCtx};
use crate::message::{Message, MessageType};
use crate::peer::Peer;
use crate::plugin::{HookResult, Plugin};
pub use crate::session::forward::Forwarder;
use crate::status::{self, Status};

/// What the selector knows of a message to forward.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Label {
    /// The id of the client's session.
    pub session_id: Arc<str>,
    /// The client's IP, as forwarded in `X-Real-IP`.
    pub real_ip: String,
    /// The service method, with its query.
    pub service_method: String,
    /// A call (`true`) or a push.
    pub is_call: bool,
}

type CallFn = dyn Fn(&Label, Message, Option<Duration>) -> BoxFuture<'static, Result<Message, Status>>
    + Send
    + Sync;
type PushFn = dyn Fn(&Label, Message, Option<Duration>) -> BoxFuture<'static, Result<(), Status>>
    + Send
    + Sync;

/// The proxy plugin. Cheap to clone.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<ProxyInner>,
}

#[derive(Clone)]
struct ProxyInner {
    call: Arc<CallFn>,
    push: Arc<PushFn>,
    trusted: Vec<Cidr>,
    timeout: Option<Duration>,
    scope: Scope,
}

/// Which sessions' messages a proxy forwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// Only what arrives on sessions the proxy's peer accepted (its clients); calls that
    /// arrive on the sessions it dialed (an upstream calling back) get 404. The default.
    #[default]
    Accepted,
    /// What arrives on any session, dialed ones included.
    All,
}

impl Proxy {
    /// A proxy forwarding each message to what `select` picks for it; `None` answers a call
    /// 404 and drops a push.
    pub fn new<W, S>(select: S) -> Self
    where
        W: Forwarder,
        S: Fn(&Label) -> Option<W> + Send + Sync + 'static,
    {
        let select = Arc::new(select);
        let pick = select.clone();
        let call = Arc::new(move |label: &Label, msg, timeout| -> BoxFuture<'static, _> {
            match pick(label) {
                Some(to) => Box::pin(async move { to.forward_call(msg, timeout).await }),
                None => Box::pin(std::future::ready(Err(no_upstream(label)))),
            }
        });
        let push = Arc::new(move |label: &Label, msg, timeout| -> BoxFuture<'static, _> {
            match select(label) {
                Some(to) => Box::pin(async move { to.forward_push(msg, timeout).await }),
                None => Box::pin(std::future::ready(Err(no_upstream(label)))),
            }
        });
        let inner =
            ProxyInner { call, push, trusted: Vec::new(), timeout: None, scope: Scope::default() };
        Proxy { inner: Arc::new(inner) }
    }

    /// Trusts the `X-Real-IP` sent by clients from `proxies`: an IP (`10.0.0.7`, `::1`) or a
    /// network (`10.0.0.0/8`). Other clients' `X-Real-IP` is replaced by their address.
    pub fn trust(mut self, proxies: &str) -> Result<Self, InvalidCidr> {
        let cidr = Cidr::parse(proxies)?;
        Arc::make_mut(&mut self.inner).trusted.push(cidr);
        Ok(self)
    }

    /// The deadline of forwarded calls (default: the peer's `call_timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.inner).timeout = Some(timeout);
        self
    }

    /// Which sessions' messages are forwarded (default [`Scope::Accepted`]).
    pub fn scope(mut self, scope: Scope) -> Self {
        Arc::make_mut(&mut self.inner).scope = scope;
        self
    }
}

impl ProxyInner {
    /// The message to send upstream and its label; refused when the message arrived
    /// outside the proxy's scope or went round too many times.
    fn outgoing(&self, incoming: &Incoming) -> Result<(Label, Message), Status> {
        if self.scope == Scope::Accepted && incoming.session().is_dialed() {
            let cause = "not forwarded: it arrived on a session this proxy dialed (Proxy::scope)";
            return Err(Status::with_code(status::CODE_NOT_FOUND, cause));
        }
        let mut msg = incoming.forward_message()?;
        let input = incoming.input();
        let remote = incoming.session().remote_addr();
        let trusted = remote.ip().is_some_and(|ip| self.trusted.iter().any(|c| c.contains(ip)));
        let real_ip = match msg.meta.get(META_REAL_IP) {
            Some(ip) if trusted && !ip.is_empty() => ip.to_owned(),
            _ => {
                let ip = remote.ip().map_or_else(|| remote.to_string(), |ip| ip.to_string());
                msg.meta.remove(META_REAL_IP);
                msg.meta.add(META_REAL_IP, ip.clone());
                ip
            }
        };
        let label = Label {
            session_id: incoming.session().id(),
            real_ip,
            service_method: input.service_method.clone(),
            is_call: input.mtype == MessageType::Call,
        };
        Ok((label, msg))
    }

    async fn call(&self, ctx: CallCtx) -> Result<RawBody, Status> {
        let (label, msg) = self.outgoing(&ctx)?;
        let reply = (self.call)(&label, msg, self.timeout).await.map_err(bad_gateway)?;
        for (key, value) in reply.meta.iter() {
            ctx.add_meta(key, value);
        }
        reply.status.into_result()?;
        ctx.set_reply_codec(reply.body_codec);
        Ok(RawBody(reply.body))
    }

    async fn push(&self, ctx: PushCtx) -> Result<(), Status> {
        let (label, msg) = self.outgoing(&ctx)?;
        (self.push)(&label, msg, self.timeout).await.map_err(bad_gateway)
    }
}

impl Plugin for Proxy {
    fn name(&self) -> &str {
        "proxy"
    }

    fn post_new_peer(&self, peer: &Peer) -> HookResult {
        let (on_call, on_push) = (self.inner.clone(), self.inner.clone());
        peer.set_unknown_call(move |ctx| {
            let inner = on_call.clone();
            async move { inner.call(ctx).await }
        });
        peer.set_unknown_push(move |ctx| {
            let inner = on_push.clone();
            async move { inner.push(ctx).await }
        });
        Ok(())
    }
}

fn no_upstream(label: &Label) -> Status {
    let cause = format!("no upstream for {}", label.service_method);
    Status::with_code(status::CODE_NOT_FOUND, cause)
}

/// Our failures to reach the upstream (codes 100 to 199) become 502.
fn bad_gateway(status: Status) -> Status {
    if (100..200).contains(&status.code()) {
        Status::with_code(status::CODE_BAD_GATEWAY, format!("upstream {status}"))
    } else {
        status
    }
}

/// A proxy address that is neither an IP nor a network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid proxy address {0:?}: expected an IP or a network such as 10.0.0.0/8")]
pub struct InvalidCidr(pub String);

/// An IP network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Result<Cidr, InvalidCidr> {
        let invalid = || InvalidCidr(text.to_owned());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| invalid())?;
        let bits = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(invalid)?,
            None => bits,
        };
        Ok(Cidr { net, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_match() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("fe80::/10").unwrap().contains("fe80::1".parse().unwrap()));
        assert!(Cidr::parse("::/0").unwrap().contains("::1".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0/8", "x", "1.2.3.4/-1"] {
            assert_eq!(Cidr::parse(bad), Err(InvalidCidr(bad.to_owned())), "{bad}");
        }
    }
}
