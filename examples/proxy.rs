//! A reverse proxy: the proxy peer has no routes of its own; the proxy plugin's unknown-call
//! and unknown-push handlers forward every message to a backend without decoding its body
//! (adding `X-Real-IP`), and the backend's reply comes back with its meta and codec.
//!
//! Run with `cargo run --example proxy`.

use std::time::Duration;

use teleport as tp;
use tokio::sync::mpsc;
use tp::plugin::proxy::Proxy;

/// The backend's service.
struct Math {
    notes: mpsc::UnboundedSender<String>,
}

#[tp::service]
impl Math {
    /// Sums the numbers; tells who called through the proxy.
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        ctx.set_meta("backend-saw-real-ip", ctx.real_ip());
        Ok(nums.iter().sum())
    }

    /// A push, forwarded as well.
    #[tp(push)]
    fn note(&self, ctx: &tp::PushCtx, text: String) {
        let _ = self.notes.send(format!("backend got push {text:?} from {}", ctx.real_ip()));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loopback = tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() };

    let (notes, mut backend_notes) = mpsc::unbounded_channel();
    let backend = tp::Peer::new(loopback.clone())?;
    backend.route(Math { notes });
    let backend_addr = backend.listen().await?;

    // The proxy peer has no routes: its proxy plugin sets the unknown-call and unknown-push
    // handlers, which forward over one session dialed to the backend.
    let dialer = tp::Peer::new(loopback.clone())?;
    let upstream = dialer.dial(&backend_addr).await?;
    let proxy = tp::Peer::builder(loopback.clone())
        .plugin(Proxy::new(move |_route| Some(upstream.clone())))
        .build()?;
    let proxy_addr = proxy.listen().await?;
    println!("backend on {backend_addr}, proxy on {proxy_addr}");

    // The client only knows the proxy, and calls through the generated stub.
    let client = tp::Peer::new(loopback)?;
    let session = client.dial(&proxy_addr).await?;
    let reply = MathClient::add_with(&session, &[1, 2, 3, 4, 5], &tp::CallOptions::new()).await?;
    println!(
        "MathClient::add via proxy = {} (backend saw X-Real-IP {:?})",
        reply.value,
        reply.meta.get("backend-saw-real-ip")
    );
    MathClient::note(&session, "hello through the proxy").await?;
    println!("{}", backend_notes.recv().await.ok_or("push lost")?);
    let err = session.call::<i64>("/math/nope", &[1]).await.unwrap_err();
    println!("unknown backend route via proxy -> {err}");

    backend.shutdown(Duration::from_secs(5)).await;
    let err = MathClient::add(&session, &[1]).await.unwrap_err();
    println!("backend gone -> {err}");
    proxy.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
