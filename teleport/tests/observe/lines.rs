//! Go Teleport's per-message lines (`print_detail`, `count_time`, `slow_comet_duration`),
//! on the side that sends and on the side that handles.

use std::time::Duration;

use teleport::{CallCtx, PeerConfig, PushCtx, Session, Status};
use tracing::Level;

use super::capture::{Captured, EventRecord};
use super::wait::eventually;
use super::{config, dial, server};

const DETAIL: &str = "teleport::detail";

async fn math(
    server_config: PeerConfig,
    client_config: PeerConfig,
) -> (Vec<teleport::Peer>, Session, String) {
    let (server, addr) = server(server_config, |peer| {
        peer.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
            ctx.set_meta("by", "adder");
            Ok::<_, Status>(nums.iter().sum::<i64>())
        });
        peer.route_call_fn("/math/slow", |_ctx: CallCtx, ms: u64| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, Status>(ms)
        });
        peer.route_push_fn("/chat/say", |_ctx: PushCtx, _text: String| async move {
            Ok::<_, Status>(())
        });
    })
    .await;
    let (client, session) = dial(client_config, &addr).await;
    (vec![server, client], session, addr)
}

fn line<'a>(lines: &'a [EventRecord], start: &str, route: &str) -> &'a EventRecord {
    let route = format!("{route:?}");
    lines
        .iter()
        .find(|l| l.message.starts_with(start) && l.message.contains(&route))
        .unwrap_or_else(|| panic!("no {start} line for {route} in {lines:#?}"))
}

#[tokio::test(flavor = "current_thread")]
async fn each_side_logs_one_line_per_message_at_debug() {
    let (captured, _guard) = Captured::install(Level::DEBUG);
    let (_peers, session, addr) = math(config(), config()).await;
    let client_addr = session.local_addr().to_string();
    assert_eq!(session.call::<i64>("/math/add", &[1, 2, 3]).await.unwrap(), 6);
    session.push("/chat/say", "hi").await.unwrap();
    eventually(|| captured.lines(DETAIL).len() == 4).await;
    let lines = captured.lines(DETAIL);
    assert!(lines.iter().all(|l| l.level == Level::DEBUG), "{lines:#?}");
    let reply = r#"{"seq":1,"mtype":2,"size":1,"status":"code=0"}"#;
    assert_eq!(
        line(&lines, "CALL->", "/math/add").message,
        format!(
            r#"CALL-> {addr} (-) "/math/add" SEND({{"seq":1,"mtype":1,"size":7}}) RECV({reply})"#
        )
    );
    assert_eq!(
        line(&lines, "CALL<-", "/math/add").message,
        format!(
            r#"CALL<- {client_addr} (-) "/math/add" RECV({{"seq":1,"mtype":1,"size":7}}) SEND({reply})"#
        )
    );
    assert_eq!(
        line(&lines, "PUSH->", "/chat/say").message,
        format!(r#"PUSH-> {addr} (-) "/chat/say" SEND({{"seq":2,"mtype":3,"size":4}})"#)
    );
    assert_eq!(
        line(&lines, "PUSH<-", "/chat/say").message,
        format!(r#"PUSH<- {client_addr} (-) "/chat/say" RECV({{"seq":2,"mtype":3,"size":4}})"#)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn print_detail_shows_meta_and_bodies_at_info_cut_at_print_body_max() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let detailed =
        PeerConfig { print_detail: true, count_time: true, print_body_max: 12, ..config() };
    let (_peers, session, _addr) = math(detailed.clone(), detailed).await;
    let options = teleport::CallOptions::new().set_meta("user", "ann lee");
    session.call_with::<i64>("/math/add", &[1, 2, 3], &options).await.unwrap();
    session.push("/chat/say", &"x".repeat(40)).await.unwrap();
    eventually(|| captured.lines(DETAIL).len() == 4).await;
    let lines = captured.lines(DETAIL);
    assert!(lines.iter().all(|l| l.level == Level::INFO), "{lines:#?}");
    for start in ["CALL->", "CALL<-"] {
        let text = &line(&lines, start, "/math/add").message;
        assert!(text.contains("(fast)") || text.contains("(slow)"), "{text}");
        assert!(text.contains(r#""size":7,"meta":"#) && text.contains("user=ann%20lee"), "{text}");
        assert!(text.contains(r#""body":[1,2,3]"#), "{text}");
        assert!(text.contains(r#""status":"code=0","meta":"by=adder","body":6}"#), "{text}");
    }
    for start in ["PUSH->", "PUSH<-"] {
        let text = &line(&lines, start, "/chat/say").message;
        // The JSON string body, 42 bytes with its quotes, cut at 12.
        assert!(text.contains(r#""body":"\"xxxxxxxxxxx"...(+30 bytes)})"#), "{text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn slow_calls_warn_on_both_sides() {
    let (captured, _guard) = Captured::install(Level::WARN);
    let timed =
        PeerConfig { count_time: true, slow_comet_duration: Duration::from_millis(30), ..config() };
    let (_peers, session, _addr) = math(timed.clone(), timed).await;
    session.call::<u64>("/math/slow", &60u64).await.unwrap();
    eventually(|| captured.lines(DETAIL).len() == 2).await;
    let lines = captured.lines(DETAIL);
    for start in ["CALL->", "CALL<-"] {
        let warned = line(&lines, start, "/math/slow");
        assert_eq!(warned.level, Level::WARN);
        assert!(warned.message.contains("(slow)"), "{}", warned.message);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_call_shows_its_status_on_both_sides() {
    let (captured, _guard) = Captured::install(Level::DEBUG);
    let (_peers, session, _addr) = math(config(), config()).await;
    session.call::<i64>("/math/none", &[1]).await.unwrap_err();
    eventually(|| captured.lines(DETAIL).len() == 2).await;
    let lines = captured.lines(DETAIL);
    for start in ["CALL->", "CALL<-"] {
        let text = &line(&lines, start, "/math/none").message;
        assert!(text.contains(r#""status":"code=404&msg=Not%20Found"#), "{text}");
    }
}
