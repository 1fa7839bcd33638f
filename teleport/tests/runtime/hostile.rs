//! Hostile and careless peers: resets before accept, abandoned sessions, slow readers,
//! loops and blocking handlers. Each test is a regression test of a defect a fault campaign
//! found; each fails without its fix.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use teleport::{CallCtx, CallOptions, Peer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::{config, eventually};

/// Counts the handler futures alive: one more while a `Live` exists.
#[derive(Clone, Default)]
struct Alive(Arc<AtomicUsize>);

struct Live(Arc<AtomicUsize>);

impl Alive {
    fn enter(&self) -> Live {
        self.0.fetch_add(1, Ordering::SeqCst);
        Live(self.0.clone())
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Connects and resets at once (SO_LINGER 0), before the server had a chance to accept.
async fn connect_and_reset(addr: std::net::SocketAddr) {
    let stream = TcpStream::connect(addr).await.unwrap();
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_before_accept_do_not_stall_the_listener() {
    let server = Peer::new(config()).unwrap();
    server.route_call_fn("/echo", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let addr = server.listen().await.unwrap();
    let tcp = match addr {
        teleport::transport::Addr::Tcp(tcp) => tcp,
        other => panic!("not tcp: {other}"),
    };
    // Each reset used to pause the accept loop for 50 ms, as if the process were out of
    // file descriptors: 400 of them kept the next client waiting 20 s.
    for _ in 0..400 {
        connect_and_reset(tcp).await;
    }
    let client = Peer::new(config()).unwrap();
    let options = CallOptions::new().timeout(Duration::from_secs(8));
    let dial = teleport::peer::DialOptions {
        timeout: Some(Duration::from_secs(8)),
        ..Default::default()
    };
    let session = client
        .dial_with(&addr.to_string(), dial)
        .await
        .expect("a new client is accepted behind the resets");
    let reply = session.call_with::<u32>("/echo", &7u32, &options).await.expect("and served");
    assert_eq!(reply.value, 7);
}

#[test]
fn only_resource_exhaustion_pauses_accepting() {
    use std::io::{Error, ErrorKind};
    use teleport::transport::is_out_of_resources;
    for code in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
        assert!(is_out_of_resources(&Error::from_raw_os_error(code)), "{code}");
    }
    for code in [libc::ENOTCONN, libc::ECONNABORTED, libc::ECONNRESET, libc::EINVAL] {
        assert!(!is_out_of_resources(&Error::from_raw_os_error(code)), "{code}");
    }
    assert!(is_out_of_resources(&Error::from(ErrorKind::OutOfMemory)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_handlers_end_with_it() {
    let alive = Alive::default();
    let server = Peer::new(config()).unwrap();
    let (calls, pushes) = (alive.clone(), alive.clone());
    server.route_call_fn("/slow", move |_ctx: CallCtx, _: ()| {
        let live = calls.enter();
        async move {
            std::future::pending::<()>().await;
            drop(live);
            Ok(())
        }
    });
    server.route_push_fn("/slow_push", move |_ctx: teleport::PushCtx, _: ()| {
        let live = pushes.enter();
        async move {
            std::future::pending::<()>().await;
            drop(live);
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    let client = Peer::new(config()).unwrap();
    for _ in 0..3 {
        let session = client.dial(&addr.to_string()).await.unwrap();
        for _ in 0..20 {
            let caller = session.clone();
            tokio::spawn(async move { caller.call::<()>("/slow", &()).await });
            session.push("/slow_push", &()).await.unwrap();
        }
        eventually(|| server.handlers_in_flight() >= 40).await;
        session.close().await;
    }
    // Their replies have nowhere to go: the handlers' futures are dropped with the session.
    eventually(|| server.session_count() == 0).await;
    eventually(|| alive.count() == 0 && server.handlers_in_flight() == 0).await;
    // And a graceful shutdown has nothing left to wait for.
    server.shutdown(Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_client_that_pipelines_slow_calls_and_leaves_orphans_nothing() {
    let alive = Alive::default();
    let server = Peer::new(config()).unwrap();
    let calls = alive.clone();
    server.route_call_fn("/slow", move |_ctx: CallCtx, _: ()| {
        let live = calls.enter();
        async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(live);
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    let mut frames = Vec::new();
    let proto = teleport::RawProto::default();
    for seq in 1..=200 {
        let mut call = teleport::Message::new(teleport::MessageType::Call, seq, "/slow");
        call.body_codec = teleport::codec::JSON;
        call.body = bytes::Bytes::from_static(b"null");
        let mut wire = bytes::BytesMut::new();
        teleport::Proto::encode(&proto, &call, &mut wire).unwrap();
        frames.extend_from_slice(&wire);
    }
    let mut stream = TcpStream::connect(addr.to_string()).await.unwrap();
    stream.write_all(&frames).await.unwrap();
    eventually(|| alive.count() == 200).await;
    drop(stream);
    eventually(|| alive.count() == 0 && server.handlers_in_flight() == 0).await;
}
