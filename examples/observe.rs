//! What a peer tells an operator, printed by `tracing-subscriber`'s fmt: the span of every
//! call and push on both sides (printed as they close), and Go Teleport's per-message lines
//! with `print_detail`, `count_time` and `slow_comet_duration` on: a call, a push, a call
//! to a missing route and a slow call.
//!
//! Run with `cargo run --example observe`; `RUST_LOG` replaces the filter
//! (default `teleport::rpc=info,teleport::detail=info`).

use std::time::Duration;

use teleport::{CallCtx, Peer, PeerConfig, PushCtx, Status};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("teleport::rpc=info,teleport::detail=info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_span_events(FmtSpan::CLOSE).init();

    let config = PeerConfig {
        local_ip: "127.0.0.1".into(),
        print_detail: true,
        count_time: true,
        slow_comet_duration: Duration::from_millis(50),
        ..PeerConfig::default()
    };
    let server = Peer::new(config.clone())?;
    server.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok::<_, Status>(nums.iter().sum::<i64>())
    });
    server.route_call_fn("/math/slow", |_ctx: CallCtx, ms: u64| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok::<_, Status>(ms)
    });
    server.route_push_fn(
        "/chat/say",
        |_ctx: PushCtx, _text: String| async move { Ok::<_, Status>(()) },
    );
    let addr = server.listen().await?.to_string();
    let session = Peer::new(config)?.dial(&addr).await?;

    session.call::<i64>("/math/add", &[1, 2, 3]).await?;
    session.push("/chat/say", "hello").await?;
    let _ = session.call::<i64>("/math/sub", &[1]).await;
    session.call::<u64>("/math/slow", &80u64).await?;
    session.close().await;
    Ok(())
}
