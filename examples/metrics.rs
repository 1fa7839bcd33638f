//! Metrics for Prometheus: a server and a client in one process make calls and pushes, and
//! their metrics are served at `http://127.0.0.1:9000/metrics` (another port with
//! `--port N`) until Ctrl-C; `--once` prints the teleport lines of one scrape and exits.
//!
//! Run with `cargo run -p examples --example metrics --features metrics`.

use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;
use teleport::{CallCtx, Peer, PeerConfig, PushCtx, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let port = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).ok_or("--port needs a number")?.parse()?,
        None => 9000,
    };
    let scrape_at = SocketAddr::from(([127, 0, 0, 1], port));
    // Installed before any peer carries traffic: each route registers its handles once.
    PrometheusBuilder::new().with_http_listener(scrape_at).install()?;

    let loopback = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let server = Peer::new(loopback.clone())?;
    server.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok::<_, Status>(nums.iter().sum::<i64>())
    });
    server.route_push_fn(
        "/chat/say",
        |_ctx: PushCtx, _text: String| async move { Ok::<_, Status>(()) },
    );
    let addr = server.listen().await?;
    let client = Peer::new(loopback)?;
    let session = client.dial(&addr.to_string()).await?;
    for i in 0..100 {
        session.call::<i64>("/math/add", &[i, 1]).await?;
        session.push("/chat/say", "hello").await?;
    }
    let missing = session.call::<i64>("/math/sub", &[1]).await;
    println!("a call to a missing route: {}", missing.unwrap_err());

    if args.iter().any(|a| a == "--once") {
        let text = scrape(scrape_at).await?;
        text.lines().filter(|l| l.starts_with("teleport_")).for_each(|l| println!("{l}"));
        return Ok(());
    }
    println!("metrics at http://{scrape_at}/metrics; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// One `GET /metrics`, the body as text.
async fn scrape(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut text = String::new();
    conn.read_to_string(&mut text).await?;
    Ok(text)
}
