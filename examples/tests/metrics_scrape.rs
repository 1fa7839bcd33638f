//! Teleport's metrics, scraped from the Prometheus exporter's HTTP endpoint: the counters
//! move with the calls, pushes, errors and sessions of two peers over loopback.

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use teleport::{CallCtx, Peer, PeerConfig, PushCtx, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let matches = series.split('{').next() == Some(name)
            && labels.iter().all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

async fn scrape(addr: SocketAddr) -> String {
    for _ in 0..200 {
        if let Ok(mut conn) = tokio::net::TcpStream::connect(addr).await {
            let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            conn.write_all(request).await.unwrap();
            let mut text = String::new();
            conn.read_to_string(&mut text).await.unwrap();
            return text;
        }
        // The exporter's listener starts in a task of its own.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the exporter does not answer on {addr}");
}

/// Waits (bounded) until a scrape shows what `check` wants; returns that scrape.
async fn scrape_until(addr: SocketAddr, check: impl Fn(&str) -> bool) -> String {
    for _ in 0..400 {
        let text = scrape(addr).await;
        if check(&text) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("metrics did not move as expected:\n{}", scrape(addr).await);
}

#[tokio::test]
async fn counters_move_with_calls_pushes_errors_and_sessions() {
    // The exporter takes an address, not a listener: a port the kernel just handed out. It
    // binds it before `install` returns, so a port taken meanwhile by another process is a
    // failed install, and the next free port is tried.
    let scrape_at = (0..20)
        .find_map(|_| {
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let at = free.local_addr().unwrap();
            drop(free);
            PrometheusBuilder::new().with_http_listener(at).install().ok().map(|()| at)
        })
        .expect("the exporter could not listen on any of 20 free ports");

    let loopback = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let server = Peer::new(loopback.clone()).unwrap();
    server.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok::<_, Status>(nums.iter().sum::<i64>())
    });
    server.route_push_fn(
        "/chat/say",
        |_ctx: PushCtx, _text: String| async move { Ok::<_, Status>(()) },
    );
    let addr = server.listen().await.unwrap().to_string();
    let client = Peer::new(loopback).unwrap();
    let session = client.dial(&addr).await.unwrap();

    for _ in 0..3 {
        session.call::<i64>("/math/add", &[1, 2, 3]).await.unwrap();
    }
    session.push("/chat/say", "hi").await.unwrap();
    assert_eq!(session.call::<i64>("/math/sub", &[1]).await.unwrap_err().code(), 404);

    let add = |side| [("route", "/math/add"), ("side", side)];
    let text = scrape_until(scrape_at, |t| {
        sample(t, "teleport_pushes_total", &[("route", "/chat/say"), ("side", "server")])
            == Some(1.0)
    })
    .await;
    for side in ["client", "server"] {
        assert_eq!(sample(&text, "teleport_calls_total", &add(side)), Some(3.0), "{text}");
        assert_eq!(sample(&text, "teleport_in_flight", &add(side)), Some(0.0), "{text}");
        assert_eq!(
            sample(&text, "teleport_duration_seconds_count", &add(side)),
            Some(3.0),
            "{text}"
        );
        let missing = [("route", "/math/sub"), ("side", side), ("code", "404")];
        assert_eq!(sample(&text, "teleport_errors_total", &missing), Some(1.0), "{text}");
    }
    // [1,2,3] is 7 body bytes out of the client and into the server; 6 is 1 byte back.
    assert_eq!(sample(&text, "teleport_bytes_out_total", &add("client")), Some(21.0), "{text}");
    assert_eq!(sample(&text, "teleport_bytes_in_total", &add("server")), Some(21.0), "{text}");
    assert_eq!(sample(&text, "teleport_bytes_in_total", &add("client")), Some(3.0), "{text}");
    assert_eq!(
        sample(&text, "teleport_pushes_total", &[("route", "/chat/say"), ("side", "client")]),
        Some(1.0)
    );
    assert_eq!(sample(&text, "teleport_sessions", &[]), Some(2.0), "{text}");
    assert!(sample(&text, "teleport_outbound_queued_bytes", &[]).is_some(), "{text}");

    // They move on.
    session.call::<i64>("/math/add", &[4]).await.unwrap();
    scrape_until(scrape_at, |t| sample(t, "teleport_calls_total", &add("server")) == Some(4.0))
        .await;

    // A connection closed: both sides count it by reason; the sessions are gone.
    session.close().await;
    let text = scrape_until(scrape_at, |t| sample(t, "teleport_sessions", &[]) == Some(0.0)).await;
    let closed = |reason| sample(&text, "teleport_connections_closed_total", &[("reason", reason)]);
    assert_eq!(closed("closed"), Some(1.0), "{text}");
    assert_eq!(closed("eof"), Some(1.0), "{text}");
}
