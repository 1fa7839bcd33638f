//! Graceful restart: a server that hands its listening socket to a new process of itself
//! on SIGUSR2, and drains.
//!
//! ```sh
//! cargo run --example restart --features restart
//! kill -USR2 <pid it prints>   # a new process serves; this one drains and exits
//! kill -TERM <new pid>         # shuts down
//! ```
//!
//! Meanwhile `cargo run --example client`-like callers of `/pid` see the answer change from
//! the old process id to the new one, and no connect is refused.

use std::time::Duration;

use teleport::restart::Restart;
use teleport::{Peer, PeerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let config = PeerConfig { listen_port: 9090, ..PeerConfig::default() };
    let peer = Peer::new(config)?;
    peer.route_call_fn("/pid", |_ctx, (): ()| async move { Ok(std::process::id()) });

    let restart = Restart::from_env();
    let addr = restart.listen(&peer).await?;
    restart.ready()?;
    let how = if restart.is_restarted() { "took over" } else { "listening on" };
    println!(
        "process {} {how} {addr}; kill -USR2 {} restarts it",
        std::process::id(),
        std::process::id()
    );
    restart.serve(&[peer], Duration::from_secs(10)).await;
    println!("process {} drained", std::process::id());
    Ok(())
}
