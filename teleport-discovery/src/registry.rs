//! [`Registry`]: where servers announce themselves and clients find them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use crate::instance::{Instance, InvalidInstance};

/// A boxed future, as the registry trait returns them (so that `dyn Registry` works).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The instance or service name cannot be registered; fix it and try again.
    #[error(transparent)]
    Invalid(#[from] InvalidInstance),
    /// A lease TTL below one second, or above what the registry keeps.
    #[error("bad lease ttl {0:?}: it must be whole seconds, at least 1 s")]
    Ttl(Duration),
    /// The registry's server failed or could not be reached; the operation may be retried.
    #[error("registry backend: {0}")]
    Backend(String),
    /// The registration or watch has ended (its task stopped).
    #[error("the registry task has ended")]
    Closed,
}

/// A registry of services: servers register their instances under a lease that they keep
/// alive, clients watch a service's instances.
///
/// An instance whose process dies without deregistering disappears when its lease expires
/// (its TTL after the last keep-alive). Implementations: `etcd::EtcdRegistry` (feature
/// `etcd`); [`Members::fixed`] stands for a registry where the list never changes.
pub trait Registry: Send + Sync + 'static {
    /// Registers `instance` under a lease of `ttl` (whole seconds, at least 1), and keeps
    /// the lease alive in the background until the returned [`Registration`] is
    /// deregistered or dropped. Registering an address again replaces its entry.
    fn register(
        &self,
        instance: Instance,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<Registration, RegistryError>>;

    /// The instances of `service`, now and as they change. The watch runs in the
    /// background until every clone of the returned [`Members`] is dropped; while the
    /// registry cannot be reached, the last known list stays.
    fn watch(&self, service: &str) -> BoxFuture<'_, Result<Members, RegistryError>>;
}

/// The handle's side of a deregister request: it sends where the answer goes.
pub type DeregisterTx = oneshot::Sender<oneshot::Sender<Result<(), RegistryError>>>;

/// The keep-alive task's side: resolves with a reply channel when the registration is
/// deregistered, or with an error when its handle was dropped.
pub type DeregisterRx = oneshot::Receiver<oneshot::Sender<Result<(), RegistryError>>>;

/// A pair for a registry implementation: the sender for [`Registration::new`], and the
/// receiver its keep-alive task listens on.
pub fn deregister_channel() -> (DeregisterTx, DeregisterRx) {
    oneshot::channel()
}

/// A registered instance, kept alive in the background.
///
/// [`deregister`](Self::deregister) removes the instance at once (on graceful shutdown).
/// Dropping the handle only stops the keep-alives: the entry then expires after its TTL,
/// as if the process had died.
#[derive(Debug)]
pub struct Registration {
    instance: Instance,
    stop: Option<DeregisterTx>,
    alive: watch::Receiver<bool>,
}

impl Registration {
    /// A handle for a registration kept alive by a task of a [`Registry`] implementation:
    /// the task answers a request received on `stop` by removing the entry, and sets
    /// `alive` to `false` while the entry could not be renewed.
    pub fn new(instance: Instance, stop: DeregisterTx, alive: watch::Receiver<bool>) -> Self {
        Registration { instance, stop: Some(stop), alive }
    }

    /// The registered instance.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Whether the last keep-alive succeeded (the entry is in the registry as far as this
    /// side knows); the background task re-registers after a lost lease.
    pub fn is_alive(&self) -> bool {
        *self.alive.borrow()
    }

    /// Removes the instance from the registry now and stops keeping it alive. Clients
    /// watching the service see it leave.
    pub async fn deregister(mut self) -> Result<(), RegistryError> {
        let Some(stop) = self.stop.take() else { return Err(RegistryError::Closed) };
        let (tx, rx) = oneshot::channel();
        stop.send(tx).map_err(|_| RegistryError::Closed)?;
        rx.await.unwrap_or(Err(RegistryError::Closed))
    }
}

/// The instances of one service, as a registry last saw them. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Members {
    rx: watch::Receiver<Arc<[Instance]>>,
    /// The sender of a fixed list, kept so that the list never reads as ended.
    _fixed: Option<Arc<watch::Sender<Arc<[Instance]>>>>,
}

impl Members {
    /// Members fed by a registry implementation through `rx`.
    pub fn from_watch(rx: watch::Receiver<Arc<[Instance]>>) -> Self {
        Members { rx, _fixed: None }
    }

    /// A list that never changes: for a fixed set of servers, or to try a balancer
    /// without a registry.
    pub fn fixed(instances: Vec<Instance>) -> Self {
        let (tx, rx) = watch::channel(Arc::from(instances));
        Members { rx, _fixed: Some(Arc::new(tx)) }
    }

    /// The instances now.
    pub fn current(&self) -> Arc<[Instance]> {
        self.rx.borrow().clone()
    }

    /// Waits for the list to change and returns it; `Err` once the watch has ended.
    /// Cancel-safe.
    pub async fn changed(&mut self) -> Result<Arc<[Instance]>, RegistryError> {
        self.rx.changed().await.map_err(|_| RegistryError::Closed)?;
        Ok(self.rx.borrow_and_update().clone())
    }

    /// Waits until `f` holds for the list (checked now, then on each change) and returns
    /// that list; `Err` once the watch has ended. Cancel-safe.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&[Instance]) -> bool,
    ) -> Result<Arc<[Instance]>, RegistryError> {
        let list = self.rx.wait_for(|list| f(list)).await.map_err(|_| RegistryError::Closed)?;
        Ok(list.clone())
    }
}
