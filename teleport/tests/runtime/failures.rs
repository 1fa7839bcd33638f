//! Bad input and broken connections: every call ends exactly once, nobody else suffers.

use std::sync::Arc;
use std::time::Duration;

use teleport::status::{
    CODE_BAD_MESSAGE, CODE_CONN_CLOSED, CODE_HANDLE_TIMEOUT, CODE_INTERNAL_SERVER_ERROR,
    CODE_WRITE_FAILED,
};
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, SessionState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

use crate::common::{config, pair, pair_with, wait_state};

fn routes(peer: &Peer) {
    peer.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok(nums.iter().sum::<i64>())
    });
    peer.route_call_fn("/boom", |_ctx: CallCtx, _: ()| async move {
        if true {
            panic!("handler blew up");
        }
        Ok(())
    });
    peer.route_call_fn("/big", |_ctx: CallCtx, n: usize| async move { Ok("x".repeat(n)) });
    peer.route_call_sync_fn("/sync/boom", |_ctx: &CallCtx, n: u32| -> Result<u32, _> {
        if n > 0 {
            panic!("sync handler blew up");
        }
        Ok(n)
    });
    peer.route_call_sync_fn("/sync/refuse", |_ctx: &CallCtx, _: ()| -> Result<(), _> {
        Err(teleport::Status::with_code(499, "refused here"))
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_body_is_400_with_the_decoder_error() {
    let (_server, _client, session) = pair(routes).await;
    let err = session.call::<i64>("/math/add", "not numbers").await.unwrap_err();
    assert_eq!(err.code(), CODE_BAD_MESSAGE);
    assert_eq!(err.msg(), "Bad Message");
    assert!(err.cause_text().unwrap().contains("json decode"), "{err}");
    // A codec the server does not know: Go's answer, word for word.
    let body = teleport::codec::RawBody(bytes::Bytes::from_static(b"[1]"));
    let err = session
        .call_with::<i64>("/math/add", &body, &CallOptions::new().codec(b'q'))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.cause_text()),
        (CODE_BAD_MESSAGE, Some("unsupported codec id: 113"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_handler_is_500_and_the_session_lives_on() {
    let (_server, _client, session) = pair(routes).await;
    let err = session.call::<()>("/boom", &()).await.unwrap_err();
    assert_eq!(err.code(), CODE_INTERNAL_SERVER_ERROR);
    assert!(err.cause_text().unwrap().contains("handler blew up"));
    let sum: i64 = session.call("/math/add", &[1, 2]).await.unwrap();
    assert_eq!(sum, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_handlers_answer_errors_and_panics_and_the_session_lives_on() {
    let (_server, _client, session) = pair(routes).await;
    let err = session.call::<u32>("/sync/boom", &1).await.unwrap_err();
    assert_eq!(err.code(), CODE_INTERNAL_SERVER_ERROR);
    assert!(err.cause_text().unwrap().contains("sync handler blew up"));
    assert_eq!(session.call::<u32>("/sync/boom", &0).await.unwrap(), 0);
    let err = session.call::<u32>("/sync/boom", "not a number").await.unwrap_err();
    assert_eq!(err.code(), CODE_BAD_MESSAGE);
    let err = session.call::<()>("/sync/refuse", &()).await.unwrap_err();
    assert_eq!(err.code(), 499);
    assert_eq!(err.cause_text().unwrap(), "refused here");
    let sum: i64 = session.call("/math/add", &[1, 2]).await.unwrap();
    assert_eq!(sum, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_is_408_and_the_late_reply_is_discarded() {
    use teleport::{Message, MessageType, Proto, RawProto};
    // A server like a Go eRPC v6 peer: it knows nothing of the caller's remaining time or
    // of cancel pushes, and answers the first call only once released.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let release = Arc::new(Notify::new());
    let (answered_tx, mut answered) = mpsc::unbounded_channel::<()>();
    let gate = release.clone();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let proto = RawProto::default();
        let (mut buf, mut first) = (bytes::BytesMut::new(), true);
        while stream.read_buf(&mut buf).await.unwrap_or(0) > 0 {
            while let Some(msg) = proto.decode(&mut buf).unwrap() {
                if msg.mtype != MessageType::Call {
                    continue;
                }
                let mut reply = Message::new(MessageType::Reply, msg.seq, "");
                reply.body_codec = teleport::codec::JSON;
                reply.body = bytes::Bytes::from_static(if first { b"7" } else { b"42" });
                if std::mem::take(&mut first) {
                    gate.notified().await;
                }
                let mut wire = bytes::BytesMut::new();
                proto.encode(&reply, &mut wire).unwrap();
                stream.write_all(&wire).await.unwrap();
                answered_tx.send(()).unwrap();
            }
        }
    });
    let client = Peer::new(config()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let options = CallOptions::new().timeout(Duration::from_millis(100));
    let err = session.call_with::<u32>("/slow", &7, &options).await.unwrap_err();
    assert_eq!(err.code(), CODE_HANDLE_TIMEOUT);
    assert_eq!(session.pending_calls(), 0, "the pending entry is freed at the deadline");
    release.notify_one();
    answered.recv().await.unwrap();
    // The late reply to seq 1 arrives now; the next call must get its own answer.
    let sum: i64 = session.call("/math/add", &[40, 2]).await.unwrap();
    assert_eq!(sum, 42);
    assert_eq!(session.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_killed_mid_call_ends_every_pending_call_with_102() {
    // A fake server that reads what it gets and then drops the connection without answering.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (got_bytes_tx, mut got_bytes) = mpsc::unbounded_channel::<()>();
    let kill = Arc::new(Notify::new());
    let killer = kill.clone();
    let fake = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0; 64 << 10];
        let _ = stream.read(&mut buf).await.unwrap();
        got_bytes_tx.send(()).unwrap();
        killer.notified().await;
        drop(stream);
    });
    let client_config = PeerConfig { call_timeout: Duration::from_secs(3600), ..config() };
    let client = Peer::new(client_config).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let calls: Vec<_> = (0..20)
        .map(|i| session.call_async::<i64>("/math/add", &[i], &CallOptions::new()))
        .collect();
    got_bytes.recv().await.unwrap();
    crate::common::eventually(|| session.pending_calls() == 20).await;
    kill.notify_one();
    for call in calls {
        assert_eq!(call.await.unwrap_err().code(), CODE_CONN_CLOSED);
    }
    wait_state(&session, SessionState::Closed).await;
    let err = session.call::<i64>("/math/add", &[1]).await.unwrap_err();
    assert_eq!(err.code(), CODE_CONN_CLOSED);
    fake.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_lose_their_own_connection_only() {
    let (server, _client, session) = pair(routes).await;
    let addr = session.remote_addr().to_string();
    crate::common::eventually(|| server.session_count() == 1).await;
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[0, 0, 0, 2, 1, 2, 3][..],
        &[0xFF, 0xFF, 0xFF, 0xFF, 0, 1, 0x7f, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9][..],
    ] {
        let mut raw = TcpStream::connect(&addr).await.unwrap();
        raw.write_all(garbage).await.unwrap();
        let mut rest = Vec::new();
        // The server closes the connection: the read ends (EOF or reset), it does not hang.
        let _ = tokio::time::timeout(Duration::from_secs(20), raw.read_to_end(&mut rest))
            .await
            .unwrap();
    }
    let sum: i64 = session.call("/math/add", &[1, 1]).await.unwrap();
    assert_eq!(sum, 2);
    crate::common::eventually(|| server.session_count() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_frames_are_refused_both_ways() {
    let small = PeerConfig { max_frame: 64 << 10, ..config() };
    let (_server, _client, session) = pair_with(small.clone(), small, routes).await;
    // Too big to send: 104, and nothing was written, so the session still works.
    let err = session.call::<String>("/big", &"y".repeat(100 << 10)).await.unwrap_err();
    assert_eq!(err.code(), CODE_WRITE_FAILED);
    // Too big to reply: the caller gets 104 from the server.
    let err = session.call::<String>("/big", &(100usize << 10)).await.unwrap_err();
    assert_eq!(err.code(), CODE_WRITE_FAILED);
    let ok: String = session.call("/big", &3usize).await.unwrap();
    assert_eq!(ok, "xxx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_length_prefix_closes_the_connection_before_reading_the_body() {
    let (server, _client, session) = pair(routes).await;
    let mut raw = TcpStream::connect(session.remote_addr().to_string()).await.unwrap();
    // Announces 64 MiB and sends nothing more: refused from the prefix alone.
    raw.write_all(&(64u32 << 20).to_be_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(20), raw.read_to_end(&mut rest)).await.unwrap();
    let sum: i64 = session.call("/math/add", &[2, 2]).await.unwrap();
    assert_eq!(sum, 4);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_partial_frame_is_cut_off() {
    let server_config = PeerConfig { frame_read_timeout: Duration::from_millis(200), ..config() };
    let (_server, _client, session) = pair_with(server_config, config(), routes).await;
    let mut raw = TcpStream::connect(session.remote_addr().to_string()).await.unwrap();
    raw.write_all(&[0, 0, 0, 40, 0]).await.unwrap();
    let mut rest = Vec::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(20), raw.read_to_end(&mut rest)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_beyond_the_outbound_limit_wait_for_room() {
    use bytes::BytesMut;
    use teleport::proto::{Proto, RawProto};
    use teleport::{Message, MessageType, codec};

    let limit = 600 << 10;
    let server_config = PeerConfig { max_outbound_bytes: limit, max_frame: limit, ..config() };
    let server = Peer::new(server_config).unwrap();
    server.route_call_fn("/big", |_ctx: CallCtx, n: usize| async move {
        Ok(letter(n).to_string().repeat(512 << 10))
    });
    let addr = server.listen().await.unwrap();
    // A client that sends 64 calls (32 MiB of replies), then reads nothing for a while:
    // the socket buffers fill, then the server's queue, and the replies behind wait for
    // room. Once it reads, every reply comes, in order.
    let mut stream = TcpStream::connect(addr.to_string()).await.unwrap();
    let proto = RawProto::default();
    let mut calls = BytesMut::new();
    for n in 0..64usize {
        let mut msg = Message::new(MessageType::Call, n as i32 + 1, "/big");
        msg.body_codec = codec::JSON;
        msg.body = codec::encode_to_bytes(&n, codec::JSON).unwrap();
        proto.encode(&msg, &mut calls).unwrap();
    }
    stream.write_all(&calls).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut buf = BytesMut::new();
    for n in 0..64usize {
        let reply = loop {
            if let Some(reply) = proto.decode(&mut buf).unwrap() {
                break reply;
            }
            assert!(stream.read_buf(&mut buf).await.unwrap() > 0, "closed before reply {n}");
        };
        assert_eq!((reply.mtype, reply.seq), (MessageType::Reply, n as i32 + 1));
        let body: String = codec::DecodeBody::decode_body(reply.body_codec, &reply.body).unwrap();
        assert_eq!(body.len(), 512 << 10);
        assert!(body.chars().all(|c| c == letter(n)), "reply {n}");
    }
}

fn letter(n: usize) -> char {
    char::from(b'a' + (n % 26) as u8)
}

/// Sends its text when dropped: shows that a handler's future was dropped.
struct DropSignal(mpsc::UnboundedSender<&'static str>, &'static str);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_age_ends_slow_handlers_of_calls_and_pushes() {
    let (tx, mut events) = mpsc::unbounded_channel::<&'static str>();
    let server_config = PeerConfig { default_context_age: Duration::from_millis(50), ..config() };
    let (server, _client, session) = pair_with(server_config, config(), move |peer| {
        routes(peer);
        let call_tx = tx.clone();
        peer.route_call_fn("/stuck", move |_ctx: CallCtx, _: ()| {
            let signal = DropSignal(call_tx.clone(), "call dropped");
            async move {
                std::future::pending::<()>().await;
                drop(signal);
                Ok(())
            }
        });
        peer.route_push_fn("/stuck", move |_ctx: teleport::PushCtx, _: ()| {
            let signal = DropSignal(tx.clone(), "push dropped");
            async move {
                std::future::pending::<()>().await;
                drop(signal);
                Ok(())
            }
        });
    })
    .await;
    let options = CallOptions::new().timeout(Duration::from_secs(20));
    let err = session.call_with::<()>("/stuck", &(), &options).await.unwrap_err();
    assert_eq!(err.code(), CODE_HANDLE_TIMEOUT);
    assert_eq!(events.recv().await, Some("call dropped"));
    session.push("/stuck", &()).await.unwrap();
    assert_eq!(events.recv().await, Some("push dropped"));
    // The handlers' permits and in-flight counts were given back.
    crate::common::eventually(|| server.handlers_in_flight() == 0).await;
    let sum: i64 = session.call("/math/add", &[1, 1]).await.unwrap();
    assert_eq!(sum, 2);
}
