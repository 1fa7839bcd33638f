//! The seed's client: calls `Math.add` on the server of the `server` example with
//! `author` in the meta and in the query, prints the server's `/push/status` broadcast,
//! then exits.
//!
//! Run `cargo run --example server` first, then `cargo run --example client`.

use std::time::Duration;

use seed_api::{MathClient, Push, PushServer};
use teleport as tp;
use tokio::sync::mpsc;

#[path = "seed_api.rs"]
mod seed_api;

/// Our side of the server's broadcasts.
struct Printer {
    printed: mpsc::UnboundedSender<String>,
}

impl Push for Printer {
    fn status(&self, text: String) {
        let _ = self.printed.send(text);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9090".to_owned());
    let config = tp::PeerConfig { redial_times: 3, ..tp::PeerConfig::default() };
    let (printed, mut pushes) = mpsc::unbounded_channel();
    let client = tp::Peer::new(config)?;
    client.route(PushServer::new(Printer { printed }));
    let session = client.dial(&addr).await?;
    println!("connected to {addr}");

    let sum = MathClient::add(&session, &[1, 2, 3, 4, 5]).await?;
    println!("Math.add = {sum}");

    let options = tp::CallOptions::new().set_meta("author", "henrylee2cn");
    let reply = MathClient::add_with(&session, &[1, 2, 3, 4, 5], &options).await?;
    println!(
        "Math.add (meta author) = {}, echo-author: {:?}",
        reply.value,
        reply.meta.get("echo-author")
    );

    let reply = session
        .call_with::<i64>("/math/add?author=henrylee2cn", &[1, 2, 3, 4, 5], &tp::CallOptions::new())
        .await?;
    println!(
        "Math.add (query author) = {}, echo-author: {:?}",
        reply.value,
        reply.meta.get("echo-author")
    );

    println!("waiting for the server's /push/status broadcast (every 5 s)...");
    match tokio::time::timeout(Duration::from_secs(7), pushes.recv()).await {
        Ok(Some(text)) => println!("push /push/status: {text}"),
        _ => println!("no broadcast within 7 s"),
    }
    session.close().await;
    Ok(())
}
