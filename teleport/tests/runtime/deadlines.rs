//! Deadlines and cancellation that travel with a call: the caller's remaining time reaches
//! the handler, nested calls inherit it, and a caller that stops waiting cancels the handler
//! and, through it, every call it made in turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use teleport::plugin::proxy::{Label, Proxy};
use teleport::status::CODE_HANDLE_TIMEOUT;
use teleport::{CallCtx, CallOptions, Message, MessageType, Peer, Proto, RawProto, Session};
use teleport::{META_TIMEOUT, ROUTE_CANCEL};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{config, eventually};

/// Counts live handler futures, and keeps the deadline each handler saw with the budget
/// (meta `X-Tp-Timeout`, in milliseconds) its caller sent and the time the call was read.
#[derive(Clone, Default)]
struct Watch {
    alive: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    deadline: Option<Instant>,
    budget_ms: Option<u64>,
    received_at: Instant,
}

struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Watch {
    fn enter(&self, ctx: &CallCtx) -> Live {
        let budget_ms = ctx.input_meta().get(META_TIMEOUT).map(|ms| ms.parse().unwrap());
        let seen = Seen { deadline: ctx.deadline(), budget_ms, received_at: ctx.received_at() };
        self.seen.lock().push(seen);
        self.alive.fetch_add(1, Ordering::SeqCst);
        Live(self.alive.clone())
    }

    fn alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    fn last(&self) -> Seen {
        *self.seen.lock().last().expect("the handler ran")
    }
}

/// A peer serving `/hop`: it records its deadline, then calls on over `next` if given,
/// else waits forever.
async fn hop(watch: &Watch, next: Option<Session>) -> (Peer, String) {
    let peer = Peer::new(config()).unwrap();
    let w = watch.clone();
    peer.route_call_fn("/hop", move |ctx: CallCtx, _: ()| {
        let live = w.enter(&ctx);
        let next = next.clone();
        async move {
            match next {
                Some(next) => next.call::<()>("/hop", &()).await?,
                None => std::future::pending::<()>().await,
            }
            drop(live);
            Ok(())
        }
    });
    let addr = peer.listen().await.unwrap().to_string();
    (peer, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_shrinks_along_a_chain_and_every_hop_ends_with_it() {
    let (last, middle) = (Watch::default(), Watch::default());
    let (c, c_addr) = hop(&last, None).await;
    let b_dialer = Peer::new(config()).unwrap();
    let to_c = b_dialer.dial(&c_addr).await.unwrap();
    let (b, b_addr) = hop(&middle, Some(to_c.clone())).await;
    let a = Peer::new(config()).unwrap().dial(&b_addr).await.unwrap();

    let budget = Duration::from_millis(100);
    let started = Instant::now();
    let options = CallOptions::new().timeout(budget);
    let err = a.call_with::<()>("/hop", &(), &options).await.unwrap_err();
    assert_eq!(err.code(), CODE_HANDLE_TIMEOUT, "{err}");

    // Each hop was sent a budget no larger than the hop before it had: the budget only
    // shrinks (B's nested call to C inherited it). Each hop's deadline is its budget counted
    // from when it read the call. (Deadlines across hops are not compared: a budget travels
    // as whole milliseconds, so the time a frame spends between two hops is not in it.)
    let (at_b, at_c) = (middle.last(), last.last());
    let (budget_b, budget_c) = (at_b.budget_ms.unwrap(), at_c.budget_ms.unwrap());
    assert!(budget_b <= budget.as_millis() as u64, "B was given more than the caller had");
    assert!(budget_c <= budget_b, "C was given {budget_c} ms, more than B's {budget_b} ms");
    for (hop, seen) in [("B", at_b), ("C", at_c)] {
        let deadline = seen.deadline.unwrap();
        let by_budget = seen.received_at + Duration::from_millis(seen.budget_ms.unwrap());
        assert!(deadline <= by_budget, "{hop}'s deadline is past its budget: {seen:?}");
        assert!(seen.received_at >= started);
    }
    // Every hop's handler ended with the budget, and left nothing behind.
    eventually(|| middle.alive() == 0 && last.alive() == 0).await;
    eventually(|| b.handlers_in_flight() == 0 && c.handlers_in_flight() == 0).await;
    assert_eq!((a.pending_calls(), to_c.pending_calls()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_caller_cancels_the_chain_through_a_proxy() {
    // Every timeout far away: what ends this call is its caller giving up.
    let patient = || teleport::PeerConfig { call_timeout: Duration::from_secs(600), ..config() };
    let (last, middle) = (Watch::default(), Watch::default());
    let (c, c_addr) = hop(&last, None).await;
    let b_dialer = Peer::new(patient()).unwrap();
    let to_c = b_dialer.dial(&c_addr).await.unwrap();
    let (b, b_addr) = hop(&middle, Some(to_c.clone())).await;
    // A proxy in front of B.
    let to_b = Peer::new(patient()).unwrap().dial(&b_addr).await.unwrap();
    let upstream = to_b.clone();
    let proxy = Peer::builder(patient())
        .plugin(Proxy::new(move |_label: &Label| Some(upstream.clone())))
        .build()
        .unwrap();
    let proxy_addr = proxy.listen().await.unwrap().to_string();
    let a = Peer::new(config()).unwrap().dial(&proxy_addr).await.unwrap();

    let caller = tokio::spawn({
        let a = a.clone();
        async move {
            let options = CallOptions::new().timeout(Duration::from_secs(600));
            a.call_with::<()>("/hop", &(), &options).await
        }
    });
    eventually(|| last.alive() == 1).await;
    let (budget_b, budget_c) = (middle.last().budget_ms.unwrap(), last.last().budget_ms.unwrap());
    assert!(budget_c <= budget_b, "C was given {budget_c} ms, more than B's {budget_b} ms");
    caller.abort();

    // The proxy's handler, B's and C's are all dropped; nothing waits anywhere.
    eventually(|| middle.alive() == 0 && last.alive() == 0).await;
    eventually(|| proxy.handlers_in_flight() == 0).await;
    eventually(|| b.handlers_in_flight() == 0 && c.handlers_in_flight() == 0).await;
    eventually(|| a.pending_calls() == 0 && to_b.pending_calls() == 0).await;
    eventually(|| to_c.pending_calls() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_handler_is_told_and_writes_no_reply() {
    let seen = Arc::new(AtomicUsize::new(0));
    let server = Peer::new(config()).unwrap();
    let told = seen.clone();
    server.route_call_fn("/long", move |ctx: CallCtx, _: ()| {
        // Work handed elsewhere learns of the cancellation through the context.
        let told = told.clone();
        let watcher = ctx.clone();
        tokio::spawn(async move {
            watcher.cancelled().await;
            assert!(watcher.is_cancelled());
            told.fetch_add(1, Ordering::SeqCst);
        });
        async move {
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    // A raw client: it sees every frame the server writes.
    let mut stream = TcpStream::connect(addr.to_string()).await.unwrap();
    let proto = RawProto::default();
    let mut wire = bytes::BytesMut::new();
    let mut call = Message::new(MessageType::Call, 1, "/long");
    call.body_codec = teleport::codec::JSON;
    call.body = bytes::Bytes::from_static(b"null");
    proto.encode(&call, &mut wire).unwrap();
    stream.write_all(&wire).await.unwrap();
    eventually(|| server.handlers_in_flight() == 1).await;
    // Cancel pushes for seqs that run nowhere cost nothing and change nothing.
    for seq in 2..2000 {
        stream.write_all(&cancel_push(&proto, seq + 10_000, seq)).await.unwrap();
    }
    stream.write_all(&cancel_push(&proto, 2, 1)).await.unwrap();
    eventually(|| server.handlers_in_flight() == 0 && seen.load(Ordering::SeqCst) == 1).await;
    // No reply to the cancelled call: the next frame is the answer to a later call.
    let mut ping = Message::new(MessageType::Call, 3, "/nope");
    ping.body_codec = teleport::codec::JSON;
    wire.clear();
    proto.encode(&ping, &mut wire).unwrap();
    stream.write_all(&wire).await.unwrap();
    let reply = read_frame(&mut stream, &proto).await;
    assert_eq!((reply.seq, reply.status.code()), (3, 404));
}

fn cancel_push(proto: &RawProto, seq: i32, cancelled: i32) -> Vec<u8> {
    let mut push = Message::new(MessageType::Push, seq, ROUTE_CANCEL);
    push.body_codec = teleport::codec::PLAIN;
    push.body = cancelled.to_string().into();
    let mut wire = bytes::BytesMut::new();
    proto.encode(&push, &mut wire).unwrap();
    wire.to_vec()
}

async fn read_frame(stream: &mut TcpStream, proto: &RawProto) -> Message {
    let mut buf = bytes::BytesMut::new();
    loop {
        if let Some(msg) = proto.decode(&mut buf).unwrap() {
            return msg;
        }
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_buf(&mut buf));
        assert!(read.await.expect("a frame in time").unwrap() > 0, "closed");
    }
}

/// A raw call to `/deadline` carrying `timeout` as its `X-Tp-Timeout`, if any.
fn timed_call(proto: &RawProto, seq: i32, timeout: Option<&str>) -> Vec<u8> {
    let mut call = Message::new(MessageType::Call, seq, "/deadline");
    call.body_codec = teleport::codec::JSON;
    call.body = bytes::Bytes::from_static(b"null");
    if let Some(timeout) = timeout {
        call.meta.add(META_TIMEOUT, timeout);
    }
    let mut wire = bytes::BytesMut::new();
    proto.encode(&call, &mut wire).unwrap();
    wire.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_deadlines_are_ignored_and_go_callers_keep_todays_behaviour() {
    let server = Peer::new(config()).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    server.route_call_fn("/deadline", move |ctx: CallCtx, _: ()| {
        count.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::task::yield_now().await;
            Ok(ctx.remaining().map(|left| left.as_millis() as u64))
        }
    });
    let addr = server.listen().await.unwrap();
    let mut stream = TcpStream::connect(addr.to_string()).await.unwrap();
    let proto = RawProto::default();
    // Without the entry (a Go caller), or with one that is not whole milliseconds from 0 to
    // a day, the handler runs with the peer's own limits: none here.
    let cases = [None, Some("soon"), Some("-5"), Some("1.5"), Some("999999999999999999999")];
    for (seq, timeout) in (1..).zip(cases) {
        stream.write_all(&timed_call(&proto, seq, timeout)).await.unwrap();
        let reply = read_frame(&mut stream, &proto).await;
        assert_eq!((reply.seq, reply.status.code()), (seq, 0), "{timeout:?}");
        assert_eq!(&reply.body[..], b"null", "{timeout:?}");
    }
    // A usable one reaches the handler.
    stream.write_all(&timed_call(&proto, 10, Some("60000"))).await.unwrap();
    let reply = read_frame(&mut stream, &proto).await;
    let left: u64 = std::str::from_utf8(&reply.body).unwrap().parse().unwrap();
    assert!(left > 0 && left <= 60_000, "{left}");
    // No time left on arrival: 408 at once, the handler does not run.
    let before = ran.load(Ordering::SeqCst);
    stream.write_all(&timed_call(&proto, 11, Some("0"))).await.unwrap();
    let reply = read_frame(&mut stream, &proto).await;
    assert_eq!((reply.seq, reply.status.code()), (11, CODE_HANDLE_TIMEOUT));
    assert_eq!(ran.load(Ordering::SeqCst), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_call_can_only_shorten_the_inherited_budget() {
    let inner = Peer::new(config()).unwrap();
    inner.route_call_fn("/left", |ctx: CallCtx, _: ()| async move {
        Ok(ctx.remaining().map(|left| left.as_millis() as u64))
    });
    let inner_addr = inner.listen().await.unwrap().to_string();
    let to_inner = Peer::new(config()).unwrap().dial(&inner_addr).await.unwrap();
    let outer = Peer::new(config()).unwrap();
    outer.route_call_fn("/ask", move |ctx: CallCtx, own_ms: u64| {
        let to_inner = to_inner.clone();
        async move {
            let options = CallOptions::new().timeout(Duration::from_millis(own_ms));
            let inner_left = to_inner.call_with::<Option<u64>>("/left", &(), &options).await?;
            let outer_left = ctx.remaining().map(|left| left.as_millis() as u64);
            Ok((inner_left.value, outer_left))
        }
    });
    let outer_addr = outer.listen().await.unwrap().to_string();
    let caller = Peer::new(config()).unwrap().dial(&outer_addr).await.unwrap();
    let options = CallOptions::new().timeout(Duration::from_secs(30));
    // A longer timeout of its own does not lengthen the budget it inherited...
    let reply = caller.call_with::<(Option<u64>, Option<u64>)>("/ask", &3_600_000u64, &options);
    let (inner_left, outer_left) = reply.await.unwrap().value;
    let (inner_left, outer_left) = (inner_left.unwrap(), outer_left.unwrap());
    assert!(inner_left <= 30_000 && outer_left <= 30_000, "{inner_left} {outer_left}");
    // ...and a shorter one shortens it.
    let reply = caller.call_with::<(Option<u64>, Option<u64>)>("/ask", &20_000u64, &options);
    let (inner_left, _) = reply.await.unwrap().value;
    assert!(inner_left.unwrap() <= 20_000, "{inner_left:?}");
}
