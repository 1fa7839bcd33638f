//! The seed's server: `Math.add` on `127.0.0.1:9090`, and a `/push/status` broadcast to
//! every session every 5 seconds. Runs until Ctrl-C (graceful shutdown).
//!
//! Run with `cargo run --example server`, then `cargo run --example client` beside it. It
//! serves its manifest, so `tp routes 127.0.0.1:9090` lists its routes (see the README).

use std::time::Duration;

use seed_api::{Math, MathServer, PushClient};
use teleport as tp;

#[path = "seed_api.rs"]
mod seed_api;

/// Our implementation of the contract's `Math`.
struct MathImpl;

impl Math for MathImpl {
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        let author = match ctx.input_meta().get("author") {
            Some(author) => Some(author.to_owned()),
            None => ctx.query().ok().and_then(|q| q.get("author").map(str::to_owned)),
        };
        if let Some(author) = author {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let config = tp::PeerConfig {
        local_ip: "127.0.0.1".into(),
        listen_port: 9090,
        count_time: true,
        print_detail: true,
        serve_manifest: true,
        ..tp::PeerConfig::default()
    };
    let server = tp::Peer::new(config)?;
    server.route(MathServer::new(MathImpl));
    let addr = server.listen().await?;
    println!("server listening on {addr}; Ctrl-C to stop");

    let broadcaster = server.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tick.tick().await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let text =
                format!("server time {}s, {} sessions", now.as_secs(), broadcaster.session_count());
            for session in broadcaster.sessions() {
                let _ = PushClient::status(&session, &text).await;
            }
        }
    });

    tp::peer::graceful_signal(&[server], Duration::from_secs(5)).await;
    Ok(())
}
