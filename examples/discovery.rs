//! Three servers register in etcd; a client balances idempotent calls over them; one server
//! is killed mid-run and no call fails.
//!
//! ```sh
//! scripts/etcd.sh                      # installs etcd and protoc if missing
//! cargo run --example discovery --features etcd
//! ```
//!
//! Uses the etcd at `ETCD_ENDPOINT` if set, else starts one on a free loopback port with a
//! temporary data directory (and stops it at the end).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use teleport::{Peer, PeerConfig};
use teleport_discovery::etcd::EtcdRegistry;
use teleport_discovery::{Balancer, BalancerConfig, Instance, Registry};

/// The servers' service: `add` is idempotent, so the balancer may retry it on another
/// server even after its request may have been written.
struct Math {
    served: Arc<AtomicUsize>,
}

#[teleport::service]
impl Math {
    #[tp(idempotent)]
    async fn add(&self, nums: Vec<i64>) -> i64 {
        self.served.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(2)).await;
        nums.iter().sum()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let (endpoint, _etcd) = match std::env::var("ETCD_ENDPOINT") {
        Ok(endpoint) => (endpoint, None),
        Err(_) => {
            let etcd = LocalEtcd::start()?;
            (etcd.endpoint.clone(), Some(etcd))
        }
    };
    let registry = connect(&endpoint).await?;

    let mut servers = Vec::new();
    for n in 0..3 {
        let config = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
        let peer = Peer::new(config)?;
        let served = Arc::new(AtomicUsize::new(0));
        peer.route(Math { served: served.clone() });
        let addr = peer.listen().await?.to_string();
        let instance = Instance::new("math", addr.clone());
        let registration = registry.register(instance, Duration::from_secs(5)).await?;
        println!("server {n} at {addr} registered");
        servers.push((peer, Some(registration), served));
    }

    let client = Peer::new(PeerConfig::default())?;
    let members = registry.watch("math").await?;
    let math = Balancer::new(client.clone(), "math", members, BalancerConfig::default());
    math.mark_idempotent(MathClient::IDEMPOTENT_ROUTES);

    let total = 6000u64;
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..20)
        .map(|_| {
            let (math, next, failed) = (math.clone(), next.clone(), failed.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    if let Err(status) = math.call::<i64>(MathClient::ADD, &[1, 2, 3]).await {
                        eprintln!("call failed: {status}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    while next.load(Ordering::Relaxed) < total / 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("killing server 1 mid-run (without deregistering, as a crash)");
    let (victim, registration, _) = &mut servers[1];
    drop(registration.take());
    victim.close().await;

    for worker in workers {
        worker.await?;
    }
    let served: Vec<usize> = servers.iter().map(|(_, _, s)| s.load(Ordering::Relaxed)).collect();
    println!(
        "{total} calls: {} failed, {} failed over; served by each server: {served:?}",
        failed.load(Ordering::Relaxed),
        math.retries()
    );
    for (peer, registration, _) in servers {
        if let Some(registration) = registration {
            registration.deregister().await?;
        }
        peer.shutdown(Duration::from_secs(1)).await;
    }
    client.close().await;
    Ok(())
}

async fn connect(endpoint: &str) -> Result<EtcdRegistry, Box<dyn std::error::Error>> {
    let mut last = None;
    for _ in 0..100 {
        match EtcdRegistry::connect([endpoint]).await {
            Ok(registry) => match registry.watch("probe").await {
                Ok(_) => return Ok(registry),
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("etcd at {endpoint} does not answer: {last:?}").into())
}

/// An etcd started for this run on free loopback ports, stopped on drop.
struct LocalEtcd {
    child: std::process::Child,
    dir: std::path::PathBuf,
    endpoint: String,
}

impl LocalEtcd {
    fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let port = || -> std::io::Result<u16> {
            Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
        };
        let (client, peer) = (port()?, port()?);
        let endpoint = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let dir = std::env::temp_dir().join(format!("tp-example-etcd-{}", std::process::id()));
        let child = std::process::Command::new("etcd")
            .args(["--name", "example", "--data-dir"])
            .arg(&dir)
            .args(["--listen-client-urls", &endpoint, "--advertise-client-urls", &endpoint])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("example={peer_url}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start etcd ({e}): run scripts/etcd.sh, or set ETCD_ENDPOINT")
            })?;
        println!("started etcd at {endpoint}");
        Ok(LocalEtcd { child, dir, endpoint })
    }
}

impl Drop for LocalEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
