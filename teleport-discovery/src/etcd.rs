//! [`EtcdRegistry`]: the [`Registry`] on etcd's v3 API (feature `etcd`).
//!
//! An instance is the key `{prefix}{service}/{addr}` whose value is the [`Instance`] as
//! JSON, attached to a lease of the registration's TTL. A background task renews the lease
//! every third of the TTL; when the lease was lost (etcd was unreachable longer than the
//! TTL) it grants a new one and writes the key again. A watch reads the service's keys,
//! then follows etcd's watch from the next revision; after an error it reads them again.
//!
//! Works with etcd 3.4 and later (Debian's `etcd-server`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{
    Client, ConnectOptions, EventType, GetOptions, LeaseKeepAliveStream, LeaseKeeper, PutOptions,
    WatchOptions,
};
use tokio::sync::watch;

use crate::instance::{Instance, check_service};
use crate::registry::{
    BoxFuture, DeregisterRx, Members, Registration, Registry, RegistryError, deregister_channel,
};

/// Where an [`EtcdRegistry`] connects and what it writes.
#[derive(Clone, Debug)]
pub struct EtcdConfig {
    /// The etcd endpoints (`"http://127.0.0.1:2379"`, or `"127.0.0.1:2379"`).
    pub endpoints: Vec<String>,
    /// The key prefix of every service. Default `"/teleport/services/"`.
    pub prefix: String,
    /// How long connecting may take. Default 5 s.
    pub connect_timeout: Duration,
    /// How long one request may take. Default 5 s.
    pub request_timeout: Duration,
}

impl EtcdConfig {
    /// The defaults, with these endpoints.
    pub fn new<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> Self {
        EtcdConfig {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            prefix: "/teleport/services/".to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`Registry`] on etcd. Cheap to clone.
#[derive(Clone)]
pub struct EtcdRegistry {
    client: Client,
    prefix: Arc<str>,
}

impl std::fmt::Debug for EtcdRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdRegistry").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl EtcdRegistry {
    /// Connects to etcd at `endpoints` with the default settings.
    pub async fn connect<S: Into<String>>(
        endpoints: impl IntoIterator<Item = S>,
    ) -> Result<Self, RegistryError> {
        Self::connect_with(EtcdConfig::new(endpoints)).await
    }

    /// Connects with a configuration.
    pub async fn connect_with(config: EtcdConfig) -> Result<Self, RegistryError> {
        if config.endpoints.is_empty() {
            return Err(RegistryError::Backend("no etcd endpoint given".to_owned()));
        }
        let options = ConnectOptions::new()
            .with_connect_timeout(config.connect_timeout)
            .with_timeout(config.request_timeout);
        let client = Client::connect(&config.endpoints, Some(options)).await.map_err(backend)?;
        let mut prefix = config.prefix;
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(EtcdRegistry { client, prefix: prefix.into() })
    }

    fn service_prefix(&self, service: &str) -> String {
        format!("{}{service}/", self.prefix)
    }
}

impl Registry for EtcdRegistry {
    fn register(
        &self,
        instance: Instance,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<Registration, RegistryError>> {
        Box::pin(async move {
            instance.validate()?;
            let ttl_secs = ttl_seconds(ttl)?;
            let entry = Entry {
                key: format!("{}{}", self.service_prefix(&instance.service), instance.addr),
                value: serde_json::to_string(&instance)
                    .map_err(|e| RegistryError::Backend(e.to_string()))?,
                ttl_secs,
            };
            let mut client = self.client.clone();
            let lease = entry.write(&mut client).await?;
            let (alive_tx, alive_rx) = watch::channel(true);
            let (stop_tx, stop_rx) = deregister_channel();
            tracing::info!(key = %entry.key, ttl_secs, "registered in etcd");
            tokio::spawn(keep_alive(client, entry, lease, stop_rx, alive_tx));
            Ok(Registration::new(instance, stop_tx, alive_rx))
        })
    }

    fn watch(&self, service: &str) -> BoxFuture<'_, Result<Members, RegistryError>> {
        let service = service.to_owned();
        Box::pin(async move {
            check_service(&service)?;
            let prefix = self.service_prefix(&service);
            let mut client = self.client.clone();
            let (entries, revision) = load(&mut client, &prefix).await?;
            let (tx, rx) = watch::channel(list(&entries));
            let follower = Follower { client, prefix, entries, revision, tx };
            tokio::spawn(follower.run());
            Ok(Members::from_watch(rx))
        })
    }
}

/// The whole seconds of a lease TTL; a fraction of a second rounds up.
fn ttl_seconds(ttl: Duration) -> Result<i64, RegistryError> {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    match i64::try_from(secs) {
        Ok(secs) if (1..=i64::from(u32::MAX)).contains(&secs) && ttl >= Duration::from_secs(1) => {
            Ok(secs)
        }
        _ => Err(RegistryError::Ttl(ttl)),
    }
}

fn backend(e: etcd_client::Error) -> RegistryError {
    RegistryError::Backend(e.to_string())
}

/// A registration's key, value and TTL.
struct Entry {
    key: String,
    value: String,
    ttl_secs: i64,
}

impl Entry {
    /// Grants a lease and writes the key under it; returns the lease.
    async fn write(&self, client: &mut Client) -> Result<i64, RegistryError> {
        let lease = client.lease_grant(self.ttl_secs, None).await.map_err(backend)?.id();
        let options = PutOptions::new().with_lease(lease);
        client.put(self.key.clone(), self.value.clone(), Some(options)).await.map_err(backend)?;
        Ok(lease)
    }
}

/// Renews the lease every third of the TTL until the registration is deregistered (the
/// lease is revoked, so the key goes at once) or its handle dropped (the key expires).
async fn keep_alive(
    mut client: Client,
    entry: Entry,
    mut lease: i64,
    mut stop: DeregisterRx,
    alive: watch::Sender<bool>,
) {
    let period = Duration::from_millis((entry.ttl_secs as u64 * 1000 / 3).max(100));
    let mut keeper = None;
    loop {
        tokio::select! {
            request = &mut stop => {
                if let Ok(reply) = request {
                    let revoked = client.lease_revoke(lease).await.map(drop).map_err(backend);
                    tracing::info!(key = %entry.key, ok = revoked.is_ok(), "deregistered from etcd");
                    let _ = reply.send(revoked);
                }
                return;
            }
            () = tokio::time::sleep(period) => {}
        }
        let renewed = tokio::time::timeout(period, renew(&mut client, &mut keeper, lease)).await;
        match renewed {
            Ok(Ok(true)) => {
                alive.send_replace(true);
                continue;
            }
            Ok(Ok(false)) => tracing::warn!(key = %entry.key, "etcd lease lost; registering again"),
            Ok(Err(e)) => tracing::warn!(key = %entry.key, error = %e, "etcd keep-alive failed"),
            Err(_) => tracing::warn!(key = %entry.key, "etcd keep-alive timed out"),
        }
        keeper = None;
        alive.send_replace(false);
        if let Ok(Ok(new_lease)) = tokio::time::timeout(period, entry.write(&mut client)).await {
            lease = new_lease;
            alive.send_replace(true);
        }
    }
}

/// Sends one keep-alive on the lease's stream (opened on first use); `Ok(false)` when etcd
/// no longer knows the lease.
async fn renew(
    client: &mut Client,
    keeper: &mut Option<(LeaseKeeper, LeaseKeepAliveStream)>,
    lease: i64,
) -> Result<bool, RegistryError> {
    if keeper.is_none() {
        *keeper = Some(client.lease_keep_alive(lease).await.map_err(backend)?);
    }
    let Some((sender, replies)) = keeper.as_mut() else { return Ok(false) };
    sender.keep_alive().await.map_err(backend)?;
    match replies.message().await.map_err(backend)? {
        Some(reply) => Ok(reply.ttl() > 0),
        None => Err(RegistryError::Backend("the keep-alive stream ended".to_owned())),
    }
}

/// Reads every instance under `prefix`; returns them by key with the store's revision.
async fn load(
    client: &mut Client,
    prefix: &str,
) -> Result<(BTreeMap<String, Instance>, i64), RegistryError> {
    let response =
        client.get(prefix, Some(GetOptions::new().with_prefix())).await.map_err(backend)?;
    let revision = response.header().map_or(0, |h| h.revision());
    let mut entries = BTreeMap::new();
    for kv in response.kvs() {
        if let Some((key, instance)) = parse(kv.key(), kv.value()) {
            entries.insert(key, instance);
        }
    }
    Ok((entries, revision))
}

/// A key and its instance; a value that is not an instance is skipped with a warning (a
/// key written by something else must not hide the others).
fn parse(key: &[u8], value: &[u8]) -> Option<(String, Instance)> {
    let key = String::from_utf8_lossy(key).into_owned();
    match serde_json::from_slice::<Instance>(value) {
        Ok(instance) if instance.validate().is_ok() => Some((key, instance)),
        Ok(_) => {
            tracing::warn!(%key, "skipping an invalid instance in etcd");
            None
        }
        Err(e) => {
            tracing::warn!(%key, error = %e, "skipping a value that is not an instance");
            None
        }
    }
}

fn list(entries: &BTreeMap<String, Instance>) -> Arc<[Instance]> {
    entries.values().cloned().collect()
}

/// Follows a service's keys and publishes its instances while anyone watches.
struct Follower {
    client: Client,
    prefix: String,
    entries: BTreeMap<String, Instance>,
    revision: i64,
    tx: watch::Sender<Arc<[Instance]>>,
}

impl Follower {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let tx = self.tx.clone();
            let ended = tokio::select! {
                () = tx.closed() => return,
                ended = self.follow() => ended,
            };
            if let Err(e) = ended {
                tracing::warn!(prefix = %self.prefix, error = %e, "etcd watch failed; reading again");
            }
            loop {
                tokio::select! {
                    () = tx.closed() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                if let Ok((entries, revision)) = load(&mut self.client, &self.prefix).await {
                    self.entries = entries;
                    self.revision = revision;
                    self.publish();
                    break;
                }
            }
        }
    }

    /// Watches from the revision after the last one seen; returns when the watch ends.
    async fn follow(&mut self) -> Result<(), RegistryError> {
        let options =
            WatchOptions::new().with_prefix().with_start_revision(self.revision.saturating_add(1));
        let mut stream =
            self.client.watch(self.prefix.clone(), Some(options)).await.map_err(backend)?;
        while let Some(response) = stream.message().await.map_err(backend)? {
            if response.canceled() {
                let reason = response.cancel_reason().to_owned();
                return Err(RegistryError::Backend(format!("watch canceled: {reason}")));
            }
            let mut changed = false;
            for event in response.events() {
                let Some(kv) = event.kv() else { continue };
                self.revision = self.revision.max(kv.mod_revision());
                let key = String::from_utf8_lossy(kv.key()).into_owned();
                changed |= match event.event_type() {
                    EventType::Put => match parse(kv.key(), kv.value()) {
                        Some((_, instance)) => {
                            self.entries.insert(key, instance);
                            true
                        }
                        None => self.entries.remove(&key).is_some(),
                    },
                    EventType::Delete => self.entries.remove(&key).is_some(),
                };
            }
            if changed {
                self.publish();
            }
        }
        Err(RegistryError::Backend("the watch stream ended".to_owned()))
    }

    fn publish(&self) {
        let list = list(&self.entries);
        self.tx.send_if_modified(|current| {
            let modified = **current != *list;
            if modified {
                *current = list.clone();
            }
            modified
        });
    }
}
