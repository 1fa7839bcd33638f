//! `tp listen`: pushes printed as JSON lines, from a dialed peer or from peers that connect.

use serde_json::{Value, json};
use teleport::CallOptions;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Child;

use crate::support::{GUARD, Server, sessions, spawn, tp};

/// Waits for `tp` to end; its exit code and standard output.
async fn finish(child: Child) -> (Option<i32>, String) {
    let out = tokio::time::timeout(GUARD, child.wait_with_output()).await.unwrap().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// The printed lines, parsed; each has its keys in the order route, meta, body.
fn lines(out: &str) -> Vec<Value> {
    let parse = |line: &str| {
        let (route, meta, body) =
            (line.find("\"route\""), line.find("\"meta\""), line.find("\"body\""));
        assert!(route < meta && meta < body && route == Some(1), "{line}");
        serde_json::from_str(line).unwrap()
    };
    out.lines().map(parse).collect()
}

#[tokio::test]
async fn listen_prints_the_pushes_of_the_dialed_peer_one_json_line_each() {
    let server = Server::start().await;
    let child = spawn(&["listen", &server.addr, "--count", "3"]);
    sessions(&server.peer, 1).await;
    let session = server.peer.sessions().pop().unwrap();
    let options = CallOptions::new().add_meta("k", "1").add_meta("k", "2").add_meta("z", "");
    session.push_with("/news/flash?x=1", &json!({"n": 1}), &options).await.unwrap();
    session.push("/news/text", "two").await.unwrap();
    let plain = CallOptions::new().codec(teleport::codec::PLAIN);
    session.push_with("/news/text", "three", &plain).await.unwrap();

    let (code, out) = finish(child).await;
    assert_eq!(code, Some(0));
    assert_eq!(
        lines(&out),
        [
            json!({"route": "/news/flash?x=1", "meta": {"k": ["1", "2"], "z": ""}, "body": {"n": 1}}),
            json!({"route": "/news/text", "meta": {}, "body": "two"}),
            json!({"route": "/news/text", "meta": {}, "body": "three"}),
        ]
    );
}

#[tokio::test]
async fn listen_ends_when_the_peer_closes_the_session() {
    let server = Server::start().await;
    let child = spawn(&["listen", &server.addr]);
    sessions(&server.peer, 1).await;
    let session = server.peer.sessions().pop().unwrap();
    session.push("/last", &1).await.unwrap();
    session.close().await;
    let (code, out) = finish(child).await;
    assert_eq!(code, Some(0));
    assert_eq!(lines(&out), [json!({"route": "/last", "meta": {}, "body": 1})]);
}

#[tokio::test]
async fn listen_serve_prints_what_tp_push_sends() {
    let mut child = spawn(&["listen", "--serve", "127.0.0.1:0", "--count", "1"]);
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(GUARD, stderr.next_line()).await.unwrap().unwrap();
    let first = first.expect("tp said nothing");
    let addr = first.strip_prefix("tp: listening on ").expect(&first).to_owned();

    let args = ["push", &addr, "/chat/say", r#"{"text": "hi"}"#, "--meta", "from=test"];
    let out = tp(&args).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let mut stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    let read = stdout.read_to_string(&mut printed);
    tokio::time::timeout(GUARD, read).await.unwrap().unwrap();
    assert_eq!(
        lines(&printed),
        [json!({"route": "/chat/say", "meta": {"from": "test"}, "body": {"text": "hi"}})]
    );
    assert_eq!(finish(child).await.0, Some(0));
}
