//! The hostile-peer figures: what a careless or hostile client costs a server, measured over
//! loopback in one process (the clients are raw sockets that hold no memory of their own).
//!
//! Run with `cargo run --release --example faults [1|2|3|4]` (all four without an argument;
//! peak memory is the process's, so measure 3 on its own). It prints, for this machine:
//!
//! 1. how long a new client waits to be served behind 300 connect-then-reset clients;
//! 2. what is left after 110 connections each pipeline 1,000 slow calls and leave after 50 ms;
//! 3. the server's peak memory while 100 sessions never read and it pushes 64 KiB to each;
//! 4. how long a proxy pointed at itself takes to answer, and whether it recovers.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use teleport::plugin::proxy::{Label, Proxy, Scope};
use teleport::{CallCtx, Message, MessageType, Peer, PeerConfig, Proto, RawProto, Session};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

fn config() -> PeerConfig {
    PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() }
}

/// The process's peak resident memory (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        if started.elapsed() > limit {
            println!("   (gave up waiting for {what} after {limit:?})");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

async fn resets() -> Result<(), Box<dyn std::error::Error>> {
    let server = Peer::new(config())?;
    server.route_call_fn("/echo", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let addr = server.listen().await?;
    let target: std::net::SocketAddr = addr.to_string().parse()?;
    for _ in 0..300 {
        let stream = TcpStream::connect(target).await?;
        socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
        drop(stream);
    }
    let started = Instant::now();
    let session = Peer::new(config())?.dial(&addr).await?;
    let n: u32 = session.call("/echo", &7u32).await?;
    println!("1. a new client behind 300 resets was served in {:?} (reply {n})", started.elapsed());
    server.close().await;
    Ok(())
}

fn raw_call(proto: &RawProto, seq: i32, route: &str, wire: &mut bytes::BytesMut) {
    let mut call = Message::new(MessageType::Call, seq, route);
    call.body_codec = teleport::codec::JSON;
    call.body = bytes::Bytes::from_static(b"null");
    proto.encode(&call, wire).expect("a small call encodes");
}

async fn abandoned() -> Result<(), Box<dyn std::error::Error>> {
    let server = Peer::new(config())?;
    server.route_call_fn("/slow", |_ctx: CallCtx, _: ()| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    });
    let addr = server.listen().await?.to_string();
    let (proto, mut wire) = (RawProto::default(), bytes::BytesMut::new());
    for seq in 1..=1000 {
        raw_call(&proto, seq, "/slow", &mut wire);
    }
    let mut tasks = Vec::new();
    for _ in 0..110 {
        let (addr, frames) = (addr.clone(), wire.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.write_all(&frames).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, std::io::Error>(())
        }));
    }
    let mut most = 0;
    for task in tasks {
        task.await??;
        most = most.max(server.handlers_in_flight());
    }
    let took = wait_until("the handlers to end", Duration::from_secs(30), || {
        server.handlers_in_flight() == 0 && server.session_count() == 0
    })
    .await;
    println!(
        "2. 110 connections x 1,000 slow calls, gone after 50 ms: up to {most} handlers ran; \
         {} left {took:?} after the last one closed, {} sessions",
        server.handlers_in_flight(),
        server.session_count()
    );
    let started = Instant::now();
    server.shutdown(Duration::from_secs(30)).await;
    println!("   graceful shutdown then took {:?}", started.elapsed());
    Ok(())
}

async fn non_readers() -> Result<(), Box<dyn std::error::Error>> {
    let before = peak_rss_mib();
    let server = Peer::new(config())?;
    let addr: std::net::SocketAddr = server.listen().await?.to_string().parse()?;
    let mut streams = Vec::new();
    for _ in 0..100 {
        let socket = TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(4096)?;
        streams.push(socket.connect(addr).await?);
    }
    wait_until("the sessions", Duration::from_secs(20), || server.session_count() == 100).await;
    let body = "x".repeat(64 << 10);
    let (mut pushed, mut waited, mut most) = (0, 0, 0);
    let short = teleport::CallOptions::new().timeout(Duration::from_millis(20));
    for _ in 0..200 {
        for session in server.sessions() {
            match session.push_with("/news", &body, &short).await {
                Ok(()) => pushed += 1,
                Err(_) => waited += 1,
            }
            most = most.max(server.outbound_stats().queued_bytes);
        }
    }
    let stats = server.outbound_stats();
    println!(
        "3. 100 non-reading sessions, 64 KiB pushes: {pushed} queued, {waited} timed out \
         waiting for room; at most {:.0} MiB queued (bound {} MiB per peer, {} MiB per \
         session); process peak RSS {:.0} MiB (was {before:.0} MiB)",
        most as f64 / (1 << 20) as f64,
        stats.max_bytes >> 20,
        server.config().max_outbound_bytes >> 20,
        peak_rss_mib()
    );
    drop(streams);
    server.close().await;
    Ok(())
}

async fn proxy_loop() -> Result<(), Box<dyn std::error::Error>> {
    let upstream = Arc::new(OnceLock::<Session>::new());
    let pick = upstream.clone();
    let proxy = Proxy::new(move |_label: &Label| pick.get().cloned()).scope(Scope::All);
    let peer = Peer::builder(config()).plugin(proxy).build()?;
    let addr = peer.listen().await?;
    let _ = upstream.set(peer.dial(&addr).await?);
    let client = Peer::new(config())?.dial(&addr).await?;
    let started = Instant::now();
    let err = client.call::<i64>("/math/add", &[1, 2]).await.unwrap_err();
    let answered = started.elapsed();
    let idle =
        wait_until("the proxy to idle", Duration::from_secs(30), || peer.handlers_in_flight() == 0)
            .await;
    let again = client.call::<i64>("/math/add", &[1]).await.unwrap_err();
    println!(
        "4. a proxy pointed at itself answered in {answered:?}: {err}; idle {idle:?} later; \
         the next call: {}",
        again.code()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let only = std::env::args().nth(1);
    let run = |n: &str| only.as_deref().is_none_or(|only| only == n);
    if run("1") {
        resets().await?;
    }
    if run("2") {
        abandoned().await?;
    }
    if run("3") {
        non_readers().await?;
    }
    if run("4") {
        proxy_loop().await?;
    }
    Ok(())
}
