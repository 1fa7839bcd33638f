//! A bad message fails that message, not the session (DESIGN §8): frames written by hand on
//! a TCP stream to a served peer, whose boundary is intact but whose content is bad, are
//! answered 400 (a call) or dropped (anything else), and the same connection then still
//! answers a good call. Go-shaped `json` frames give the handler the body Go's reader gets.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use teleport::proto::{DEFAULT_MAX_META, JsonProto};
use teleport::xfer::{Gzip, XferFilter};
use teleport::{CallCtx, Message, MessageType, Peer, PeerConfig, Proto, RawProto, codec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A served peer speaking `proto`, with `/math/add` and an unknown-call handler that answers
/// the hex of the body it got.
async fn server(proto: Arc<dyn Proto>) -> (Peer, String) {
    let config = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let server = Peer::builder(config).proto(proto).build().unwrap();
    server.route_call_fn("/math/add", |_ctx, nums: Vec<i64>| async move {
        Ok(nums.iter().sum::<i64>())
    });
    server.set_unknown_call(|ctx: CallCtx| async move {
        Ok(ctx.body().iter().map(|b| format!("{b:02x}")).collect::<String>())
    });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr)
}

/// One TCP connection, reading frames with `proto`.
struct Conn {
    stream: TcpStream,
    proto: Arc<dyn Proto>,
    buf: BytesMut,
}

impl Conn {
    async fn connect(addr: &str, proto: Arc<dyn Proto>) -> Conn {
        Conn { stream: TcpStream::connect(addr).await.unwrap(), proto, buf: BytesMut::new() }
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn send(&mut self, msg: &Message) {
        let mut frame = BytesMut::new();
        self.proto.encode(msg, &mut frame).unwrap();
        self.send_bytes(&frame).await;
    }

    /// The next message from the peer (bounded wait, not a timing assertion).
    async fn recv(&mut self) -> Message {
        let read = async {
            loop {
                if let Some(msg) = self.proto.decode(&mut self.buf).unwrap() {
                    return msg;
                }
                let n = self.stream.read_buf(&mut self.buf).await.unwrap();
                assert!(n > 0, "the peer closed the connection");
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("no answer in time")
    }

    /// Sends a good `/math/add` call and checks its answer: the connection lives.
    async fn still_answers(&mut self, seq: i32) {
        let mut call = Message::new(MessageType::Call, seq, "/math/add");
        call.body_codec = codec::JSON;
        call.body = Bytes::from_static(b"[20,22]");
        self.send(&call).await;
        let reply = self.recv().await;
        assert_eq!((reply.mtype, reply.seq), (MessageType::Reply, seq));
        assert!(reply.status.is_ok(), "{}", reply.status);
        assert_eq!(reply.body, &b"42"[..]);
    }

    /// Expects the 400 answer to the call `seq`, its cause holding `cause`.
    async fn answered_400(&mut self, seq: i32, cause: &str) {
        let reply = self.recv().await;
        assert_eq!((reply.mtype, reply.seq, reply.status.code()), (MessageType::Reply, seq, 400));
        let got = reply.status.cause_text().unwrap_or_default();
        assert!(got.contains(cause), "{got:?} should hold {cause:?}");
    }
}

/// A raw frame (the prefix counts itself) with the given header fields and body.
fn raw_frame(seq: &[u8], mtype: u8, method: &str, meta: &[u8], pipe: &[u8]) -> Vec<u8> {
    let mut payload = vec![u8::try_from(seq.len()).unwrap()];
    payload.extend_from_slice(seq);
    payload.push(mtype);
    payload.push(u8::try_from(method.len()).unwrap());
    payload.extend_from_slice(method.as_bytes());
    payload.extend_from_slice(&6u16.to_be_bytes());
    payload.extend_from_slice(b"code=0");
    payload.extend_from_slice(&u16::try_from(meta.len()).unwrap().to_be_bytes());
    payload.extend_from_slice(meta);
    payload.extend_from_slice(b"j[1,2]");
    if pipe == b"g" {
        let packed = Gzip::new(b'g', 5).pack(Bytes::from(payload)).unwrap();
        payload = [&packed[..], b"trailing"].concat();
    }
    let len = u32::try_from(4 + 1 + pipe.len() + payload.len()).unwrap();
    [&len.to_be_bytes()[..], &[u8::try_from(pipe.len()).unwrap()], pipe, &payload].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_calls_with_bad_meta_are_answered_400_and_the_session_lives() {
    let proto: Arc<dyn Proto> = Arc::new(RawProto::default());
    let (server, addr) = server(proto.clone()).await;
    let mut conn = Conn::connect(&addr, proto).await;
    let long_meta = [&b"k="[..], &vec![b'v'; DEFAULT_MAX_META]].concat();
    conn.send_bytes(&raw_frame(b"1", 1, "/math/add", &long_meta, b"")).await;
    conn.answered_400(1, "meta of 16386 bytes exceeds the limit of 16384").await;
    conn.send_bytes(&raw_frame(b"2", 1, "/math/add", b"k=%zz", b"")).await;
    conn.answered_400(2, "bad percent-escape").await;
    conn.send_bytes(&raw_frame(b"3", 1, "/math/add", b"k=%FF%FE", b"")).await;
    conn.answered_400(3, "not utf-8").await;
    conn.still_answers(4).await;
    assert_eq!(server.session_count(), 1);
}

/// What cannot be answered is dropped: a push with bad meta, a call whose seq is not
/// base 36, a frame whose gzip member is followed by other bytes. The next call is answered
/// first, on the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_messages_that_cannot_be_answered_are_dropped_and_the_session_lives() {
    let proto: Arc<dyn Proto> = Arc::new(RawProto::default());
    let (server, addr) = server(proto.clone()).await;
    let mut conn = Conn::connect(&addr, proto).await;
    conn.send_bytes(&raw_frame(b"1", 3, "/math/add", b"k=%zz", b"")).await;
    conn.send_bytes(&raw_frame(b"\x7f", 1, "/math/add", b"", b"")).await;
    conn.send_bytes(&raw_frame(b"2", 1, "/math/add", b"", b"g")).await;
    conn.send_bytes(&raw_frame(b"3", 2, "", b"k=%zz", b"")).await;
    conn.still_answers(4).await;
    assert_eq!(server.session_count(), 1);
}

/// A `json` payload as Go eRPC v6's `jsonproto` writes it: fixed member order and the body
/// between quotes with only `"` escaped; framed with a prefix that does not count itself.
fn go_json_frame(seq: i32, method: &str, meta: &str, codec: u8, body: &[u8]) -> Vec<u8> {
    let mut payload = format!(
        r#"{{"seq":{seq},"mtype":1,"serviceMethod":{method:?},"status":"","meta":{meta:?},"bodyCodec":{codec},"body":""#
    )
    .into_bytes();
    for &b in body {
        if b == b'"' {
            payload.push(b'\\');
        }
        payload.push(b);
    }
    payload.extend_from_slice(b"\"}");
    let len = u32::try_from(1 + payload.len()).unwrap();
    [&len.to_be_bytes()[..], &[0], &payload].concat()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go-shaped frames whose bodies hold `\`, `\"`, raw control bytes and bytes ≥ 0x80: the
/// handler gets the bytes Go's reader would get, and the session lives on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_json_frames_give_gos_body_and_the_session_lives() {
    let proto: Arc<dyn Proto> = Arc::new(JsonProto::default());
    let (server, addr) = server(proto.clone()).await;
    let mut conn = Conn::connect(&addr, proto).await;
    let cases: [(&[u8], &[u8]); 7] = [
        (br"C:\dir\new", b"C:"),
        (br"a\\b", br"a\b"),
        (br#"say \"hi\""#, br#"say \"#),
        (b"tab\there\x00\x1f", b"tab\there\x00\x1f"),
        (b"\\ttab\tcut", b"\ttab"),
        (b"\xff\xfe\xc3\xa9", b"\xff\xfe\xc3\xa9"),
        (b"\\u00e9\xff\\/", b"\xc3\xa9\xff/"),
    ];
    for (seq, (body, go_reads)) in (1..).zip(cases) {
        conn.send_bytes(&go_json_frame(seq, "/echo", "", codec::PLAIN, body)).await;
        let reply = conn.recv().await;
        assert_eq!(reply.seq, seq);
        assert!(reply.status.is_ok(), "{}", reply.status);
        assert_eq!(reply.body, hex(go_reads).as_bytes(), "body {:?}", body.escape_ascii());
    }
    // Go's JSON codec output holding `\"`: Go's reader cuts it, and the JSON decoder
    // refuses what is left with 400, as Go does.
    conn.send_bytes(&go_json_frame(20, "/math/add", "", codec::JSON, br#"["\"",1]"#)).await;
    conn.answered_400(20, "").await;
    // Bad meta in a Go-shaped frame: 400 for that call.
    conn.send_bytes(&go_json_frame(21, "/math/add", "k=%zz", codec::JSON, b"[1]")).await;
    conn.answered_400(21, "bad percent-escape").await;
    conn.still_answers(22).await;
    assert_eq!(server.session_count(), 1);
}

/// A reply whose content is bad ends the call it answers with 400 at once (not at its
/// deadline), and the session lives on: the next call gets its reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_reply_ends_its_call_with_400_and_the_session_lives() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let fake = tokio::spawn(async move {
        let proto: Arc<dyn Proto> = Arc::new(RawProto::default());
        let (stream, _) = listener.accept().await.unwrap();
        let mut conn = Conn { stream, proto, buf: BytesMut::new() };
        let call = conn.recv().await;
        let seq = raw_seq(call.seq);
        conn.send_bytes(&raw_frame(seq.as_bytes(), 2, "", b"k=%zz", b"")).await;
        let call = conn.recv().await;
        let mut reply = Message::new(MessageType::Reply, call.seq, "");
        reply.body_codec = codec::JSON;
        reply.body = Bytes::from_static(b"3");
        conn.send(&reply).await;
        // Hold the connection until the client is done.
        let _ = conn.stream.read(&mut [0; 1]).await;
    });
    let config = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let client = Peer::new(config).unwrap();
    let session = client.dial(&addr).await.unwrap();
    let err = session.call::<i64>("/math/add", &[1, 2]).await.unwrap_err();
    assert_eq!(err.code(), 400, "{err}");
    assert!(err.cause_text().unwrap_or_default().contains("bad percent-escape"), "{err}");
    assert_eq!(session.call::<i64>("/math/add", &[1, 2]).await, Ok(3));
    session.close().await;
    fake.await.unwrap();
}

/// A seq in base 36, as the raw protocol writes it.
fn raw_seq(seq: i32) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let (mut n, mut out) = (seq.unsigned_abs(), Vec::new());
    loop {
        out.insert(0, digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break String::from_utf8(out).unwrap();
        }
    }
}
