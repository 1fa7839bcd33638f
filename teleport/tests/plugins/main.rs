//! The bundled plugins, over loopback sockets (port 0) and, for paused time, in-memory
//! connections. `secure` and `binder` need their features (`--all-features`).

mod auth;
#[cfg(feature = "binder")]
mod binder;
mod common;
mod counter;
mod heartbeat;
mod ignore_case;
mod overloader;
mod proxy;
#[cfg(feature = "secure")]
mod secure;
