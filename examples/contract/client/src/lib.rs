//! The client of the three-crate example. It knows the store only through the api crate:
//! it calls [`KvClient`] and serves a [`Watcher`] that the store calls back.

use std::time::Duration;

use contract_api::{CODE_NO_SUCH_KEY, Change, Entry, KvClient, Watcher, WatcherServer};
use teleport as tp;
use tokio::sync::mpsc;

/// Our side of the callback: each change is passed on to [`run`]'s loop.
struct Printer {
    changes: mpsc::UnboundedSender<Change>,
}

impl Watcher for Printer {
    async fn changed(&self, change: Change) -> bool {
        let keep = change.new != "stop";
        let _ = self.changes.send(change);
        keep
    }
}

/// Dials the store at `addr` (retrying for up to `wait`, so the server may still be
/// starting), runs the demo, and returns the lines it printed.
pub async fn run(addr: &str, wait: Duration) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut lines = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        lines.push(line);
    };
    let (changes, mut changed) = mpsc::unbounded_channel();
    let peer = tp::Peer::new(tp::PeerConfig::default())?;
    peer.route(WatcherServer::new(Printer { changes }));
    let session = dial(&peer, addr, wait).await?;
    say(format!("connected to {addr}"));

    KvClient::watch(&session, "color").await?;
    let old = KvClient::put(&session, &Entry { key: "color".into(), value: "blue".into() }).await?;
    say(format!("put color=blue, replaced {old:?}"));
    let change = changed.recv().await.ok_or("the store did not call back")?;
    say(format!("callback: {} {:?} -> {}", change.key, change.old, change.new));

    let entry = Entry { key: "color".into(), value: "green".into() };
    let reply = KvClient::put_reply(&session, &entry).await?;
    say(format!(
        "put color=green, replaced {:?}, store-size {:?}",
        reply.value,
        reply.meta.get("store-size")
    ));
    let change = changed.recv().await.ok_or("the store did not call back")?;
    say(format!("callback: {} {:?} -> {}", change.key, change.old, change.new));

    say(format!("get color = {}", KvClient::get(&session, "color").await?));
    match KvClient::get(&session, "size").await {
        Err(status) if status.code() == CODE_NO_SUCH_KEY => say(format!("get size: {status}")),
        other => return Err(format!("expected no such key, got {other:?}").into()),
    }
    KvClient::forget(&session).await?;
    session.close().await;
    Ok(lines)
}

async fn dial(peer: &tp::Peer, addr: &str, wait: Duration) -> Result<tp::Session, tp::Status> {
    let give_up = tokio::time::Instant::now() + wait;
    loop {
        match peer.dial(addr).await {
            Ok(session) => return Ok(session),
            Err(_) if tokio::time::Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => return Err(status),
        }
    }
}
