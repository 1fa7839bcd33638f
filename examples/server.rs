//! The seed's server: `Math.add` on `127.0.0.1:9090`, and a `/push/status` broadcast to
//! every session every 5 seconds. Runs until Ctrl-C (graceful shutdown).
//!
//! It serves its manifest at `/_tp/manifest` (`serve_manifest`), so that tools such as
//! `tp routes 127.0.0.1:9090` list what it serves.
//!
//! Run with `cargo run --example server`, then `cargo run --example client` beside it.
//! `cargo run --example server -- --manifest FILE` writes the manifest to `FILE` and exits:
//! `examples/build-client` builds its client from the one written to
//! `examples/build-client/math.manifest.json`.

use std::time::Duration;

use seed_api::{MathServer, PushClient};
use seed_math::MathImpl;
use teleport as tp;

#[path = "seed_api.rs"]
mod seed_api;
#[path = "seed_math.rs"]
mod seed_math;

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
    let mut args = std::env::args().skip(1);
    if let (Some("--manifest"), Some(path)) = (args.next().as_deref(), args.next()) {
        let json = serde_json::to_string_pretty(&server.manifest())?;
        std::fs::write(&path, json + "\n")?;
        println!("wrote the manifest to {path}");
        return Ok(());
    }
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
