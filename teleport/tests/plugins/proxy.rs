//! Proxy: client → proxy → backend over loopback, for calls, pushes and errors.

use std::time::Duration;

use teleport::codec::{self, RawBody};
use teleport::plugin::proxy::{Label, Proxy};
use teleport::{CallCtx, CallOptions, Message, MessageType, Meta, Peer, PushCtx, Session, Status};
use tokio::sync::mpsc;

use crate::common::{RawClient, config, go_frame_v1};

type Pushed = mpsc::UnboundedReceiver<(Meta, u8, Vec<u8>)>;

/// A backend with `/math/add` (Go's), `/echo` (returns body, codec and meta as received),
/// `/fail` (an error with meta) and a `/note` push route; and a session to it.
async fn backend() -> (Peer, Session, Pushed) {
    let backend = Peer::new(config()).unwrap();
    backend.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
        ctx.set_meta("echo-author", ctx.input_meta().get("author").unwrap_or_default());
        Ok(nums.iter().sum::<i64>())
    });
    backend.route_call_fn("/echo", |ctx: CallCtx, body: RawBody| async move {
        for (key, value) in ctx.input_meta().iter() {
            ctx.add_meta(key, value);
        }
        ctx.set_reply_codec(ctx.body_codec());
        Ok(body)
    });
    backend.route_call_fn("/fail", |ctx: CallCtx, _: RawBody| async move {
        ctx.set_meta("why", "because");
        Err::<(), _>(Status::new(10005, "custom").cause("a b&c=d"))
    });
    let (tx, rx) = mpsc::unbounded_channel();
    backend.route_push_fn("/note", move |ctx: PushCtx, body: RawBody| {
        let tx = tx.clone();
        async move {
            tx.send((ctx.input_meta().clone(), ctx.body_codec(), body.0.to_vec())).unwrap();
            Ok(())
        }
    });
    let addr = backend.listen().await.unwrap().to_string();
    let upstream = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    (backend, upstream, rx)
}

/// A proxy peer forwarding everything to `upstream`, listening; its address.
async fn proxy_to(upstream: Session, trust: Option<&str>) -> (Peer, String) {
    let mut proxy = Proxy::new(move |_label: &Label| Some(upstream.clone()));
    if let Some(net) = trust {
        proxy = proxy.trust(net).unwrap();
    }
    let peer = Peer::builder(config()).plugin(proxy).build().unwrap();
    let addr = peer.listen().await.unwrap().to_string();
    (peer, addr)
}

/// The meta pairs, without the caller's remaining time, which varies from run to run.
fn pairs(meta: &Meta) -> Vec<(String, String)> {
    meta.iter()
        .filter(|(k, _)| *k != teleport::META_TIMEOUT)
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn owned(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_frames_through_the_proxy_get_the_backends_bytes() {
    let (_backend, upstream, _pushed) = backend().await;
    let (_proxy, addr) = proxy_to(upstream, None).await;
    let mut go = RawClient::connect(&addr).await;
    go.send(&go_frame_v1("call_math_add_meta")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame_v1("reply_ok_15_meta"));
    go.send(&go_frame_v1("call_unknown_route")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame_v1("reply_404_not_found_2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_pushes_and_errors_keep_their_meta_codec_and_body() {
    let (_backend, upstream, mut pushed) = backend().await;
    let (_proxy, addr) = proxy_to(upstream, None).await;
    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();

    let options = CallOptions::new().codec(codec::FORM).add_meta("k", "1").add_meta("k", "2 &=");
    let body = RawBody(b"a=1&b=%20".to_vec().into());
    let reply = client.call_with::<RawBody>("/echo?x=y", &body, &options).await.unwrap();
    assert_eq!(reply.value, body);
    assert_eq!(reply.codec, codec::FORM);
    let sent = [("k", "1"), ("k", "2 &="), ("X-Tp-Hops", "1"), ("X-Real-IP", "127.0.0.1")];
    assert_eq!(pairs(&reply.meta), owned(&sent));

    let mut call = Message::new(MessageType::Call, 0, "/fail");
    call.body_codec = codec::JSON;
    let failed = client.call_raw_reply(call, None).await.unwrap();
    assert_eq!(failed.status, Status::new(10005, "custom").cause("a b&c=d"));
    assert_eq!(pairs(&failed.meta), owned(&[("why", "because")]));

    let options = CallOptions::new().codec(codec::PLAIN).set_meta("who", "me");
    client.push_with("/note", &RawBody(b"hi there".to_vec().into()), &options).await.unwrap();
    let (meta, codec_id, body) =
        tokio::time::timeout(Duration::from_secs(20), pushed.recv()).await.unwrap().unwrap();
    assert_eq!((codec_id, body.as_slice()), (codec::PLAIN, &b"hi there"[..]));
    let sent = [("who", "me"), ("X-Tp-Hops", "1"), ("X-Real-IP", "127.0.0.1")];
    assert_eq!(pairs(&meta), owned(&sent));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_real_ip_is_trusted_only_from_configured_proxies() {
    let (_backend, upstream, _pushed) = backend().await;
    let (_untrusting, plain_addr) = proxy_to(upstream.clone(), None).await;
    let (_trusting, trusting_addr) = proxy_to(upstream, Some("127.0.0.0/8")).await;
    let options = CallOptions::new().set_meta("X-Real-IP", "203.0.113.9");
    let hop = ("X-Tp-Hops", "1");
    let replaced = [hop, ("X-Real-IP", "127.0.0.1")];
    let trusted = [("X-Real-IP", "203.0.113.9"), hop];
    for (addr, seen) in [(plain_addr, &replaced), (trusting_addr, &trusted)] {
        let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
        let reply = client.call_with::<RawBody>("/echo", &(), &options).await.unwrap();
        assert_eq!(pairs(&reply.meta), owned(seen));
    }
    assert!(Proxy::new(|_: &Label| None::<Session>).trust("10.0.0.0/40").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_bad_gateway_and_no_upstream_is_not_found() {
    let (_backend, upstream, _pushed) = backend().await;
    let (_proxy, addr) = proxy_to(upstream.clone(), None).await;
    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    upstream.close().await;
    let err = client.call::<i64>("/math/add", &[1]).await.unwrap_err();
    assert_eq!((err.code(), err.msg()), (502, "Bad Gateway"), "{err}");

    let nowhere = Peer::builder(config())
        .plugin(Proxy::new(|label: &Label| {
            assert!(label.is_call);
            None::<Session>
        }))
        .build()
        .unwrap();
    let addr = nowhere.listen().await.unwrap().to_string();
    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    let err = client.call::<i64>("/math/add", &[1]).await.unwrap_err();
    assert_eq!(err.code(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_pointed_at_itself_answers_508_and_stays_usable() {
    let upstream = std::sync::Arc::new(std::sync::OnceLock::<Session>::new());
    let pick = upstream.clone();
    // It forwards what arrives on any session, the one it dialed to itself included.
    let proxy = Proxy::new(move |_label: &Label| pick.get().cloned())
        .scope(teleport::plugin::proxy::Scope::All);
    let peer = Peer::builder(config()).plugin(proxy).build().unwrap();
    let addr = peer.listen().await.unwrap().to_string();
    upstream.set(peer.dial(&addr).await.unwrap()).unwrap();

    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    for _ in 0..3 {
        let err = client.call::<i64>("/math/add", &[1, 2]).await.unwrap_err();
        assert_eq!(err.code(), teleport::status::CODE_LOOP_DETECTED, "{err}");
        assert!(err.cause_text().unwrap().contains("max_hops is 8"), "{err}");
    }
    // Every hop's handler is done: nothing stays wedged in the handler slots.
    crate::common::eventually(|| peer.handlers_in_flight() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_counts_hops_and_refuses_past_the_limit() {
    let (_backend, upstream, _pushed) = backend().await;
    let (_proxy, addr) = proxy_to(upstream, None).await;
    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    let reply = client
        .call_with::<RawBody>("/echo", &RawBody(Default::default()), &CallOptions::new())
        .await
        .unwrap();
    assert_eq!(reply.meta.get(teleport::META_HOPS), Some("1"));
    let at_limit = CallOptions::new().set_meta(teleport::META_HOPS, "8");
    let err = client
        .call_with::<RawBody>("/echo", &RawBody(Default::default()), &at_limit)
        .await
        .unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_LOOP_DETECTED);
    let garbage = CallOptions::new().set_meta(teleport::META_HOPS, "-1");
    let err = client
        .call_with::<RawBody>("/echo", &RawBody(Default::default()), &garbage)
        .await
        .unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_LOOP_DETECTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_calling_back_is_not_forwarded_by_default() {
    // The backend calls back over the session that reached it, which the proxy dialed.
    let backend = Peer::new(config()).unwrap();
    backend.route_call_fn("/ask_back", |ctx: CallCtx, _: ()| async move {
        let err = ctx.session().call::<String>("/client/callback", &()).await.unwrap_err();
        Ok(format!("{} {}", err.code(), err.cause_text().unwrap_or_default()))
    });
    let unknown = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = unknown.clone();
    backend.set_unknown_call(move |_ctx| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move { Err::<(), _>(Status::with_code(404, "backend has no such route")) }
    });
    let backend_addr = backend.listen().await.unwrap().to_string();
    // The proxy dials its upstream from its own peer, as a real proxy does.
    let upstream = std::sync::Arc::new(std::sync::OnceLock::<Session>::new());
    let pick = upstream.clone();
    let proxy = Peer::builder(config())
        .plugin(Proxy::new(move |_label: &Label| pick.get().cloned()))
        .build()
        .unwrap();
    upstream.set(proxy.dial(&backend_addr).await.unwrap()).unwrap();
    let addr = proxy.listen().await.unwrap().to_string();
    let client = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    let answer: String = client.call("/ask_back", &()).await.unwrap();
    assert!(answer.starts_with("404 not forwarded"), "{answer}");
    // It never looped back to the backend as an unknown call.
    assert_eq!(unknown.load(std::sync::atomic::Ordering::SeqCst), 0);
}
