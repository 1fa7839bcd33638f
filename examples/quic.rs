//! QUIC: a server and a client in one process over the `quic` network, one QUIC connection
//! and one stream per session, TLS 1.3 with a self-signed certificate.
//!
//! The client speaks first: QUIC tells the server about the session's stream only with its
//! first bytes, so the server sees the session after the client's first call.
//!
//! Run with `cargo run --example quic`.

use teleport as tp;
use tokio::sync::mpsc;
use tp::peer::Network;
use tp::transport::selfsigned;

/// `/math/add`.
struct Math;

#[tp::service]
impl Math {
    /// Sums the numbers, echoing the caller's `author` meta.
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        if let Some(author) = ctx.input_meta().get("author") {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = tp::PeerConfig {
        network: Network::Quic,
        local_ip: "127.0.0.1".into(),
        ..tp::PeerConfig::default()
    };
    // One self-signed certificate: the server presents it, the client trusts it.
    let tls = selfsigned::generate(&["127.0.0.1"])?.tls_config()?;

    let server = tp::Peer::builder(config.clone()).tls(tls.clone()).build()?;
    server.route(Math);
    let addr = server.listen().await?;
    println!("1. server listening on quic://{addr}");

    let (pushed, mut pushes) = mpsc::unbounded_channel();
    let client = tp::Peer::builder(config).tls(tls).build()?;
    client.route_push_fn("/news", move |_ctx: tp::PushCtx, text: String| {
        let pushed = pushed.clone();
        async move {
            let _ = pushed.send(text);
            Ok(())
        }
    });
    let session = client.dial(&addr).await?;
    println!("2. client connected from {}", session.local_addr());

    let options = tp::CallOptions::new().set_meta("author", "quic");
    let reply = MathClient::add_with(&session, &[1, 2, 3, 4, 5], &options).await?;
    println!(
        "3. [1,2,3,4,5] sums to {}, echo-author = {:?}",
        reply.value,
        reply.meta.get("echo-author")
    );

    for accepted in server.sessions() {
        accepted.push("/news", "hello over QUIC").await?;
    }
    println!("4. the server pushed: {}", pushes.recv().await.ok_or("push lost")?);

    session.close().await;
    println!(
        "5. closed; the QUIC connection ended with code {}",
        tp::transport::quic::CLOSE_NORMAL
    );
    client.close().await;
    server.close().await;
    Ok(())
}
