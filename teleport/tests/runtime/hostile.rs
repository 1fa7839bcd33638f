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
    let dial =
        teleport::peer::DialOptions { timeout: Some(Duration::from_secs(8)), ..Default::default() };
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

/// Connects `n` raw clients that never read, with small kernel buffers so that the server's
/// queues fill soon; waits until the server lists them.
async fn non_readers(server: &Peer, addr: &teleport::transport::Addr, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        streams.push(socket.connect(addr.to_string().parse().unwrap()).await.unwrap());
    }
    eventually(|| server.session_count() == n).await;
    streams
}

fn small_queues() -> teleport::PeerConfig {
    teleport::PeerConfig {
        max_frame: 128 << 10,
        max_outbound_bytes: 512 << 10,
        max_outbound_bytes_total: 1 << 20,
        write_buffer_size: 4096,
        write_timeout: Duration::from_secs(60),
        ..config()
    }
}

const FRAME_ROOM: usize = (64 << 10) + 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_queue_bound_covers_what_its_writer_holds() {
    let server =
        Peer::new(teleport::PeerConfig { max_outbound_bytes_total: 64 << 20, ..small_queues() })
            .unwrap();
    let addr = server.listen().await.unwrap();
    let _streams = non_readers(&server, &addr, 1).await;
    let session = server.sessions().pop().unwrap();
    let body = "x".repeat(60 << 10);
    let mut most = 0;
    for _ in 0..200 {
        let options = CallOptions::new().timeout(Duration::from_millis(200));
        if session.push_with("/news", &body, &options).await.is_err() {
            break;
        }
        most = most.max(server.outbound_stats().queued_bytes);
    }
    // The writer's batch counts against the bound: the queue never holds more than the
    // bound plus the frame that crossed it (it used to reach twice the bound and more).
    assert!(most > 0 && most <= (512 << 10) + FRAME_ROOM, "queued {most}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_wide_budget_holds_and_push_policies_apply() {
    let policies = [
        ("/news".to_owned(), teleport::PushPolicy::DropNewest),
        ("/state".to_owned(), teleport::PushPolicy::DropOldest),
        ("/bulk".to_owned(), teleport::PushPolicy::CloseSlowest),
    ];
    let server = Peer::new(teleport::PeerConfig {
        push_policies: policies.into_iter().collect(),
        ..small_queues()
    })
    .unwrap();
    let addr = server.listen().await.unwrap();
    let streams = non_readers(&server, &addr, 6).await;
    let body = "x".repeat(60 << 10);
    let bound = (1 << 20) + FRAME_ROOM;

    // Drop newest: a broadcast never waits, and the peer's queues stay within the budget.
    let mut dropped = 0;
    for _ in 0..40 {
        for session in server.sessions() {
            match session.push("/news", &body).await {
                Err(status) if status.code() == teleport::status::CODE_WRITE_FAILED => dropped += 1,
                _ => {}
            }
            let queued = server.outbound_stats().queued_bytes;
            assert!(queued <= bound, "queued {queued} over {bound}");
        }
    }
    let stats = server.outbound_stats();
    assert!(dropped > 0 && stats.dropped_newest == dropped, "{stats:?}, {dropped} dropped");

    // Latest wins: a state update replaces the one still queued for its session.
    let session = server.sessions().pop().unwrap();
    for version in 0..10 {
        session.push("/state", &format!("{version}{body}")).await.unwrap_or(());
    }
    let stats = server.outbound_stats();
    assert_eq!(stats.dropped_oldest, 9, "{stats:?}");
    // The one update over the bound that latest-wins allows.
    assert!(stats.queued_bytes <= bound + FRAME_ROOM, "{stats:?}");

    // Close the slowest: the session with the most queued bytes goes, and its bytes
    // come back to the budget.
    let before = server.session_count();
    let options = CallOptions::new().timeout(Duration::from_millis(500));
    let _ = session.push_with("/bulk", &body, &options).await;
    eventually(|| server.session_count() < before).await;
    let stats = server.outbound_stats();
    assert!(stats.closed_slowest >= 1, "{stats:?}");
    // The clients go (closing with unread data resets): every byte left comes back.
    drop(streams);
    eventually(|| server.outbound_stats().queued_bytes == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_handler_runs_off_the_read_loop() {
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let entered_tx = std::sync::Mutex::new(entered_tx);
    let server = Peer::new(config()).unwrap();
    server.route_call_blocking_fn("/slow/io", move |_ctx: &CallCtx, n: u32| {
        entered_tx.lock().unwrap().send(()).unwrap();
        // Blocks its thread, as file I/O or a long computation would.
        let released = release_rx.lock().unwrap().recv_timeout(Duration::from_secs(30));
        released.map(|()| n).map_err(|e| teleport::Status::with_code(500, e.to_string()))
    });
    server.route_call_blocking_fn("/slow/boom", |_ctx: &CallCtx, _: ()| -> Result<(), _> {
        panic!("blocking handler blew up")
    });
    server.route_call_sync_fn("/math/add", |_ctx: &CallCtx, nums: Vec<i64>| {
        Ok::<_, teleport::Status>(nums.iter().sum::<i64>())
    });
    let addr = server.listen().await.unwrap().to_string();
    let client = Peer::new(config()).unwrap();
    let blocked = client.dial(&addr).await.unwrap();
    let other = client.dial(&addr).await.unwrap();

    let slow = tokio::spawn({
        let blocked = blocked.clone();
        async move { blocked.call::<u32>("/slow/io", &5u32).await }
    });
    tokio::task::spawn_blocking(move || entered_rx.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the blocking handler started");
    // While it blocks, its own session and every other one are served.
    assert_eq!(other.call::<i64>("/math/add", &[1, 2]).await.unwrap(), 3);
    assert_eq!(blocked.call::<i64>("/math/add", &[3, 4]).await.unwrap(), 7);
    assert!(!slow.is_finished());
    release_tx.send(()).unwrap();
    assert_eq!(slow.await.unwrap().unwrap(), 5);

    let err = other.call::<()>("/slow/boom", &()).await.unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_INTERNAL_SERVER_ERROR);
    assert!(err.cause_text().unwrap().contains("blocking handler blew up"), "{err}");
}

/// A writer of log lines into a shared buffer.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_handler_holding_the_read_loop_is_named_once() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = Peer::new(teleport::PeerConfig {
        sync_handler_warning: Duration::from_millis(20),
        ..config()
    })
    .unwrap();
    server.route_call_sync_fn("/sleepy", |_ctx: &CallCtx, ms: u64| {
        std::thread::sleep(Duration::from_millis(ms));
        Ok::<_, teleport::Status>(ms)
    });
    let addr = server.listen().await.unwrap().to_string();
    let session = Peer::new(config()).unwrap().dial(&addr).await.unwrap();
    for _ in 0..3 {
        session.call::<u64>("/sleepy", &30u64).await.unwrap();
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("held its connection")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("/sleepy") && warnings[0].contains("#[tp(blocking)]"), "{text}");
}

/// A call frame of the raw protocol, JSON body `null`.
fn raw_call(seq: i32, route: &str) -> Vec<u8> {
    let mut call = teleport::Message::new(teleport::MessageType::Call, seq, route);
    call.body_codec = teleport::codec::JSON;
    call.body = bytes::Bytes::from_static(b"null");
    let mut wire = bytes::BytesMut::new();
    teleport::Proto::encode(&teleport::RawProto::default(), &call, &mut wire).unwrap();
    wire.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seq_reused_while_its_call_runs_closes_the_connection() {
    use tokio::io::AsyncReadExt;
    let alive = Alive::default();
    let started = Arc::new(AtomicUsize::new(0));
    let server = Peer::new(config()).unwrap();
    let (calls, count) = (alive.clone(), started.clone());
    server.route_call_fn("/slow", move |_ctx: CallCtx, _: ()| {
        count.fetch_add(1, Ordering::SeqCst);
        let live = calls.enter();
        async move {
            std::future::pending::<()>().await;
            drop(live);
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    let mut stream = TcpStream::connect(addr.to_string()).await.unwrap();
    stream.write_all(&raw_call(5, "/slow")).await.unwrap();
    eventually(|| started.load(Ordering::SeqCst) == 1).await;
    stream.write_all(&raw_call(5, "/slow")).await.unwrap();
    // The connection is closed instead of running the call twice and answering it twice.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest)).await;
    assert!(read.expect("closed").is_ok() && rest.is_empty(), "{rest:?}");
    assert_eq!(started.load(Ordering::SeqCst), 1);
    eventually(|| alive.count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_on_a_redialing_session_fails_fast_unless_it_waits() {
    let server = Peer::new(config()).unwrap();
    server.route_call_fn("/echo", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let addr = server.listen().await.unwrap().to_string();
    let client = Peer::new(teleport::PeerConfig {
        redial_times: -1,
        redial_interval: Duration::from_secs(3600),
        redial_max_interval: Duration::from_secs(3600),
        ..config()
    })
    .unwrap();
    let session = client.dial(&addr).await.unwrap();
    assert_eq!(session.call::<u32>("/echo", &1u32).await.unwrap(), 1);
    server.close().await;
    crate::common::wait_state(&session, teleport::SessionState::Redialing).await;

    let err = session.call::<u32>("/echo", &2u32).await.unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_SERVICE_UNAVAILABLE, "{err}");
    assert!(err.cause_text().unwrap().contains("redialing"), "{err}");
    let err = session.push("/echo", &2u32).await.unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_SERVICE_UNAVAILABLE, "{err}");
    // A caller that chose to wait waits, up to its deadline.
    let waiting = CallOptions::new().wait_for_redial().timeout(Duration::from_millis(100));
    let err = session.call_with::<u32>("/echo", &3u32, &waiting).await.unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_HANDLE_TIMEOUT, "{err}");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_grace_period_calls_end_with_a_shutdown_status() {
    let server = Peer::new(config()).unwrap();
    server.route_call_fn("/forever", |_ctx: CallCtx, _: ()| async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    let addr = server.listen().await.unwrap().to_string();
    let client = Peer::new(config()).unwrap();
    client.route_call_fn("/client/forever", |_ctx: CallCtx, _: ()| async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    let session = client.dial(&addr).await.unwrap();
    let inbound = tokio::spawn({
        let session = session.clone();
        async move { session.call::<()>("/forever", &()).await }
    });
    eventually(|| server.handlers_in_flight() == 1).await;
    // The server's own call to the client, pending when it shuts down.
    let back = server.sessions().pop().unwrap();
    let outbound = tokio::spawn(async move { back.call::<()>("/client/forever", &()).await });
    eventually(|| client.handlers_in_flight() == 1).await;

    server.shutdown(Duration::from_millis(50)).await;
    let err = inbound.await.unwrap().unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_SERVICE_UNAVAILABLE, "{err}");
    assert!(err.cause_text().unwrap().contains("before the handler finished"), "{err}");
    let err = outbound.await.unwrap().unwrap_err();
    assert_eq!(err.code(), teleport::status::CODE_SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err.cause_text(), Some("the peer shut down"));
}

/// The backlog the kernel reports for the listening socket on `port` (`ss`'s Send-Q).
fn kernel_backlog(port: u16) -> u32 {
    let out = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .expect("`ss` (iproute2) reads the listen backlog; install iproute2");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or_else(|| panic!("no listener on {port}: {text}"));
    line.split_whitespace().nth(2).and_then(|q| q.parse().ok()).expect("a Send-Q column")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listen_backlog_is_the_configured_one() {
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .map_or(4096, |text| text.trim().parse().unwrap_or(4096));
    for (backlog, config) in
        [(1024, config()), (777, teleport::PeerConfig { listen_backlog: 777, ..config() })]
    {
        let server = Peer::new(config).unwrap();
        let port = match server.listen().await.unwrap() {
            teleport::transport::Addr::Tcp(tcp) => tcp.port(),
            other => panic!("not tcp: {other}"),
        };
        // The kernel caps it at somaxconn (128 before Linux 5.4).
        assert_eq!(kernel_backlog(port), backlog.min(somaxconn));
    }
}
