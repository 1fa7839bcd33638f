//! The bundled plugins, over loopback sockets (port 0) and, for paused time, in-memory
//! connections.

mod auth;
mod binder;
mod common;
mod counter;
mod heartbeat;
mod ignore_case;
mod overloader;
mod proxy;
mod secure;
