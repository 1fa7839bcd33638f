//! Write coalescing: many calls in flight on one session, answered from batches the read
//! loop corks and the writer flushes together. Every call ends once with its own reply,
//! pushes keep their order, and a writer held up by a slow reader still pushes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use parking_lot::Mutex;
use teleport::{CallCtx, Message, MessageType, Peer, PeerConfig, Proto, PushCtx, RawProto, codec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{config, eventually, pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_on_one_session_each_get_their_own_reply_once() {
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    let (_server, _client, session) = pair(move |peer| {
        peer.route_call_sync_fn("/echo", move |_ctx: &CallCtx, n: u64| {
            count.fetch_add(1, Ordering::Relaxed);
            Ok(n)
        });
    })
    .await;
    let (callers, calls) = (100u64, 50u64);
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let session = session.clone();
            tokio::spawn(async move {
                for i in 0..calls {
                    let n = caller * 1_000 + i;
                    let got: u64 = session.call("/echo", &n).await.unwrap();
                    assert_eq!(got, n, "a reply went to the wrong caller");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(handled.load(Ordering::Relaxed) as u64, callers * calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_keep_their_order_among_coalesced_calls() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let (_server, _client, session) = pair(move |peer| {
        peer.route_call_sync_fn("/echo", |_ctx: &CallCtx, n: u64| Ok(n));
        peer.route_push_sync_fn("/seq", move |_ctx: &PushCtx, n: u64| {
            record.lock().push(n);
            Ok(())
        });
    })
    .await;
    let callers: Vec<_> = (0..50u64)
        .map(|caller| {
            let session = session.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let _: u64 = session.call("/echo", &(caller + i)).await.unwrap();
                }
            })
        })
        .collect();
    let pushes = 2_000u64;
    for n in 0..pushes {
        session.push("/seq", &n).await.unwrap();
    }
    for caller in callers {
        caller.await.unwrap();
    }
    eventually(|| seen.lock().len() as u64 == pushes).await;
    assert_eq!(*seen.lock(), (0..pushes).collect::<Vec<_>>());
}

/// Call frames with seqs `1..=n` to `route`, with a JSON number body, in one buffer.
fn call_frames(route: &str, n: i32) -> Vec<u8> {
    let proto = RawProto::default();
    let mut wire = BytesMut::new();
    for seq in 1..=n {
        let mut call = Message::new(MessageType::Call, seq, route);
        call.body_codec = codec::JSON;
        call.body = bytes::Bytes::from(seq.to_string());
        proto.encode(&call, &mut wire).unwrap();
    }
    wire.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_blocked_by_a_slow_reader_pushes_back_and_loses_nothing() {
    let bound = 256 << 10;
    let server = Peer::new(PeerConfig {
        max_frame: 64 << 10,
        max_outbound_bytes: bound,
        write_buffer_size: 4096,
        write_timeout: Duration::from_secs(60),
        ..config()
    })
    .unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    let big = "x".repeat(32 << 10);
    server.route_call_sync_fn("/big", move |_ctx: &CallCtx, n: u32| {
        count.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{n} {big}"))
    });
    let addr = server.listen().await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr.to_string().parse().unwrap()).await.unwrap();
    // One write of 400 calls: the server reads them in batches and answers them corked;
    // this client reads nothing yet.
    let calls = 400;
    stream.write_all(&call_frames("/big", calls)).await.unwrap();
    eventually(|| server.outbound_stats().queued_bytes >= bound).await;
    // The queue is full and the writer blocked: the read loop stopped handling calls
    // (12 MiB of replies could not have gone anywhere), and the bound held.
    let stats = server.outbound_stats();
    assert!(stats.queued_bytes <= bound + (64 << 10), "{stats:?}");
    assert!(handled.load(Ordering::Relaxed) < calls as usize / 2, "no push back");
    // Now read: every call is answered once, in order.
    let proto = RawProto::default();
    let (mut buf, mut next) = (BytesMut::new(), 1);
    while next <= calls {
        while let Some(reply) = proto.decode(&mut buf).unwrap() {
            assert_eq!(reply.seq, next, "replies out of order or repeated");
            assert!(reply.body.starts_with(format!("\"{next} ").as_bytes()));
            next += 1;
        }
        if next <= calls {
            assert!(stream.read_buf(&mut buf).await.unwrap() > 0, "closed early");
        }
    }
    assert_eq!(handled.load(Ordering::Relaxed), calls as usize);
    // Nothing more comes: no reply was written twice.
    let more = tokio::time::timeout(Duration::from_millis(200), stream.read_buf(&mut buf)).await;
    assert!(matches!(more, Err(_) | Ok(Ok(0))) && buf.is_empty(), "extra bytes after the replies");
}
