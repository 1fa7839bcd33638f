//! Auth: the handshake before a session opens, refusals, redials, Go's frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use teleport::plugin::auth::{Bearer, Checker, Granted};
use teleport::{
    CallCtx, MessageType, Peer, PeerConfig, Proto, RawProto, Session, SessionState, Status, codec,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::common::{RawClient, config, eventually, go_frame, wait_state};

/// Go's checker: "client-auth-info-12345" passes, anything else gets Go's 403.
fn go_checker() -> Checker {
    Checker::new(|session: Session, info: String| async move {
        if info != "client-auth-info-12345" {
            return Err(Status::new(403, "auth fail").cause("auth fail detail"));
        }
        session.store().insert(User(info));
        Ok("pass")
    })
}

#[derive(Clone)]
struct User(String);

/// A server with `checker` and a `/math/add` that counts its runs.
async fn server(checker: Checker) -> (Peer, String, Arc<AtomicUsize>) {
    let server = Peer::builder(config()).plugin(checker).build().unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    server.route_call_fn("/math/add", move |ctx: CallCtx, nums: Vec<i64>| {
        counted.fetch_add(1, Ordering::SeqCst);
        let user = ctx.session().store().get::<User>().map(|u| u.0);
        async move {
            assert_eq!(ctx.seq(), 2, "the first call after auth is seq 2");
            assert!(user.is_some(), "the checker stored the user");
            Ok(nums.iter().sum::<i64>())
        }
    });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr, runs)
}

fn go_bearer(info: &'static str) -> Bearer {
    Bearer::new(move |_session| async move { Ok(info) }).codec(codec::PLAIN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_auth_frames_get_gos_answers_then_the_session_opens() {
    let (_server, addr, runs) = server(go_checker()).await;
    let mut go = RawClient::connect(&addr).await;
    go.send(&go_frame("auth_call")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("auth_reply_pass"));
    go.send(&go_frame("auth_then_call_math_add")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("auth_then_reply_15"));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_refusal_frames_and_frames_pipelined_behind_them_run_nothing() {
    let checker = Checker::new(|_session: Session, _info: String| async move {
        Err::<(), _>(Status::new(403, "auth fail").cause("auth fail detail"))
    });
    let (_server, addr, runs) = server(checker).await;
    let mut go = RawClient::connect(&addr).await;
    // The refused auth call and a call right behind it, in one write.
    let mut frames = go_frame("auth_call_refused");
    frames.extend(go_frame("auth_then_call_math_add"));
    go.send(&frames).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("auth_reply_403"));
    go.wait_closed().await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_and_checker_open_the_session_with_the_checkers_id_and_reply() {
    let checker = Checker::new(|session: Session, info: String| async move {
        session.set_id(format!("user-{info}"));
        session.store().insert(User(info));
        Ok(vec!["admin"])
    })
    .codec(codec::JSON);
    let (server, addr, runs) = server(checker).await;
    let client = Peer::builder(config()).plugin(go_bearer("7")).build().unwrap();
    let session = client.dial(&addr).await.unwrap();
    let granted = session.store().get::<Granted>().unwrap();
    assert_eq!(granted.codec, codec::JSON);
    assert_eq!(granted.decode::<Vec<String>>().unwrap(), ["admin"]);
    assert_eq!(session.call::<i64>("/math/add", &[1, 2, 3]).await.unwrap(), 6);
    assert!(server.get_session("user-7").is_some());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dial_fails_with_the_checkers_status() {
    let (server, addr, runs) = server(go_checker()).await;
    let client = Peer::builder(config()).plugin(go_bearer("wrong")).build().unwrap();
    let err = client.dial(&addr).await.unwrap_err();
    assert_eq!(
        (err.code(), err.msg(), err.cause_text()),
        (403, "auth fail", Some("auth fail detail"))
    );
    eventually(|| server.session_count() == 0 && client.session_count() == 0).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_calls_first_gets_401_and_is_closed() {
    let (server, addr, runs) = server(go_checker()).await;
    let client = Peer::new(config()).unwrap();
    let session = client.dial(&addr).await.unwrap();
    let err = session.call::<i64>("/math/add", &[1]).await.unwrap_err();
    assert_eq!(err.code(), 401, "{err}");
    wait_state(&session, SessionState::Closed).await;
    eventually(|| server.session_count() == 0).await;
    // A push first: no answer, closed all the same.
    let session = client.dial(&addr).await.unwrap();
    session.push("/math/add", &[1]).await.unwrap();
    wait_state(&session, SessionState::Closed).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_refused_after_the_auth_timeout() {
    let checker = go_checker().timeout(Duration::from_millis(100));
    let (server, addr, _runs) = server(checker).await;
    let mut silent = RawClient::connect(&addr).await;
    silent.wait_closed().await;
    eventually(|| server.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bearers_fail_the_dial() {
    let (_server, addr, _runs) = server(go_checker()).await;
    let failing = Bearer::new(|_session| async { Err::<String, _>(Status::new(1001, "no token")) });
    let client = Peer::builder(config()).plugin(failing).build().unwrap();
    assert_eq!(client.dial(&addr).await.unwrap_err().code(), 1001);
    // A server without a checker answers AUTH_CALL with 405.
    let plain = Peer::new(config()).unwrap();
    let plain_addr = plain.listen().await.unwrap().to_string();
    let client = Peer::builder(config()).plugin(go_bearer("x")).build().unwrap();
    assert_eq!(client.dial(&plain_addr).await.unwrap_err().code(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_runs_again_on_every_redial() {
    let checks = Arc::new(AtomicUsize::new(0));
    let counted = checks.clone();
    let checker = Checker::new(move |session: Session, info: String| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            session.store().insert(User(info));
            Ok("pass")
        }
    });
    let (server, addr, _runs) = server(checker).await;
    let bearings = Arc::new(AtomicUsize::new(0));
    let counted = bearings.clone();
    let bearer = Bearer::new(move |_session| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok("client-auth-info-12345") }
    });
    let client_config =
        PeerConfig { redial_times: 10, redial_interval: Duration::from_millis(10), ..config() };
    let client = Peer::builder(client_config).plugin(bearer).build().unwrap();
    let session = client.dial(&addr).await.unwrap();
    for round in 1..=3 {
        assert_eq!(bearings.load(Ordering::SeqCst), round);
        eventually(|| checks.load(Ordering::SeqCst) == round && server.session_count() == 1).await;
        let served = server.sessions().pop().unwrap();
        served.close().await;
        eventually(|| bearings.load(Ordering::SeqCst) == round + 1).await;
        wait_state(&session, SessionState::Connected).await;
    }
    let mut state = session.watch_state();
    state.wait_for(|s| *s == SessionState::Connected).await.unwrap();
    assert!(session.store().get::<Granted>().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_auth_call_is_refused_and_closes_the_session() {
    let (server, addr, runs) = server(go_checker()).await;
    let mut go = RawClient::connect(&addr).await;
    go.send(&go_frame("auth_call")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("auth_reply_pass"));
    go.send(&go_frame("auth_call")).await;
    let mut reply = BytesMut::from(&go.recv().await.unwrap()[..]);
    let reply = RawProto::default().decode(&mut reply).unwrap().unwrap();
    assert_eq!((reply.mtype, reply.status.code()), (MessageType::AuthReply, 405));
    let cause = reply.status.cause_text().unwrap_or_default();
    assert!(cause.contains("already authenticated"), "{cause}");
    go.wait_closed().await;
    eventually(|| server.session_count() == 0).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// Go's checker, counting its runs.
fn counted_checker() -> (Checker, Arc<AtomicUsize>) {
    let checks = Arc::new(AtomicUsize::new(0));
    let counted = checks.clone();
    let checker = Checker::new(move |session: Session, info: String| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if info != "client-auth-info-12345" {
                return Err(Status::new(403, "auth fail").cause("auth fail detail"));
            }
            session.store().insert(User(info));
            Ok("pass")
        }
    });
    (checker, checks)
}

async fn dial_code(addr: &str, info: &'static str) -> i32 {
    let client = Peer::builder(config()).plugin(go_bearer(info)).build().unwrap();
    match client.dial(addr).await {
        Ok(session) => {
            session.close().await;
            0
        }
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_limited_per_remote_ip() {
    let (checker, checks) = counted_checker();
    let checker = checker.max_failures(2, Duration::from_secs(3600));
    let (_server, addr, _runs) = server(checker).await;
    assert_eq!(dial_code(&addr, "wrong").await, 403);
    assert_eq!(dial_code(&addr, "wrong").await, 403);
    // The limit is reached: even good credentials are refused at once, unchecked.
    let client = Peer::builder(config()).plugin(go_bearer("client-auth-info-12345")).build();
    let err = client.unwrap().dial(&addr).await.unwrap_err();
    assert_eq!(err.code(), 401, "{err}");
    let cause = err.cause_text().unwrap_or_default();
    assert!(cause.contains("too many failed auth attempts from 127.0.0.1"), "{cause}");
    assert_eq!(checks.load(Ordering::SeqCst), 2);
    // A Go client gets the refusal as the answer to its AUTH_CALL, and is closed.
    let mut go = RawClient::connect(&addr).await;
    go.send(&go_frame("auth_call")).await;
    let mut reply = BytesMut::from(&go.recv().await.unwrap()[..]);
    let reply = RawProto::default().decode(&mut reply).unwrap().unwrap();
    assert_eq!((reply.mtype, reply.status.code()), (MessageType::AuthReply, 401));
    go.wait_closed().await;
    // Another address is not limited.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr.parse().unwrap()).await.unwrap();
    other.write_all(&go_frame("auth_call")).await.unwrap();
    let mut reply = vec![0; go_frame("auth_reply_pass").len()];
    let read = tokio::time::timeout(Duration::from_secs(20), other.read_exact(&mut reply));
    read.await.expect("no answer in time").unwrap();
    assert_eq!(reply, go_frame("auth_reply_pass"));
    assert_eq!(checks.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_forgets_the_failures_and_zero_turns_the_limit_off() {
    let (checker, checks) = counted_checker();
    let (_server, addr, _runs) = server(checker.max_failures(2, Duration::from_secs(3600))).await;
    assert_eq!(dial_code(&addr, "wrong").await, 403);
    assert_eq!(dial_code(&addr, "client-auth-info-12345").await, 0);
    assert_eq!(dial_code(&addr, "wrong").await, 403);
    assert_eq!(dial_code(&addr, "client-auth-info-12345").await, 0);
    assert_eq!(checks.load(Ordering::SeqCst), 4);

    let (checker, checks) = counted_checker();
    let (_server, addr, _runs) = server(checker.max_failures(0, Duration::from_secs(3600))).await;
    for _ in 0..3 {
        assert_eq!(dial_code(&addr, "wrong").await, 403);
    }
    assert_eq!(dial_code(&addr, "client-auth-info-12345").await, 0);
    assert_eq!(checks.load(Ordering::SeqCst), 4);
}
