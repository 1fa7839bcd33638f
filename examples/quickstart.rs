//! Quick start: a server and a client peer in one process. Shows a call with meta, a push
//! from the server to the client, and a broadcast to every session; finishes on its own.
//!
//! Run with `cargo run --example quickstart`.

use std::time::Duration;

use teleport::{CallCtx, CallOptions, Peer, PeerConfig, PushCtx, Status};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loopback = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };

    // The server: one call route.
    let server = Peer::new(loopback.clone())?;
    server.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
        if let Some(author) = ctx.input_meta().get("author") {
            ctx.set_meta("echo-author", author);
        }
        Ok::<_, Status>(nums.iter().sum::<i64>())
    });
    let addr = server.listen().await?;
    println!("server listening on {addr}");

    // Two clients, each with a push route the server can reach.
    let (tx, mut pushes) = mpsc::unbounded_channel::<String>();
    let mut sessions = Vec::new();
    for name in ["alice", "bob"] {
        let client = Peer::new(loopback.clone())?;
        let tx = tx.clone();
        client.route_push_fn("/push/status", move |_ctx: PushCtx, text: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(format!("{name} got push: {text}"));
                Ok(())
            }
        });
        sessions.push((name, client.dial(&addr.to_string()).await?));
    }

    // A call with meta; the reply carries meta back.
    let (_, alice) = &sessions[0];
    let options = CallOptions::new().set_meta("author", "alice");
    let reply = alice.call_with::<i64>("/math/add", &[1, 2, 3, 4, 5], &options).await?;
    println!(
        "call /math/add [1,2,3,4,5] = {} (echo-author: {:?})",
        reply.value,
        reply.meta.get("echo-author")
    );

    // A push from the server to one client, then a broadcast to every session.
    let first = server.sessions().into_iter().next().ok_or("no session")?;
    first.push("/push/status", "hello from the server").await?;
    println!("{}", pushes.recv().await.ok_or("push lost")?);
    for session in server.sessions() {
        session.push("/push/status", "broadcast to everyone").await?;
    }
    for _ in 0..sessions.len() {
        println!("{}", pushes.recv().await.ok_or("broadcast lost")?);
    }

    // Errors travel as statuses.
    let err = alice.call::<i64>("/math/sub", &[1]).await.unwrap_err();
    println!("call /math/sub -> {err}");

    server.shutdown(Duration::from_secs(5)).await;
    println!("server shut down; sessions left: {}", server.session_count());
    Ok(())
}
