//! Every transport with every protocol, over loopback: calls, pushes both ways, error
//! statuses, large bodies and concurrency; the TLS, QUIC and WebSocket refusals; the
//! session pool.

mod common;
#[cfg(feature = "kcp")]
mod kcp;
mod matrix;
mod pool;
#[cfg(feature = "quic")]
mod quic;
#[cfg(any(feature = "tls", feature = "ws"))]
mod refusals;
