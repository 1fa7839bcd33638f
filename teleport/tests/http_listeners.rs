//! One live peer serving the raw protocol and the http protocol at once, on three
//! listeners: raw (the main one), http with HTTP status codes, and http as Go writes it
//! (`299 Business Error`). Real HTTP clients call it: hyper's HTTP/1.1 client, `curl` and a
//! Go httproto client's request bytes.

#![cfg(feature = "http")]

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use teleport::peer::{ListenerConfig, Protocol};
use teleport::{CallCtx, Peer, PeerConfig, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The frame limit of the server, small enough to send a request over it.
const MAX_FRAME: usize = 64 << 10;

/// The addresses of the server's listeners.
struct Server {
    _peer: Peer,
    raw: String,
    /// http with HTTP status codes.
    http: String,
    /// http answering errors as Go does.
    go: String,
}

#[derive(Deserialize)]
struct Pair {
    a: i64,
    b: i64,
}

/// A peer with its routes, serving raw, http with status codes (from the configuration)
/// and http as Go does (added in code).
async fn server() -> Server {
    let text = format!(
        "local_ip = \"127.0.0.1\"\nmax_frame = {MAX_FRAME}\n\
         [[listeners]]\nlocal_ip = \"127.0.0.1\"\nprotocol = \"http\"\nhttp_status_codes = true\n"
    );
    let peer = Peer::new(PeerConfig::from_toml_str(&text).unwrap()).unwrap();
    peer.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
        if let Some(author) = ctx.input_meta().get("author") {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum::<i64>())
    });
    peer.route_call_fn(
        "/math/pair",
        |_ctx: CallCtx, pair: Pair| async move { Ok(pair.a + pair.b) },
    );
    peer.route_call_fn("/echo/text", |_ctx: CallCtx, text: String| async move {
        Ok(text.to_uppercase())
    });
    peer.route_call_fn("/echo/query", |ctx: CallCtx, (): ()| async move {
        let query = ctx.query().map_err(|e| Status::new(400, e.to_string()))?;
        Ok(query.get("name").unwrap_or_default().to_owned())
    });
    // Fails with the status code in its query: `/fail?code=503`.
    peer.route_call_fn("/fail", |ctx: CallCtx, (): ()| async move {
        let code = ctx.input_meta().get("code").and_then(|c| c.parse().ok()).unwrap_or(-1);
        Err::<(), _>(Status::new(code, "failed"))
    });
    peer.route_call_fn("/panic", |_ctx: CallCtx, (): ()| async move {
        if true {
            panic!("handler bug");
        }
        Ok(())
    });
    let addrs = peer.listen_all().await.unwrap();
    let [raw, http] = [&addrs[0], &addrs[1]].map(ToString::to_string);
    let go = ListenerConfig::tcp("127.0.0.1", 0, Protocol::Http);
    let go = peer.listen_on(&go).await.unwrap().to_string();
    Server { _peer: peer, raw, http, go }
}

/// An HTTP/1.1 connection of hyper's client, and the task driving it.
async fn connect(addr: &str) -> (SendRequest<Full<Bytes>>, tokio::task::JoinHandle<()>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    let task = tokio::spawn(async move { conn.await.unwrap() });
    (send, task)
}

/// A response: its status code, headers (lower case) and body.
struct Response {
    code: u16,
    headers: hyper::HeaderMap,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Sends one request on `send` and reads its response (bounded in time).
async fn call(
    send: &mut SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut request = hyper::Request::builder().method(method).uri(path).header("host", "test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let exchange = async {
        let response = send.send_request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Response {
            code: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    };
    tokio::time::timeout(Duration::from_secs(20), exchange).await.expect("no response in time")
}

/// One request on a connection of its own.
async fn call_once(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let (mut send, _task) = connect(addr).await;
    call(&mut send, method, path, headers, body).await
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn errors_carry_their_http_status_with_the_option_and_299_without() {
    let server = server().await;
    for (addr, want) in [(&server.http, 404), (&server.go, 299)] {
        let missing = call_once(addr, "POST", "/math/nope", &[JSON], "[]").await;
        assert_eq!(missing.code, want);
        assert_eq!(missing.header("content-type"), Some("application/json"));
        assert_eq!(missing.body, r#"{"code":404,"msg":"Not Found","cause":""}"#);
        let bad = call_once(addr, "POST", "/math/add", &[JSON], "[1,").await;
        assert_eq!(bad.code, if want == 299 { 299 } else { 400 });
        assert!(bad.body.starts_with(r#"{"code":400,"#), "{}", bad.body);
        let ok = call_once(addr, "POST", "/math/add", &[JSON], "[1,2]").await;
        assert_eq!((ok.code, ok.body.as_str()), (200, "3"));
    }
    // The raw listener of the same peer serves teleport clients meanwhile.
    let client = Peer::new(PeerConfig::default()).unwrap();
    let session = client.dial(&server.raw).await.unwrap();
    assert_eq!(session.call::<i64>("/math/add", &[4, 5]).await, Ok(9));
    let err = session.call::<i64>("/math/nope", &()).await.unwrap_err();
    assert_eq!(err.code(), 404);
}

#[tokio::test]
async fn each_error_code_has_its_http_status() {
    let server = server().await;
    let (mut send, _task) = connect(&server.http).await;
    for (code, http) in [
        (400, 400),
        (401, 401),
        (403, 403),
        (404, 404),
        (408, 504),
        (429, 429),
        (500, 500),
        (502, 502),
        (503, 503),
        (105, 502),
        (1001, 500),
    ] {
        let failed = call(&mut send, "GET", &format!("/fail?code={code}"), &[], "").await;
        assert_eq!(failed.code, http, "{code}");
        assert_eq!(failed.body, format!(r#"{{"code":{code},"msg":"failed","cause":""}}"#));
    }
    let panicked = call(&mut send, "GET", "/panic", &[], "").await;
    assert_eq!(panicked.code, 500);
    // A teleport client of that listener reads the statuses back.
    let client = Peer::builder(PeerConfig::default()).protocol(Protocol::Http).build().unwrap();
    let session = client.dial(&server.http).await.unwrap();
    let err = session.call::<()>("/fail?code=503", &()).await.unwrap_err();
    assert_eq!(err, Status::new(503, "failed"));
}

#[tokio::test]
async fn requests_as_http_users_write_them() {
    let server = server().await;
    let (mut send, _task) = connect(&server.http).await;
    // A GET builds the argument from its query; a route without one ignores it.
    let sum = call(&mut send, "GET", "/math/pair?a=40&b=2", &[], "").await;
    assert_eq!((sum.code, sum.body.as_str()), (200, "42"));
    assert_eq!(sum.header("content-type"), Some("application/json;charset=utf-8"));
    let query = call(&mut send, "GET", "/echo/query?name=a+b%21", &[], "").await;
    assert_eq!((query.code, query.body.as_str()), (200, "\"a b!\""));
    let form = ("content-type", "application/x-www-form-urlencoded");
    let sum = call(&mut send, "POST", "/math/pair", &[form], "a=1&b=2").await;
    assert_eq!((sum.code, sum.body.as_str()), (200, "3"));
    let plain = ("content-type", "text/plain");
    let text = call(&mut send, "POST", "/echo/text", &[plain], "hi").await;
    assert_eq!((text.code, text.body.as_str()), (200, "HI"));
    // Accept picks the reply codec.
    let accept = [JSON, ("accept", "text/plain")];
    let text = call(&mut send, "POST", "/echo/text", &accept, "\"yo\"").await;
    assert_eq!(
        (text.header("content-type"), text.body.as_str()),
        (Some("text/plain;charset=utf-8"), "YO")
    );
    let bad = call(&mut send, "GET", "/math/pair?a=x", &[], "").await;
    assert_eq!(bad.code, 400);
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection_until_close() {
    let server = server().await;
    let (mut send, task) = connect(&server.http).await;
    for n in 0..5i64 {
        let sum = call(&mut send, "POST", "/math/add", &[JSON], &format!("[{n},{n}]")).await;
        assert_eq!((sum.code, sum.body.clone()), (200, (2 * n).to_string()));
        assert_eq!(sum.header("connection"), None);
    }
    let last = call(&mut send, "POST", "/math/add", &[JSON, ("connection", "close")], "[1]").await;
    assert_eq!((last.code, last.header("connection")), (200, Some("close")));
    // The server ends the connection after that reply: hyper's connection task finishes.
    tokio::time::timeout(Duration::from_secs(20), task).await.expect("not closed").unwrap();
}

#[tokio::test]
async fn a_body_over_the_limit_is_answered_413_before_it_is_sent() {
    let server = server().await;
    for (addr, want) in [(&server.http, "413"), (&server.go, "413")] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /math/add HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            MAX_FRAME + 1
        );
        // Only the head is sent: the answer comes without the body, and the server closes.
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer));
        read.await.expect("not answered and closed in time").unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with(&format!("HTTP/1.1 {want} Content Too Large\r\n")), "{answer}");
        assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
        assert!(answer.contains("exceeds the limit of 65536"), "{answer}");
    }
}

/// What Go eRPC v6's httproto client writes for `Call("/math/add?author=henrylee2cn",
/// []int{1, 2})`: its headers sorted by name, the query on the request line.
const GO_CALL: &[u8] = b"POST /math/add?author=henrylee2cn HTTP/1.1\r\n\
    Accept-Encoding: gzip\r\nContent-Length: 5\r\nContent-Type: application/json;charset=utf-8\r\n\
    User-Agent: erpc-httproto/1.1\r\nX-Mtype: 1\r\nX-Seq: 1\r\n\r\n[1,2]";

#[tokio::test]
async fn a_go_clients_query_reaches_the_handler_as_meta() {
    let server = server().await;
    let mut stream = TcpStream::connect(&server.go).await.unwrap();
    stream.write_all(GO_CALL).await.unwrap();
    let mut answer = Vec::new();
    let read = async {
        while !answer.ends_with(b"\r\n\r\n3") {
            assert_ne!(stream.read_buf(&mut answer).await.unwrap(), 0, "{answer:?}");
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("no answer in time");
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    for line in ["\r\nX-Seq: 1\r\n", "\r\nX-Mtype: 2\r\n", "\r\necho-author: henrylee2cn\r\n"] {
        assert!(answer.contains(line), "{line:?} not in {answer}");
    }
}

/// `curl` as a user runs it. Skipped with a note where curl is missing, but under `CI=true`
/// a missing curl fails the test.
#[tokio::test]
async fn curl_f_fails_on_a_404_only_with_the_option() {
    let found = std::process::Command::new("curl").arg("--version").output();
    if !found.is_ok_and(|out| out.status.success()) {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "curl is required under CI");
        println!("note: curl is not installed; curl_f_fails_on_a_404_only_with_the_option skipped");
        return;
    }
    let server = server().await;
    let curl = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new("curl");
            command.args(["-s", "-m", "20"]).args(args).output().unwrap()
        })
    };
    let url = |addr: &str, path: &str| format!("http://{addr}{path}");
    let out = curl(vec!["-f".into(), url(&server.http, "/math/nope")]).await.unwrap();
    assert_eq!(out.status.code(), Some(22), "{out:?}");
    let out = curl(vec!["-f".into(), "-i".into(), url(&server.go, "/math/nope")]).await.unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("HTTP/1.1 299 Business Error\r\n"), "{text}");
    assert!(text.ends_with(r#"{"code":404,"msg":"Not Found","cause":""}"#), "{text}");
    // GET with a query, POST JSON, POST a form.
    let out = curl(vec![url(&server.http, "/math/pair?a=1&b=2")]).await.unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "3");
    let json =
        vec!["-H".into(), "content-type: application/json".into(), "-d".into(), "[1,2,3]".into()];
    let out = curl([json, vec![url(&server.http, "/math/add")]].concat()).await.unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "6");
    let out = curl(vec!["-d".into(), "a=5&b=6".into(), url(&server.http, "/math/pair")]).await;
    assert_eq!(String::from_utf8(out.unwrap().stdout).unwrap(), "11");
}

/// The http listener's protocol is built with the peer's transfer filters: a gzip body is
/// read, and the reply to `X-Content-Encoding: gzip` is gzipped back.
#[cfg(feature = "gzip")]
#[tokio::test]
async fn the_peers_gzip_filter_serves_http() {
    use teleport::XferFilter;
    let server = server().await;
    let gzip = teleport::xfer::Gzip::new(b'g', 6);
    let body = gzip.pack(Bytes::from_static(b"[20,22]")).unwrap();
    let (mut send, _task) = connect(&server.http).await;
    let request = hyper::Request::builder()
        .method("POST")
        .uri("/math/add")
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("x-content-encoding", "gzip")
        .body(Full::new(body))
        .unwrap();
    let response = send.send_request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&gzip.unpack(body, 1 << 10).unwrap()[..], b"42");
}
