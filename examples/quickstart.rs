//! Quick start: a server and clients in one process, written with `#[tp::service]`. Shows a
//! typed call with meta, a push from the server to a client, a broadcast to every session
//! and an error status; finishes on its own.
//!
//! Run with `cargo run --example quickstart`.

use std::time::Duration;

use teleport as tp;
use tokio::sync::mpsc;

/// The server's service: `/math/add`.
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

/// Each client's service: the push route `/status/update` the server reaches it on.
struct Status {
    name: &'static str,
    printed: mpsc::UnboundedSender<String>,
}

#[tp::service]
impl Status {
    #[tp(push)]
    fn update(&self, text: String) {
        let _ = self.printed.send(format!("{} got push: {text}", self.name));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loopback = tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() };

    println!("1. server: route {} and listen", MathClient::ADD);
    let server = tp::Peer::new(loopback.clone())?;
    server.route(Math);
    let addr = server.listen().await?;
    println!("   listening on {addr}");

    println!("2. two clients dial, each serving {}", StatusClient::UPDATE);
    let (printed, mut pushes) = mpsc::unbounded_channel();
    let mut sessions = Vec::new();
    for name in ["alice", "bob"] {
        let client = tp::Peer::new(loopback.clone())?;
        client.route(Status { name, printed: printed.clone() });
        sessions.push(client.dial(&addr).await?);
    }

    println!("3. alice calls MathClient::add with meta author=alice");
    let options = tp::CallOptions::new().set_meta("author", "alice");
    let reply = MathClient::add_with(&sessions[0], &[1, 2, 3, 4, 5], &options).await?;
    println!(
        "   [1,2,3,4,5] sums to {}, echo-author = {:?}",
        reply.value,
        reply.meta.get("echo-author")
    );

    println!("4. the server pushes to one session, then broadcasts to all");
    let first = server.sessions().into_iter().next().ok_or("no session")?;
    StatusClient::update(&first, "hello from the server").await?;
    println!("   {}", pushes.recv().await.ok_or("push lost")?);
    for session in server.sessions() {
        StatusClient::update(&session, "broadcast to everyone").await?;
    }
    for _ in 0..sessions.len() {
        println!("   {}", pushes.recv().await.ok_or("broadcast lost")?);
    }

    println!("5. an unknown route answers with a status");
    let err = sessions[0].call::<i64>("/math/sub", &[1]).await.unwrap_err();
    println!("   /math/sub -> {err}");

    println!("6. graceful shutdown");
    server.shutdown(Duration::from_secs(5)).await;
    println!("   done; server sessions left: {}", server.session_count());
    Ok(())
}
