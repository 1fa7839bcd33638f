//! Heartbeat: pings keep idle sessions alive, the pong closes silent ones; paused time.

use std::time::Duration;

use teleport::plugin::heartbeat::{self, Ping, Pong};
use teleport::transport::memory;
use teleport::{CallCtx, Message, MessageType, Peer, PeerConfig, Session, SessionState};

use crate::common::{RawClient, config, go_frame, wait_state};

const SECOND: Duration = Duration::from_secs(1);

/// A server with a pong and `/echo`, and a client built by `client`, over memory.
async fn memory_pair(client: teleport::PeerBuilder) -> (Peer, Session, Session) {
    let server = Peer::builder(PeerConfig::default()).plugin(Pong::new()).build().unwrap();
    server.route_call_fn("/echo", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let client = client.build().unwrap();
    let (a, b) = memory::pair();
    let served = server.serve_conn(a).await.unwrap();
    let session = client.serve_conn(b).await.unwrap();
    (server, served, session)
}

/// Sends one heartbeat announcing `rate` seconds, as a call.
async fn beat(session: &Session, rate: &str) -> Result<Message, teleport::Status> {
    let mut msg = Message::new(MessageType::Call, 0, heartbeat::SERVICE_METHOD);
    msg.meta.set(heartbeat::META_RATE, rate);
    msg.body_codec = teleport::codec::JSON;
    session.call_raw(msg, None).await
}

#[tokio::test(start_paused = true)]
async fn pings_keep_an_idle_session_alive_and_the_pong_learns_their_rate() {
    for use_call in [true, false] {
        let ping = Ping::new(Duration::from_secs(10), use_call);
        let (_server, served, session) =
            memory_pair(Peer::builder(PeerConfig::default()).plugin(ping)).await;
        tokio::time::sleep(300 * SECOND).await;
        assert!(session.health() && served.health(), "use_call={use_call}");
        assert_eq!(heartbeat::announced_rate(&served), Some(10 * SECOND));
    }
}

#[tokio::test(start_paused = true)]
async fn the_pong_closes_a_peer_silent_for_twice_its_rate() {
    let (_server, served, session) = memory_pair(Peer::builder(PeerConfig::default())).await;
    let reply = beat(&session, "5").await.unwrap();
    assert_eq!(&reply.body[..], b"null");
    tokio::time::sleep(9 * SECOND).await;
    assert!(served.health(), "closed before twice the rate");
    tokio::time::sleep(2 * SECOND).await;
    wait_state(&served, SessionState::Closed).await;
    wait_state(&session, SessionState::Closed).await;
}

#[tokio::test(start_paused = true)]
async fn any_traffic_keeps_a_busy_peer_alive() {
    let (_server, served, session) = memory_pair(Peer::builder(PeerConfig::default())).await;
    beat(&session, "5").await.unwrap();
    for n in 0..40 {
        tokio::time::sleep(4 * SECOND).await;
        assert_eq!(session.call::<u32>("/echo", &n).await.unwrap(), n);
    }
    assert!(served.health());
}

#[tokio::test(start_paused = true)]
async fn announced_rates_are_clamped_and_bad_ones_refused() {
    let (_server, served, session) = memory_pair(Peer::builder(PeerConfig::default())).await;
    beat(&session, "3").await.unwrap(); // Go's minimum
    assert_eq!(heartbeat::announced_rate(&served), Some(5 * SECOND));
    beat(&session, "0").await.unwrap();
    assert_eq!(heartbeat::announced_rate(&served), Some(5 * SECOND));
    beat(&session, "86400").await.unwrap();
    assert_eq!(heartbeat::announced_rate(&served), Some(300 * SECOND));
    beat(&session, "").await.unwrap(); // no rate: keeps the last
    assert_eq!(heartbeat::announced_rate(&served), Some(300 * SECOND));
    for bad in ["-1", "x", "1e3", "99999999999999999999"] {
        let err = beat(&session, bad).await.unwrap_err();
        assert_eq!(err.code(), 400, "{bad}");
    }
    assert_eq!(heartbeat::clamp_rate(Duration::from_millis(5_001)), 6 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_ping_closes_the_session() {
    let server = Peer::new(PeerConfig::default()).unwrap();
    // A "pong" that never answers.
    server.route_call_fn(heartbeat::SERVICE_METHOD, |_ctx: CallCtx, _: ()| async move {
        std::future::pending::<Result<(), teleport::Status>>().await
    });
    let ping = Ping::new(5 * SECOND, true);
    let client = Peer::builder(PeerConfig::default()).plugin(ping).build().unwrap();
    let (a, b) = memory::pair();
    server.serve_conn(a).await.unwrap();
    let session = client.serve_conn(b).await.unwrap();
    tokio::time::sleep(4 * SECOND).await;
    assert!(session.health());
    wait_state(&session, SessionState::Closed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_heartbeat_frames_get_gos_answers_over_tcp() {
    let server = Peer::builder(config()).plugin(Pong::new()).build().unwrap();
    assert!(server.call_routes().contains(&heartbeat::SERVICE_METHOD.to_owned()));
    assert!(server.push_routes().contains(&heartbeat::SERVICE_METHOD.to_owned()));
    let addr = server.listen().await.unwrap().to_string();
    let mut go = RawClient::connect(&addr).await;
    go.send(&go_frame("heartbeat_call")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("heartbeat_call_reply"));
    // A push gets no answer: the next frame is the reply to the call after it.
    go.send(&go_frame("heartbeat_push")).await;
    go.send(&go_frame("heartbeat_call_2")).await;
    assert_eq!(go.recv().await.unwrap(), go_frame("heartbeat_call_reply_2"));
    let served = server.sessions().pop().unwrap();
    assert_eq!(heartbeat::announced_rate(&served), Some(5 * SECOND));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_over_tcp_reaches_the_pong() {
    let server = Peer::builder(config()).plugin(Pong::new()).build().unwrap();
    let addr = server.listen().await.unwrap().to_string();
    let ping = Ping::new(Duration::from_secs(42), true);
    let client = Peer::builder(config()).plugin(ping.clone()).build().unwrap();
    let session = client.dial(&addr).await.unwrap();
    ping.ping(&session).await.unwrap();
    let served = server.sessions().pop().unwrap();
    assert_eq!(heartbeat::announced_rate(&served), Some(42 * SECOND));
    ping.set_use_call(false);
    ping.set_rate(Duration::from_secs(7));
    ping.ping(&session).await.unwrap();
    crate::common::eventually(|| heartbeat::announced_rate(&served) == Some(7 * SECOND)).await;
}
