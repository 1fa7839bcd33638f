//! A reverse proxy: the proxy peer has no routes of its own; the proxy plugin's unknown-call
//! and unknown-push handlers forward every message to a backend without decoding its body
//! (adding `X-Real-IP`), and the backend's reply comes back with its meta and codec. The
//! caller's remaining time travels with each call and shrinks at every hop; when it runs
//! out, the handler at the backend is dropped too.
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
    /// Sums the numbers; tells who called through the proxy, and how much time was left.
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        ctx.set_meta("backend-saw-real-ip", ctx.real_ip());
        let left = ctx.remaining().map_or(0, |left| left.as_millis());
        ctx.set_meta("backend-time-left-ms", left.to_string());
        Ok(nums.iter().sum())
    }

    /// Takes longer than its caller waits: the caller's budget ends it here as well.
    async fn slow(&self, ctx: &tp::CallCtx) -> Result<(), tp::Status> {
        let _ended = Ended(self.notes.clone(), ctx.remaining().unwrap_or_default());
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    }

    /// A push, forwarded as well.
    #[tp(push)]
    fn note(&self, ctx: &tp::PushCtx, text: String) {
        let _ = self.notes.send(format!("backend got push {text:?} from {}", ctx.real_ip()));
    }
}

/// Reports when a handler's future is dropped.
struct Ended(mpsc::UnboundedSender<String>, Duration);

impl Drop for Ended {
    fn drop(&mut self) {
        let note = format!("backend handler of /math/slow dropped (it had {:?} left)", self.1);
        let _ = self.0.send(note);
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
    let budget = tp::CallOptions::new().timeout(Duration::from_millis(2000));
    let reply = MathClient::add_with(&session, &[1, 2, 3, 4, 5], &budget).await?;
    println!(
        "MathClient::add via proxy = {} (backend saw X-Real-IP {:?})",
        reply.value,
        reply.meta.get("backend-saw-real-ip")
    );
    println!(
        "budget: client 2000 ms -> backend had {} ms left after the proxy hop",
        reply.meta.get("backend-time-left-ms").unwrap_or("?")
    );
    let short = tp::CallOptions::new().timeout(Duration::from_millis(150));
    let err = MathClient::slow_with(&session, &short).await.unwrap_err();
    println!("MathClient::slow with a 150 ms budget -> {err}");
    println!("{}", backend_notes.recv().await.ok_or("no note")?);
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
