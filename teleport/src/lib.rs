//! # teleport
//!
//! A symmetric socket and RPC framework. A **peer** is server and client at once; a
//! **session** carries **calls** (request/reply) and **pushes** (one-way) in both directions.
//! The default wire format is byte-compatible with Go eRPC v6, so Rust and Go peers talk to
//! each other.
//!
//! This crate is layered. The layers below are free of I/O:
//!
//! - [`message`]: [`Message`], [`MessageType`], [`Meta`];
//! - [`status`]: [`Status`] and Go eRPC's codes;
//! - [`proto`]: framing ([`Proto`], [`RawProto`]);
//! - [`codec`]: body codecs (JSON, plain, form, protobuf, bincode, XML, Thrift);
//! - [`xfer`]: transfer filters (gzip, md5) and the [`XferPipe`].
//!
//! ```
//! use bytes::BytesMut;
//! use teleport::{Message, MessageType, Proto, RawProto, codec};
//!
//! let mut call = Message::new(MessageType::Call, 1, "/math/add");
//! call.meta.add("author", "x");
//! call.body_codec = codec::JSON;
//! call.body = codec::encode_to_bytes(&[1, 2, 3, 4, 5], codec::JSON)?;
//!
//! let proto = RawProto::default();
//! let mut wire = BytesMut::new();
//! proto.encode(&call, &mut wire)?;
//! assert_eq!(wire.len(), 48); // the same 48 bytes a Go eRPC v6 client writes
//! assert_eq!(proto.decode(&mut wire)?, Some(call));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//!
//! - `gzip` (default): the gzip transfer filter.
//! - `md5` (default): the md5 transfer filter.
//! - `protobuf`: the protobuf body codec for prost messages.
//! - `bincode`: the bincode body codec.
//! - `xml`: the XML body codec, shaped as Go's `encoding/xml` writes structs.
//! - `thrift`: the Thrift body codec for `thrift`-crate structs, and the thrift protocols
//!   (`proto::ThriftProto`, Go's `thriftproto`).
//! - `kcp`: KCP over UDP (network `kcp`) with tokio_kcp (`transport::kcp`); Rust peers only.
//! - `tls`: TLS over TCP (network `tls`) with rustls, and self-signed certificates
//!   (`transport::tls`, `transport::selfsigned`).
//! - `quic`: QUIC (network `quic`) with quinn (`transport::quic`); implies `tls`.
//! - `ws`: WebSocket (network `ws`, and `wss` with `tls`) with tokio-tungstenite
//!   (`transport::ws`).
//! - `http`: the `http` protocol (`proto::HttpProto`): calls as HTTP/1.1 `POST` requests.
//! - `secure`: the `plugin::secure` plugin, body encryption with XChaCha20-Poly1305.
//! - `binder`: the `plugin::binder` plugin, declarative argument validation.
//! - `schema`: JSON Schemas of argument and reply types in service manifests
//!   ([`manifest`]), for the types that implement `schemars::JsonSchema`.
//! - `metrics`: metrics through the `metrics` facade: calls, pushes, errors, in-flight,
//!   latency and bytes per route and side; sessions, redials, closed connections and queued
//!   bytes per process (the README's "Operating it" lists them).
//! - `opentelemetry`: the call and push spans exported through `tracing-opentelemetry`,
//!   their ids those of the W3C trace context carried in meta.
//! - `restart`: graceful restart on Unix (the `restart` module): listening sockets
//!   handed to a new process of the same program, which serves while the old one drains.
//!
//! The wire protocols are [`RawProto`] (the default), [`proto::JsonProto`] and, with
//! `protobuf`, `proto::ProtobufProto`, each byte-compatible with Go eRPC v6's.
//!
//! Every call and push runs in a `tracing` span on each side (target `teleport::rpc`,
//! `INFO`), and carries W3C trace context in meta (`traceparent`, [`TraceContext`]) when its
//! span is recorded; Go Teleport's per-message lines are logged under `teleport::detail`
//! (`PeerConfig::print_detail`, `count_time`, `slow_comet_duration`). None of it costs
//! anything without a subscriber that records it.
//!
//! [`pool::SessionPool`] keeps several sessions to one address and puts each call on the
//! least-loaded one.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod boxed;
mod cancel;
pub mod codec;
mod context;
pub mod manifest;
pub mod message;
mod observe;
pub mod peer;
pub mod plugin;
pub mod pool;
pub mod proto;
#[cfg(all(unix, feature = "restart"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "restart"))))]
pub mod restart;
mod router;
mod service;
mod session;
mod socket;
pub mod status;
pub mod transport;
mod urlenc;
pub mod xfer;

// The public surface: what a program names, re-exported here on purpose. Modules are
// public only where they group what a user picks from (codecs, status codes, protocols,
// transports, plugins, filters, configuration); see `public-api.txt` for the whole list.
pub use boxed::BoxFuture;
pub use context::{
    CallCtx, Incoming, META_ACCEPT_BODY_CODEC, META_HOPS, META_REAL_IP, META_TIMEOUT, PushCtx,
    ROUTE_CANCEL, UnknownCallCtx, UnknownPushCtx,
};
pub use message::{Message, MessageType, Meta};
pub use observe::{META_TRACEPARENT, META_TRACESTATE, TraceContext};
pub use peer::{Peer, PeerBuilder, PeerConfig};
pub use plugin::Plugin;
pub use proto::{Proto, ProtoError, RawProto};
pub use router::Group;
pub use service::{EncodeAs, Service};
pub use session::{CallHandle, CallOptions, Reply, Session, SessionState, Store};
pub use socket::{OutboundStats, PushPolicy};
pub use status::Status;
#[doc = include_str!("service.md")]
pub use teleport_macros::service;
/// Route names as Go Teleport derives them from type and method names (the HTTP and RPC
/// mappers), for hand-routed handlers too.
pub use teleport_mapper as mapper;
pub use xfer::{XferFilter, XferPipe, XferRegistry};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
