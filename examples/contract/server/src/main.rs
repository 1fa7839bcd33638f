//! `cargo run -p contract-server [-- ADDR] [--once]`: serves the store until Ctrl-C, or,
//! with `--once`, until its first client leaves.

use std::sync::Arc;
use std::time::Duration;

use teleport as tp;
use tokio::sync::Notify;

/// Wakes `main` when a session ends.
struct Left(Arc<Notify>);

impl tp::Plugin for Left {
    fn name(&self) -> &str {
        "left"
    }

    fn post_disconnect(&self, _session: &tp::Session) {
        self.0.notify_one();
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once");
    let addr = args.iter().find(|a| !a.starts_with("--")).map_or(contract_api::DEFAULT_ADDR, |a| a);
    let left = Arc::new(Notify::new());
    let peer =
        tp::Peer::builder(contract_server::config(addr)?).plugin(Left(left.clone())).build()?;
    let addr = contract_server::serve(&peer).await?;
    println!("store listening on {addr}");
    if once {
        left.notified().await;
        println!("the client left; stopping");
        peer.shutdown(Duration::from_secs(5)).await;
    } else {
        tp::peer::graceful_signal(&[peer], Duration::from_secs(5)).await;
    }
    Ok(())
}
