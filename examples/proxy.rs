//! A reverse proxy: the proxy peer has no routes of its own; hand-routed unknown-call and
//! unknown-push handlers forward every message to a backend without decoding its body
//! (adding `X-Real-IP`), and the backend's reply comes back with its meta and codec.
//!
//! Run with `cargo run --example proxy`.

use std::time::Duration;

use teleport as tp;
use tokio::sync::mpsc;

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

/// Copies a message's route, meta, codec and body for the upstream, adding `X-Real-IP`.
fn upstream_message(incoming: &tp::Incoming, mtype: tp::MessageType) -> tp::Message {
    let mut msg = tp::Message::new(mtype, 0, incoming.service_method());
    msg.meta = incoming.input_meta().clone();
    msg.meta.set(tp::context::META_REAL_IP, incoming.real_ip());
    msg.body_codec = incoming.body_codec();
    msg.body = incoming.body().clone();
    msg
}

fn bad_gateway(status: tp::Status) -> tp::Status {
    match status.code() {
        tp::status::CODE_CONN_CLOSED | tp::status::CODE_DIAL_FAILED => {
            tp::Status::with_code(tp::status::CODE_BAD_GATEWAY, status.to_string())
        }
        _ => status,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loopback = tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() };

    let (notes, mut backend_notes) = mpsc::unbounded_channel();
    let backend = tp::Peer::new(loopback.clone())?;
    backend.route(Math { notes });
    let backend_addr = backend.listen().await?;

    // The proxy dials the backend once and forwards over that session.
    let proxy = tp::Peer::new(loopback.clone())?;
    let upstream = proxy.dial(&backend_addr.to_string()).await?;
    let calls = upstream.clone();
    proxy.set_unknown_call(move |ctx: tp::CallCtx| {
        let upstream = calls.clone();
        async move {
            let msg = upstream_message(&ctx, tp::MessageType::Call);
            let reply = upstream.call_raw(msg, None).await.map_err(bad_gateway)?;
            for (key, value) in reply.meta.iter() {
                ctx.add_meta(key, value);
            }
            ctx.set_reply_codec(reply.body_codec);
            Ok(tp::codec::RawBody(reply.body))
        }
    });
    proxy.set_unknown_push(move |ctx: tp::PushCtx| {
        let upstream = upstream.clone();
        async move {
            upstream
                .push_raw(upstream_message(&ctx, tp::MessageType::Push), None)
                .await
                .map_err(bad_gateway)
        }
    });
    let proxy_addr = proxy.listen().await?;
    println!("backend on {backend_addr}, proxy on {proxy_addr}");

    // The client only knows the proxy, and calls through the generated stub.
    let client = tp::Peer::new(loopback)?;
    let session = client.dial(&proxy_addr.to_string()).await?;
    let reply =
        MathClient::add_with(&session, &vec![1, 2, 3, 4, 5], &tp::CallOptions::new()).await?;
    println!(
        "MathClient::add via proxy = {} (backend saw X-Real-IP {:?})",
        reply.value,
        reply.meta.get("backend-saw-real-ip")
    );
    MathClient::note(&session, &"hello through the proxy".to_owned()).await?;
    println!("{}", backend_notes.recv().await.ok_or("push lost")?);
    let err = session.call::<i64>("/math/nope", &[1]).await.unwrap_err();
    println!("unknown backend route via proxy -> {err}");

    backend.shutdown(Duration::from_secs(5)).await;
    let err = MathClient::add(&session, &vec![1]).await.unwrap_err();
    println!("backend gone -> {err}");
    proxy.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
