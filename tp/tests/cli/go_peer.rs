//! `tp` against a Go eRPC v6 peer: a scripted peer that answers with frames captured from Go
//! (`teleport/tests/data/erpc-v6-frames.jsonl`), byte for byte, and checks what `tp` sends.

use bytes::BytesMut;
use serde_json::{Value, json};
use teleport::{Message, MessageType, Proto, RawProto};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::{GUARD, parts, spawn, tp};

const FRAMES: &str = include_str!("../../../teleport/tests/data/erpc-v6-frames.jsonl");

/// The recorded frame named `name`, as Go wrote it.
fn go_frame(name: &str) -> Vec<u8> {
    let line = FRAMES
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|frame| frame["name"] == name)
        .unwrap_or_else(|| panic!("no frame {name}"));
    let hex = line["hex"].as_str().unwrap();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

fn decode(frame: &[u8]) -> Message {
    RawProto::default().decode(&mut BytesMut::from(frame)).unwrap().unwrap()
}

fn encode(msg: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    RawProto::default().encode(msg, &mut out).unwrap();
    out.to_vec()
}

/// Go's reply frame `name`, for the call with sequence number `seq`.
fn go_reply(name: &str, seq: i32) -> Vec<u8> {
    let frame = go_frame(name);
    let mut reply = decode(&frame);
    // The recorded frames re-encode byte for byte: only the seq is ours.
    assert_eq!(encode(&reply), frame);
    reply.seq = seq;
    encode(&reply)
}

/// A peer that answers every call as Go did: 404 to the manifest route, 15 (with the
/// meta `echo-author=x`) to anything else. Returns the raw frames of the calls it got.
async fn scripted_go_peer() -> (String, JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut calls = Vec::new();
        while let Some(frame) = read_frame(&mut stream).await {
            let call = decode(&frame);
            assert_eq!(call.mtype, MessageType::Call);
            let reply = match call.service_method.as_str() {
                "/_tp/manifest" => go_reply("reply_404_not_found", call.seq),
                _ => go_reply("reply_ok_15_meta", call.seq),
            };
            stream.write_all(&reply).await.unwrap();
            calls.push(frame);
        }
        calls
    });
    (addr, task)
}

/// One raw frame (its length prefix counts itself), or `None` at the end of the stream.
async fn read_frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0; 4];
    stream.read_exact(&mut len).await.ok()?;
    let mut frame = len.to_vec();
    frame.resize(u32::from_be_bytes(len) as usize, 0);
    stream.read_exact(&mut frame[4..]).await.ok()?;
    Some(frame)
}

#[tokio::test]
async fn a_raw_call_is_the_frame_a_go_client_writes_and_reads_gos_reply() {
    let (addr, peer) = scripted_go_peer().await;
    let args = [
        "call",
        "--no-check",
        "--timeout",
        "0s",
        &addr,
        "/math/add",
        "[1,2,3,4,5]",
        "--meta",
        "author=x",
    ];
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!((code, out.as_str()), (Some(0), "15\n"), "{err}");
    // Without a deadline nothing of ours is added: the very bytes of a Go client.
    assert_eq!(peer.await.unwrap(), [go_frame("call_math_add_meta")]);
}

#[tokio::test]
async fn without_a_manifest_the_call_goes_unchecked() {
    let (addr, peer) = scripted_go_peer().await;
    let args = ["call", &addr, "/math/add", "[1,2,3,4,5]", "--meta", "author=x"];
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!((code, out.as_str()), (Some(0), "15\n"), "{err}");
    let calls: Vec<Message> = peer.await.unwrap().iter().map(|f| decode(f)).collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].seq, calls[0].service_method.as_str()), (1, "/_tp/manifest"));
    let mut add = calls[1].clone();
    // The deadline travels in meta that Go ignores; the rest is Go's frame.
    assert_eq!(add.meta.remove("X-Tp-Timeout"), 1);
    add.seq = 1;
    assert_eq!(encode(&add), go_frame("call_math_add_meta"));

    let (addr, _peer) = scripted_go_peer().await;
    let (code, _, err) = parts(&tp(&["routes", &addr]).await);
    assert_eq!(
        (code, err.as_str()),
        (Some(1), "tp: the peer does not serve its manifest (turn on serve_manifest)\n")
    );
}

#[tokio::test]
async fn listen_prints_a_go_peers_push() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let child = spawn(&["listen", &addr, "--count", "1"]);
    let (mut stream, _) = listener.accept().await.unwrap();
    stream.write_all(&go_frame("push_server_to_client")).await.unwrap();
    let out = tokio::time::timeout(GUARD, child.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line,
        json!({"route": "/push/status", "meta": {}, "body": "ack: hi from go client"})
    );
}
