//! [`Balancer`]: one handle over the instances of a service.
//!
//! The balancer follows the service's [`Members`] (from a [`Registry`](crate::Registry)
//! watch, or a fixed list), keeps a [`SessionPool`] to each instance, and puts each call on
//! one instance by its [`Policy`]. An instance that fails (its dial fails, or it answers
//! with 5xx or loses its connection `max_failures` times in a row) is ejected for a
//! backoff that doubles with each ejection, then tried again; a success clears it.
//!
//! A call fails over once, to another instance and within the call's deadline, when its
//! request was never written (the dial failed, or the session was not connected), or when
//! its route is idempotent and it failed with 102, 104 or 503. A call on a route not
//! marked idempotent is never sent twice. Each retry is logged (`tracing`, at info level,
//! inside the call's `balanced_call` span).

mod call;
mod endpoint;
mod pick;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use teleport::Peer;
use teleport::pool::{PoolConfig, SessionPool};
use teleport::proto::Proto;
use tokio::sync::oneshot;

pub use call::BalancedOptions;
pub use pick::{HashKey, Policy};

use crate::registry::Members;
use endpoint::{EjectPolicy, Endpoint};
use pick::{Picker, Snapshot};

/// The settings of a [`Balancer`].
#[derive(Clone)]
pub struct BalancerConfig {
    /// How calls are spread. Default [`Policy::PowerOfTwo`].
    pub policy: Policy,
    /// The session pool kept to each instance. Default: [`PoolConfig::default`].
    pub pool: PoolConfig,
    /// Failures in a row (5xx, 102, 104) that eject an instance; a failed dial ejects at
    /// once. At least 1. Default 3.
    pub max_failures: u32,
    /// The first ejection's length; each further one doubles it. Default 1 s.
    pub eject_base: Duration,
    /// The longest ejection. Default 30 s.
    pub eject_max: Duration,
    /// Routes that may run twice (`"/math/add"`): a call to one fails over after 102, 104
    /// or 503. Default none.
    pub idempotent_routes: HashSet<String>,
    /// Protocols for instances whose `protocol` is not the peer's, by name (`"json"`).
    /// Instances whose protocol is neither are left out, with a warning. Default none.
    pub protos: HashMap<String, Arc<dyn Proto>>,
}

impl Default for BalancerConfig {
    fn default() -> Self {
        BalancerConfig {
            policy: Policy::default(),
            pool: PoolConfig::default(),
            max_failures: 3,
            eject_base: Duration::from_secs(1),
            eject_max: Duration::from_secs(30),
            idempotent_routes: HashSet::new(),
            protos: HashMap::new(),
        }
    }
}

impl std::fmt::Debug for BalancerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BalancerConfig")
            .field("policy", &self.policy)
            .field("pool", &self.pool)
            .field("max_failures", &self.max_failures)
            .field("eject_base", &self.eject_base)
            .field("eject_max", &self.eject_max)
            .field("idempotent_routes", &self.idempotent_routes)
            .field("protos", &self.protos.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One instance's counters, from [`Balancer::instances`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceStats {
    /// The instance's address.
    pub addr: String,
    /// Its weight.
    pub weight: u32,
    /// Attempts in flight on it now.
    pub in_flight: usize,
    /// Attempts started on it since it joined.
    pub calls: u64,
    /// Whether it sits out an ejection now.
    pub ejected: bool,
    /// How many times it was ejected since it joined.
    pub ejections: u64,
}

pub(crate) struct Inner {
    peer: Peer,
    service: String,
    config: BalancerConfig,
    eject: EjectPolicy,
    snapshot: RwLock<Arc<Snapshot>>,
    idempotent: RwLock<HashSet<String>>,
    picker: Picker,
    retries: std::sync::atomic::AtomicU64,
    /// Dropped with the balancer: ends the task that follows the members.
    _stop: oneshot::Sender<()>,
}

/// Calls to a service, spread over its instances. Cheap to clone; the last clone dropped
/// stops following the members and lets the pools close once their calls end.
#[derive(Clone)]
pub struct Balancer {
    inner: Arc<Inner>,
}

impl Balancer {
    /// A balancer over `members` of `service`, dialing with `peer` (whose network the
    /// instances must share). Must be called within a Tokio runtime: it starts the task
    /// that follows the members.
    pub fn new(
        peer: Peer,
        service: impl Into<String>,
        members: Members,
        config: BalancerConfig,
    ) -> Self {
        let (stop_tx, stop_rx) = oneshot::channel();
        let eject = EjectPolicy {
            max_failures: config.max_failures.max(1),
            base: config.eject_base,
            max: config.eject_max.max(config.eject_base),
        };
        // Distinct per balancer, so that clients started together do not draw alike.
        static BALANCERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed =
            nanos ^ BALANCERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed).rotate_left(32);
        let inner = Arc::new(Inner {
            idempotent: RwLock::new(config.idempotent_routes.clone()),
            peer,
            service: service.into(),
            config,
            eject,
            snapshot: RwLock::new(Arc::new(Snapshot::new(Vec::new(), false))),
            picker: Picker::new(seed),
            retries: std::sync::atomic::AtomicU64::new(0),
            _stop: stop_tx,
        });
        inner.apply(&members.current());
        tokio::spawn(follow(Arc::downgrade(&inner), members, stop_rx));
        Balancer { inner }
    }

    /// The service's name.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The peer that dials.
    pub fn peer(&self) -> &Peer {
        &self.inner.peer
    }

    /// Marks routes as idempotent: calls to them fail over after 102, 104 or 503. Takes
    /// any list of names: `["/math/add"]`, or a `&[&str]` constant of a service.
    pub fn mark_idempotent<S: AsRef<str>>(&self, routes: impl IntoIterator<Item = S>) {
        let mut idempotent = self.inner.idempotent.write();
        idempotent.extend(routes.into_iter().map(|route| route.as_ref().to_owned()));
    }

    /// Whether calls to `route` may run twice.
    pub fn is_idempotent(&self, route: &str) -> bool {
        self.inner.idempotent.read().contains(route)
    }

    /// The instances now, with their counters, in the registry's order.
    pub fn instances(&self) -> Vec<InstanceStats> {
        let snapshot = self.inner.snapshot.read().clone();
        snapshot
            .endpoints
            .iter()
            .map(|e| InstanceStats {
                addr: e.instance.addr.clone(),
                weight: e.instance.weight,
                in_flight: e.in_flight(),
                calls: e.calls(),
                ejected: e.is_ejected(),
                ejections: e.ejections(),
            })
            .collect()
    }

    /// How many calls failed over to a second instance.
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("service", &self.inner.service)
            .field("instances", &self.instances())
            .finish()
    }
}

impl Inner {
    /// Takes a new member list: keeps the endpoints of unchanged instances (their pools and
    /// health), adds the new ones, drops the gone ones (their pools close once the calls
    /// on them end).
    fn apply(&self, instances: &[crate::Instance]) {
        let current = self.snapshot.read().clone();
        let mut endpoints: Vec<Arc<Endpoint>> = Vec::with_capacity(instances.len());
        for instance in instances {
            if instance.service != self.service
                || endpoints.iter().any(|e| e.instance.addr == instance.addr)
            {
                continue;
            }
            if let Some(kept) = current.endpoints.iter().find(|e| e.instance == *instance) {
                endpoints.push(kept.clone());
            } else if let Some(pool) = self.pool_for(instance) {
                endpoints.push(Arc::new(Endpoint::new(instance.clone(), pool)));
            }
        }
        let joined =
            endpoints.iter().filter(|e| !current.endpoints.iter().any(|c| Arc::ptr_eq(c, e)));
        let left =
            current.endpoints.iter().filter(|c| !endpoints.iter().any(|e| Arc::ptr_eq(c, e)));
        for e in joined {
            tracing::info!(service = %self.service, addr = %e.instance.addr, "instance joined");
        }
        for e in left {
            tracing::info!(service = %self.service, addr = %e.instance.addr, "instance left");
        }
        let with_ring = matches!(self.config.policy, Policy::ConsistentHash(_));
        *self.snapshot.write() = Arc::new(Snapshot::new(endpoints, with_ring));
    }

    /// A pool dialing `instance`, or `None` (with a warning) when this peer cannot reach
    /// it: another network, or a protocol it does not know.
    fn pool_for(&self, instance: &crate::Instance) -> Option<SessionPool> {
        let network = self.peer.config().network.as_str();
        let same_family = network == instance.network
            || (network.starts_with("tcp") && instance.network.starts_with("tcp"));
        if !same_family {
            tracing::warn!(addr = %instance.addr, network = %instance.network, ours = network,
                "leaving out an instance on another network");
            return None;
        }
        let mut pool = self.config.pool.clone();
        if instance.protocol != self.peer.proto().name() {
            let Some(proto) = self.config.protos.get(&instance.protocol) else {
                tracing::warn!(addr = %instance.addr, protocol = %instance.protocol,
                    "leaving out an instance whose protocol is unknown here");
                return None;
            };
            pool.dial.proto = Some(proto.clone());
        }
        Some(SessionPool::new(self.peer.clone(), instance.addr.clone(), pool))
    }
}

/// Applies every change of the members until the balancer or the watch goes.
async fn follow(
    inner: std::sync::Weak<Inner>,
    mut members: Members,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let changed = tokio::select! {
            _ = &mut stop => return,
            changed = members.changed() => changed,
        };
        let Some(inner) = inner.upgrade() else { return };
        match changed {
            Ok(list) => inner.apply(&list),
            Err(_) => {
                tracing::warn!(service = %inner.service, "the members watch ended; keeping the last list");
                return;
            }
        }
    }
}
