//! `tp routes`, `tp call` and `tp push` against a live peer.

use std::sync::atomic::Ordering;
use std::time::Duration;

use teleport::Meta;

use crate::support::{Server, parts, tp};

#[tokio::test]
async fn routes_lists_kinds_and_types_from_the_manifest() {
    let server = Server::start().await;
    let (code, out, err) = parts(&tp(&["routes", &server.addr]).await);
    assert_eq!(code, Some(0), "{err}");
    let want = "\
Demo (mapper http, codec json)  Arithmetic and echoes for the `tp` tests.
  call  /demo/add     Vec<i64> -> i64              Adds the numbers.
  call  /demo/fail    () -> ()                     Fails with a custom status.
  call  /demo/meta    () -> Vec<(String, String)>  Answers with the meta it received, as pairs.
  call  /demo/shout   String -> String             Upper-cases the text.
  call  /demo/middle  Segment -> Point             The middle of a segment.
  push  /demo/say     String                       Keeps what was said.
";
    assert_eq!(out, want);

    let (code, out, _) = parts(&tp(&["routes", "--json", &server.addr]).await);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["services"][0]["routes"][0]["arg"]["schema"]["type"], "array");
}

#[tokio::test]
async fn routes_says_when_the_peer_serves_no_manifest() {
    let server = Server::on(
        teleport::peer::Network::Tcp,
        |config| teleport::Peer::new(config).unwrap(),
        false,
    )
    .await;
    let (code, out, err) = parts(&tp(&["routes", &server.addr]).await);
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(err, "tp: the peer does not serve its manifest (turn on serve_manifest)\n");
}

#[tokio::test]
async fn call_prints_the_reply_as_pretty_json() {
    let server = Server::start().await;
    let (code, out, err) = parts(&tp(&["call", &server.addr, "/demo/add", "[1,2,3]"]).await);
    assert_eq!((code, out.as_str()), (Some(0), "6\n"), "{err}");
    assert_eq!(server.adds.load(Ordering::SeqCst), 1);

    let args = ["call", &server.addr, "/demo/meta", "--meta", "a=1", "--meta", "a=2=3", "--gzip"];
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "[\n  [\n    \"a\",\n    \"1\"\n  ],\n  [\n    \"a\",\n    \"2=3\"\n  ]\n]\n");

    let args = ["call", &server.addr, "/demo/shout", "hi", "--codec", "plain"];
    let (code, out, err) = parts(&tp(&args).await);
    // `hi` is not JSON: the argument is always JSON, whatever codec carries it.
    assert_eq!(code, Some(2), "{out}");
    assert!(err.starts_with("tp: the argument is not JSON"), "{err}");
    let args = ["call", &server.addr, "/demo/shout", r#""hi""#, "--codec", "plain"];
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!((code, out.as_str()), (Some(0), "\"HI\"\n"), "{err}");
}

#[tokio::test]
async fn a_failed_call_exits_1_with_the_status_code_and_message() {
    let server = Server::start().await;
    let (code, out, err) = parts(&tp(&["call", &server.addr, "/demo/fail"]).await);
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(err, "tp: call /demo/fail failed: status 10005 custom: a b&c=d\n");

    let (code, _, err) = parts(&tp(&["call", &server.addr, "/demo/nope", "[1]"]).await);
    assert_eq!(code, Some(1));
    assert_eq!(err, "tp: call /demo/nope failed: status 404 Not Found\n");

    // The body does not fit the handler (no manifest check): the peer answers 400.
    let args = ["call", "--no-check", &server.addr, "/demo/add", r#"["x"]"#];
    let (code, _, err) = parts(&tp(&args).await);
    assert_eq!(code, Some(1));
    assert!(err.starts_with("tp: call /demo/add failed: status 400 Bad Message: "), "{err}");
}

#[tokio::test]
async fn an_argument_that_does_not_match_the_schema_is_refused_before_sending() {
    let server = Server::start().await;
    let (code, out, err) = parts(&tp(&["call", &server.addr, "/demo/add", r#"[1,"x"]"#]).await);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.starts_with("tp: the argument does not match the schema of /demo/add"), "{err}");
    assert!(err.contains("at /1: ") && err.contains("(schema path /items/type)"), "{err}");

    // A struct's schema refers to the schemas of its fields' types in `$defs`.
    let segment = r#"{"from": {"x": 0, "y": 0}, "to": {"x": 4, "y": "2"}}"#;
    let (code, _, err) = parts(&tp(&["call", &server.addr, "/demo/middle", segment]).await);
    assert_eq!(code, Some(2));
    assert!(err.contains("at /to/y: "), "{err}");
    assert!(err.contains("schema path /$defs/Point/properties/y/type"), "{err}");
    let segment = r#"{"from": {"x": 0, "y": 0}, "to": {"x": 4, "y": 2}}"#;
    let (code, out, err) = parts(&tp(&["call", &server.addr, "/demo/middle", segment]).await);
    assert_eq!((code, out.as_str()), (Some(0), "{\n  \"x\": 2,\n  \"y\": 1\n}\n"), "{err}");

    let (code, _, err) = parts(&tp(&["push", &server.addr, "/demo/say", "7"]).await);
    assert_eq!(code, Some(2));
    assert!(err.contains("(schema path /type)"), "{err}");
    let (code, _, err) = parts(&tp(&["push", &server.addr, "/demo/add", "[1]"]).await);
    assert_eq!((code, err.as_str()), (Some(2), "tp: /demo/add is a call route: use tp call\n"));

    let (code, _, err) = parts(&tp(&["call", &server.addr, "/demo/add", "[1,"]).await);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("tp: the argument is not JSON: "), "{err}");

    assert_eq!(server.adds.load(Ordering::SeqCst), 0, "a refused argument reached the peer");
}

#[tokio::test]
async fn push_delivers_the_argument_and_meta() {
    let mut server = Server::start().await;
    let args = ["push", &server.addr, "/demo/say", r#""hello""#, "--meta", "k=v"];
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    let said = tokio::time::timeout(Duration::from_secs(30), server.said.recv()).await;
    let (text, meta) = said.expect("the push did not arrive").unwrap();
    assert_eq!(text, "hello");
    assert_eq!(meta, [("k", "v")].into_iter().collect::<Meta>());
}
