//! The seed's server: `Math.add` on `127.0.0.1:9090`, and a `/push/status` broadcast to
//! every session every 5 seconds. Runs until Ctrl-C (graceful shutdown).
//!
//! Run with `cargo run --example server`, then `cargo run --example client` beside it.

use std::time::Duration;

use teleport as tp;

/// `/math/add`.
struct Math;

#[tp::service]
impl Math {
    /// Sums the numbers; echoes `author` from the meta or, failing that, the query.
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
        ..tp::PeerConfig::default()
    };
    let server = tp::Peer::new(config)?;
    server.route(Math);
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
                let _ = session.push("/push/status", &text).await;
            }
        }
    });

    tp::peer::graceful_signal(&[server], Duration::from_secs(5)).await;
    Ok(())
}
