//! Secure: sealed bodies both ways, and every refusal of a bad one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use teleport::plugin::HookResult;
use teleport::plugin::secure::{self, META_ACCEPT_SECURE, META_SECURE, OVERHEAD, Secure};
use teleport::{CallCtx, CallOptions, Message, Peer, PushCtx, Session};
use tokio::sync::mpsc;

use crate::common::{config, pair};

const KEY: [u8; 32] = [42; 32];

/// Records the messages it sees, and flips a body byte when told to.
#[derive(Clone, Default)]
struct Wire {
    seen: Arc<Mutex<Vec<Message>>>,
    tamper: bool,
}

impl Wire {
    fn see(&self, msg: &mut Message) -> HookResult {
        if self.tamper && !msg.body.is_empty() {
            let mut body = msg.body.to_vec();
            let last = body.len() - 1;
            body[last] ^= 0x80;
            msg.body = body.into();
        }
        self.seen.lock().push(msg.clone());
        Ok(())
    }
    fn last(&self) -> Message {
        self.seen.lock().last().cloned().unwrap()
    }
}

impl teleport::Plugin for Wire {
    fn name(&self) -> &str {
        "wire"
    }
    fn pre_write_call(&self, _: &Session, msg: &mut Message) -> HookResult {
        self.see(msg)
    }
    fn pre_write_reply(&self, _: &CallCtx, msg: &mut Message) -> HookResult {
        self.see(msg)
    }
    fn post_read_call_header(&self, _: &Session, msg: &mut Message) -> HookResult {
        self.see(msg)
    }
    fn post_read_reply_header(&self, _: &Session, msg: &mut Message) -> HookResult {
        self.see(msg)
    }
}

/// A server (wire spy first, then secure) whose `/echo` counts runs and returns the text
/// and its input meta; a client (spy, secure with `client_key`, then a tamperer if told).
async fn setup(client_key: [u8; 32], tamper: bool) -> (Wire, Wire, Arc<AtomicUsize>, Session) {
    let client_wire = Wire::default();
    let server_wire = Wire::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let server = Peer::builder(config()).plugin(server_wire.clone()).plugin(Secure::new(&KEY));
    let client = Peer::builder(config())
        .plugin(client_wire.clone())
        .plugin(Secure::new(&client_key))
        .plugin(Wire { tamper, ..Wire::default() });
    let (_server, _client, session) = pair(server, client, move |peer| {
        peer.route_call_fn("/echo", move |ctx: CallCtx, text: String| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // The caller's remaining time varies from run to run: left out.
                let meta: Vec<String> = ctx
                    .input_meta()
                    .iter()
                    .filter(|(k, _)| *k != teleport::META_TIMEOUT)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                Ok(format!("{text}|{}", meta.join(",")))
            }
        });
    })
    .await;
    (server_wire, client_wire, runs, session)
}

fn sealed() -> CallOptions {
    CallOptions::new().set_meta(META_SECURE, "true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_calls_get_sealed_replies_and_handlers_see_plain_text() {
    let (server_wire, client_wire, runs, session) = setup(KEY, false).await;
    let reply = session.call_with::<String>("/echo", "top secret", &sealed()).await.unwrap();
    assert_eq!(reply.value, "top secret|X-Accept-Secure=true");
    assert_eq!(reply.meta.get(META_SECURE), None, "the mark goes once opened");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // On the wire: the call and the reply were sealed.
    let call = server_wire.seen.lock()[0].clone();
    assert_eq!(call.body.len(), "\"top secret\"".len() + OVERHEAD);
    assert!(!call.body.windows(3).any(|w| w == b"top"));
    let reply_on_wire = client_wire.last();
    assert_eq!(reply_on_wire.meta.get(META_SECURE), Some("true"));
    assert_eq!(reply_on_wire.body.len(), reply.value.len() + 2 + OVERHEAD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_may_ask_for_a_sealed_reply_or_refuse_one() {
    let (_server_wire, client_wire, _runs, session) = setup(KEY, false).await;
    let accept = CallOptions::new().set_meta(META_ACCEPT_SECURE, "true");
    let reply = session.call_with::<String>("/echo", "x", &accept).await.unwrap();
    assert_eq!(reply.value, "x|X-Accept-Secure=true");
    assert_eq!(client_wire.last().meta.get(META_SECURE), Some("true"));
    let refuse = sealed().set_meta(META_ACCEPT_SECURE, "false");
    let reply = session.call_with::<String>("/echo", "y", &refuse).await.unwrap();
    assert_eq!(reply.value, "y|X-Accept-Secure=false");
    assert_eq!(&client_wire.last().body[..], b"\"y|X-Accept-Secure=false\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_foreign_bodies_are_refused_400_and_never_handled() {
    let (_, _, runs, session) = setup(KEY, true).await;
    let err = session.call_with::<String>("/echo", "x", &sealed()).await.unwrap_err();
    assert_eq!(err.code(), 400, "{err}");
    assert!(err.cause_text().unwrap().contains("failed authentication"), "{err}");

    let (_, _, runs2, session) = setup([1; 32], false).await;
    let err = session.call_with::<String>("/echo", "x", &sealed()).await.unwrap_err();
    assert_eq!(err.code(), 400);
    assert!(err.cause_text().unwrap().contains("another key"), "{err}");

    // A mark other than `true` is dropped and the body read as it is.
    let (_, _, runs3, session) = setup(KEY, false).await;
    let mut msg = Message::new(teleport::MessageType::Call, 0, "/echo");
    msg.meta.set(META_SECURE, "false-but-sealed");
    msg.body_codec = teleport::codec::JSON;
    msg.body = bytes::Bytes::from_static(b"\"z\"");
    let reply = session.call_raw(msg, None).await.unwrap();
    assert_eq!(&reply.body[..], b"\"z|\"", "a mark other than true is dropped");
    for count in [&runs, &runs2] {
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
    assert_eq!(runs3.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_reply_fails_the_call_and_sealed_pushes_arrive_plain() {
    let server_secure = Secure::new(&KEY);
    let tamper = Wire { tamper: true, ..Wire::default() };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Peer::builder(config()).plugin(server_secure).plugin(tamper);
    let client = Peer::builder(config()).plugin(Secure::new(&KEY));
    let (_server, _client, session) = pair(server, client, move |peer| {
        peer.route_call_fn("/echo", |_ctx: CallCtx, s: String| async move { Ok(s) });
        peer.route_push_fn("/note", move |ctx: PushCtx, s: String| {
            let tx = tx.clone();
            async move {
                tx.send((s, ctx.input_meta().get(META_SECURE).map(str::to_owned))).unwrap();
                Ok(())
            }
        });
    })
    .await;
    let err = session.call_with::<String>("/echo", "x", &sealed()).await.unwrap_err();
    assert_eq!(err.code(), 400, "{err}");
    session.push_with("/note", "psst", &sealed()).await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), ("psst".to_owned(), None));
    assert_eq!(secure::META_SECURE, "X-Secure");
}
