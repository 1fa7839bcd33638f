//! Route groups: a service registered under a prefix, with a plugin that applies to the
//! group's routes only (it stamps the replies and counts the calls).
//!
//! Run with `cargo run --example group`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use teleport as tp;

/// `/user/info` and `/user/rename`.
struct User;

#[tp::service]
impl User {
    /// The user's name.
    fn info(&self, id: u32) -> String {
        format!("user-{id}")
    }

    /// Renames, refusing empty names.
    fn rename(&self, name: String) -> Result<String, tp::Status> {
        if name.is_empty() {
            return Err(tp::Status::new(1001, "empty name"));
        }
        Ok(name)
    }
}

/// A route-level plugin: counts the group's calls and stamps each reply.
#[derive(Default)]
struct Audit {
    calls: AtomicUsize,
}

impl tp::Plugin for Audit {
    fn name(&self) -> &str {
        "audit"
    }

    fn pre_write_reply(&self, _ctx: &tp::CallCtx, msg: &mut tp::Message) -> tp::plugin::HookResult {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        msg.meta.set("audit", n.to_string());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() };
    let server = tp::Peer::new(config.clone())?;
    let audit = Arc::new(Audit::default());
    let v1 = server.group("/v1", vec![audit.clone()]);
    v1.route(User);
    // The same service again at the root, without the plugin.
    server.route(User);
    println!("routes: {:?}", server.call_routes());
    let addr = server.listen().await?;

    let client = tp::Peer::new(config)?;
    let session = client.dial(&addr).await?;
    let options = tp::CallOptions::new();
    for route in ["/v1/user/info", "/user/info", "/v1/user/info"] {
        let reply = session.call_with::<String>(route, &7, &options).await?;
        println!("{route} -> {} (audit stamp: {:?})", reply.value, reply.meta.get("audit"));
    }
    let err = session.call::<String>("/v1/user/rename", "").await.unwrap_err();
    println!("/v1/user/rename \"\" -> {err}");
    println!("calls audited in /v1: {}", audit.calls.load(Ordering::Relaxed));
    server.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}
