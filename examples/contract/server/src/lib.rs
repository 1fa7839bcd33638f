//! The store of the three-crate example: an implementation of [`contract_api::Kv`] that
//! calls its watchers back through the api crate's typed [`WatcherClient`].

use std::collections::HashMap;
use std::sync::Mutex;

use contract_api::{CODE_NO_SUCH_KEY, Change, Entry, Kv, KvServer, WatcherClient};
use teleport as tp;

/// The store: values, and the sessions watching each key.
#[derive(Default)]
pub struct Store {
    values: Mutex<HashMap<String, String>>,
    watchers: Mutex<HashMap<String, Vec<tp::Session>>>,
}

impl Kv for Store {
    async fn put(&self, ctx: &tp::CallCtx, entry: Entry) -> Result<Option<String>, tp::Status> {
        let old = self.values.lock().unwrap().insert(entry.key.clone(), entry.value.clone());
        let watchers = self.watchers.lock().unwrap().get(&entry.key).cloned().unwrap_or_default();
        let change = Change { key: entry.key.clone(), old: old.clone(), new: entry.value };
        let mut kept = Vec::new();
        for session in watchers {
            // The server calls the client's service, typed by the api crate.
            match WatcherClient::changed(&session, &change).await {
                Ok(true) => kept.push(session),
                Ok(false) => {}
                Err(status) => println!("watcher {} gone: {status}", session.id()),
            }
        }
        self.watchers.lock().unwrap().insert(entry.key, kept);
        ctx.set_meta("store-size", self.values.lock().unwrap().len().to_string());
        Ok(old)
    }

    async fn get(&self, key: String) -> Result<String, tp::Status> {
        let value = self.values.lock().unwrap().get(&key).cloned();
        value.ok_or_else(|| tp::Status::new(CODE_NO_SUCH_KEY, "no such key").cause(key))
    }

    async fn watch(&self, ctx: &tp::CallCtx, key: String) -> Result<(), tp::Status> {
        let session = ctx.session().clone();
        self.watchers.lock().unwrap().entry(key).or_default().push(session);
        Ok(())
    }

    fn forget(&self, ctx: &tp::PushCtx) {
        let id = ctx.session().id();
        for sessions in self.watchers.lock().unwrap().values_mut() {
            sessions.retain(|s| s.id() != id);
        }
    }
}

/// The configuration of a peer listening on `addr` (`host:port`; port 0 picks one).
pub fn config(addr: &str) -> Result<tp::PeerConfig, Box<dyn std::error::Error>> {
    let (ip, port) = addr.rsplit_once(':').ok_or("the address is host:port")?;
    Ok(tp::PeerConfig {
        local_ip: ip.to_owned(),
        listen_port: port.parse()?,
        ..tp::PeerConfig::default()
    })
}

/// Serves a new [`Store`] on `peer`; returns the address it listens on.
pub async fn serve(peer: &tp::Peer) -> std::io::Result<tp::transport::Addr> {
    peer.route(KvServer::new(Store::default()));
    peer.listen().await
}
