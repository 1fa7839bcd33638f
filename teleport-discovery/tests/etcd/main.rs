//! The registry and the balancer against a real etcd, started by each test (see
//! `fixture.rs`; `scripts/etcd.sh` installs etcd). Run with
//! `cargo test -p teleport-discovery --features etcd`.

mod balancing;
mod failover;
mod fixture;
mod registry;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use teleport::{CallCtx, Peer, PeerConfig};
use teleport_discovery::etcd::{EtcdConfig, EtcdRegistry};
use teleport_discovery::{Instance, Registration, Registry};

pub use fixture::Etcd;

/// A registry on `etcd` under a prefix of the test's own.
pub async fn registry(etcd: &Etcd, prefix: &str) -> EtcdRegistry {
    let mut config = EtcdConfig::new([etcd.endpoint.clone()]);
    config.prefix = format!("/test/{prefix}/");
    EtcdRegistry::connect_with(config).await.expect("connect to etcd")
}

/// A peer on loopback, port 0.
pub fn loopback() -> PeerConfig {
    PeerConfig { local_ip: "127.0.0.1".into(), listen_port: 0, ..PeerConfig::default() }
}

/// A server of `/work` (answers its argument + 1 after `delay`) counting its calls.
pub struct Server {
    /// The server peer.
    pub peer: Peer,
    /// Where it listens.
    pub addr: String,
    /// How many calls of `/work` it ran.
    pub served: Arc<AtomicUsize>,
}

impl Server {
    /// Starts one on loopback, port 0.
    pub async fn start(delay: Duration) -> Server {
        Self::start_at(loopback(), delay).await
    }

    /// Starts one with `config`.
    pub async fn start_at(config: PeerConfig, delay: Duration) -> Server {
        let peer = Peer::new(config).unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        peer.route_call_fn("/work", move |_ctx: CallCtx, n: u64| {
            counter.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(delay).await;
                Ok(n + 1)
            }
        });
        let addr = peer.listen().await.unwrap().to_string();
        Server { peer, addr, served }
    }

    /// How many calls of `/work` it ran.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }

    /// Registers it as an instance of `service`, with a 2 s lease.
    pub async fn register(&self, registry: &EtcdRegistry, service: &str) -> Registration {
        let instance = Instance::new(service, self.addr.clone());
        registry.register(instance, Duration::from_secs(2)).await.expect("register")
    }
}

/// Waits until `f` holds, checking every 20 ms, failing the test after 20 s.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
