//! # teleport-discovery
//!
//! Service discovery for [teleport](teleport): servers register their instances in a
//! [`Registry`] under a lease they keep alive; clients watch a service's instances and
//! call them through a [`Balancer`], which spreads calls, ejects failing instances for a
//! while and fails a call over to another instance when that is safe.
//!
//! This crate sees teleport's public handles only (`Peer`, `Session`, `SessionPool`).
//!
//! ```no_run
//! # async fn demo(peer: teleport::Peer, registry: impl teleport_discovery::Registry)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use teleport_discovery::{Balancer, BalancerConfig, Instance, Registry};
//!
//! // A server (the registry: `etcd::EtcdRegistry::connect(["http://127.0.0.1:2379"])`):
//! let registration =
//!     registry.register(Instance::new("math", "10.0.0.7:9090"), Duration::from_secs(10)).await?;
//! // A client:
//! let math = Balancer::new(peer, "math", registry.watch("math").await?, BalancerConfig::default());
//! math.mark_idempotent(["/math/add"]);
//! let sum: i64 = math.call("/math/add", &[1, 2, 3]).await?;
//! // The server, shutting down:
//! registration.deregister().await?;
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! - `etcd`: [`etcd::EtcdRegistry`], on etcd's v3 API (etcd 3.4 or later) with the
//!   etcd-client crate, whose build needs `protoc` (`scripts/etcd.sh` installs it).

pub mod balancer;
#[cfg(feature = "etcd")]
pub mod etcd;
mod instance;
mod registry;

pub use balancer::{BalancedOptions, Balancer, BalancerConfig, HashKey, InstanceStats, Policy};
pub use instance::{Instance, InvalidInstance};
pub use registry::{
    BoxFuture, DeregisterRx, DeregisterTx, Members, Registration, Registry, RegistryError,
    deregister_channel,
};
