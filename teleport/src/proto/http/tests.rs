//! Unit tests of the http protocol: Go's own messages, round trips, partial input, limits.

use bytes::Bytes;

use super::*;
use crate::message::{MessageType, Meta};
use crate::status::Status;
use crate::xfer::XferPipe;

fn encoded(msg: &Message) -> Vec<u8> {
    let mut dst = BytesMut::new();
    HttpProto::default().encode(msg, &mut dst).unwrap();
    dst.to_vec()
}

fn decoded(wire: &[u8]) -> Result<Option<Message>, ProtoError> {
    HttpProto::default().decode(&mut BytesMut::from(wire))
}

fn reply(seq: i32, codec: u8, body: &'static [u8]) -> Message {
    let mut msg = Message::new(MessageType::Reply, seq, "");
    msg.body_codec = codec;
    msg.body = Bytes::from_static(body);
    msg
}

/// The request of Go's httproto README, as Go's client writes it: its query becomes meta,
/// before the headers, as Go's server reads it.
#[test]
fn reads_gos_request() {
    let wire = b"POST /home/test?peer_id=110 HTTP/1.1\r\nAccept-Encoding: gzip\r\n\
        Content-Length: 24\r\nContent-Type: application/json;charset=utf-8\r\n\
        Host: localhost:9090\r\nUser-Agent: erpc-httproto/1.1\r\nX-Mtype: 1\r\nX-Seq: 1\r\n\
        \r\n{\"author\":\"henrylee2cn\"}";
    let msg = decoded(wire).unwrap().unwrap();
    let mut want = Message::new(MessageType::Call, 1, "/home/test?peer_id=110");
    want.meta = Meta::from_iter([
        ("peer_id", "110"),
        ("Accept-Encoding", "gzip"),
        ("Host", "localhost:9090"),
        ("User-Agent", "erpc-httproto/1.1"),
    ]);
    want.body_codec = b'j';
    want.body = Bytes::from_static(b"{\"author\":\"henrylee2cn\"}");
    assert_eq!(msg, want);
}

/// The responses of Go's httproto README, byte for byte.
#[test]
fn writes_gos_responses() {
    let ok = reply(1, b'j', b"{\"arg\":{\"author\":\"henrylee2cn\"}}");
    let want = b"HTTP/1.1 200 OK\r\nContent-Length: 32\r\n\
        Content-Type: application/json;charset=utf-8\r\nX-Mtype: 2\r\nX-Seq: 1\r\n\r\n\
        {\"arg\":{\"author\":\"henrylee2cn\"}}";
    assert_eq!(encoded(&ok), want);
    assert_eq!(decoded(want).unwrap(), Some(ok));

    let mut failed = Message::new(MessageType::Reply, 0, "");
    failed.status = Status::new(1, "test error").cause("this is test:110");
    let want = b"HTTP/1.1 299 Business Error\r\nContent-Length: 56\r\n\
        Content-Type: application/json\r\nX-Mtype: 2\r\nX-Seq: 0\r\n\r\n\
        {\"code\":1,\"msg\":\"test error\",\"cause\":\"this is test:110\"}";
    assert_eq!(encoded(&failed), want);
    assert_eq!(decoded(want).unwrap(), Some(failed));
}

/// What a call becomes once read: its query pairs are meta too.
fn read_back(mut msg: Message) -> Message {
    let mut meta = msg.query().unwrap();
    meta.extend_from(&msg.meta);
    msg.meta = meta;
    msg
}

fn call() -> Message {
    let mut msg = Message::new(MessageType::Call, -7, "/数学/a b?x=1&y=é+f");
    msg.meta = Meta::from_iter([("Author", "a\tb é"), ("k", ""), ("k", "2")]);
    msg.body_codec = b's';
    msg.body = Bytes::from(vec![b'z'; 5000]);
    msg
}

#[test]
fn calls_round_trip_with_meta_and_query() {
    let msg = call();
    let wire = encoded(&msg);
    let text = String::from_utf8_lossy(&wire);
    assert!(text.starts_with("POST /%E6%95%B0%E5%AD%A6/a%20b?x=1&y=é+f HTTP/1.1\r\n"), "{text}");
    let back = decoded(&wire).unwrap().unwrap();
    assert_eq!(back.meta.get("y"), Some("é f"));
    assert_eq!(back, read_back(msg));
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_is_a_content_encoding() {
    let mut msg = call();
    msg.xfer_pipe = XferPipe::from_ids(b"g").unwrap();
    let wire = encoded(&msg);
    let text = String::from_utf8_lossy(&wire);
    assert!(text.contains("Content-Encoding: gzip\r\n"), "{text}");
    assert!(text.contains("X-Content-Encoding: gzip\r\n"), "{text}");
    assert!(wire.len() < 1000);
    assert_eq!(decoded(&wire).unwrap(), Some(read_back(msg.clone())));
    // What an HTTP client sends: Content-Encoding alone.
    let line = b"X-Content-Encoding: gzip\r\n";
    let at = wire.windows(line.len()).position(|w| w == line).unwrap();
    let plain = [&wire[..at], &wire[at + line.len()..]].concat();
    assert_eq!(decoded(&plain).unwrap(), Some(read_back(msg)));
}

#[test]
fn a_url_service_method_sends_its_host() {
    let mut msg = Message::new(MessageType::AuthCall, 3, "http://h:9/x?q");
    msg.meta.add("Host", "dropped");
    let wire = String::from_utf8(encoded(&msg)).unwrap();
    let want =
        "POST /x?q HTTP/1.1\r\nContent-Length: 0\r\nHost: h:9\r\nX-Mtype: 4\r\nX-Seq: 3\r\n\r\n";
    assert_eq!(wire, want);
    let back = decoded(wire.as_bytes()).unwrap().unwrap();
    assert_eq!((back.mtype, back.service_method.as_str()), (MessageType::AuthCall, "/x?q"));
    assert_eq!(back.meta.get("Host"), Some("h:9"));
}

/// What `curl -d '[1,2]' http://127.0.0.1:9090/math/add` sends.
#[test]
fn curls_form_typed_json_is_json() {
    let wire = b"POST /math/add HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nUser-Agent: curl/8.5.0\r\n\
        Accept: */*\r\nContent-Length: 5\r\nContent-Type: application/x-www-form-urlencoded\r\n\
        \r\n[1,2]";
    let msg = decoded(wire).unwrap().unwrap();
    assert_eq!((msg.seq, msg.body_codec, &msg.body[..]), (0, b'j', &b"[1,2]"[..]));
    assert_eq!(msg.meta.len(), 3);
    let form = decoded(&[&wire[..wire.len() - 5], b"a=[1]"].concat()).unwrap().unwrap();
    assert_eq!(form.body_codec, b'f');
}

#[test]
fn waits_for_whole_messages_and_takes_one_at_a_time() {
    let proto = HttpProto::default();
    let first = reply(1, b'j', b"[1]");
    let mut second = Message::new(MessageType::Reply, 2, "");
    second.status = Status::new(404, "Not Found");
    let wire = [encoded(&first), encoded(&second)].concat();
    let mut src = BytesMut::new();
    let mut got = Vec::new();
    for &b in &wire {
        src.extend_from_slice(&[b]);
        let before = src.clone();
        match proto.decode(&mut src).unwrap() {
            Some(msg) => got.push(msg),
            None => assert_eq!(src, before),
        }
    }
    assert_eq!(got, [first, second]);
    assert!(src.is_empty());
}

#[test]
fn push_and_unwritable_meta_are_refused() {
    let proto = HttpProto::default();
    let mut dst = BytesMut::from(&b"keep"[..]);
    let push = Message::new(MessageType::Push, 1, "/p");
    let err = proto.encode(&push, &mut dst).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the http protocol does not support PUSH (HTTP has no one-way message)"
    );
    for (key, value) in
        [("a b", "v"), ("", "v"), ("X-Seq", "1"), ("content-type", "x"), ("k", "a\r\nb")]
    {
        let mut msg = Message::new(MessageType::Call, 1, "/p");
        msg.meta.add(key, value);
        assert!(
            matches!(proto.encode(&msg, &mut dst), Err(ProtoError::Unsupported { .. })),
            "{key:?}"
        );
    }
    let mut msg = reply(1, b'q', b"x");
    assert!(matches!(proto.encode(&msg, &mut dst), Err(ProtoError::Unsupported { .. })));
    msg.body_codec = b'j';
    #[cfg(all(feature = "gzip", feature = "md5"))]
    {
        msg.xfer_pipe = XferPipe::from_ids(b"gm").unwrap();
        assert!(matches!(proto.encode(&msg, &mut dst), Err(ProtoError::Unsupported { .. })));
    }
    msg.xfer_pipe = XferPipe::from_ids(b"z").unwrap();
    let unknown = ProtoError::Xfer(crate::xfer::XferError::UnknownFilter(b'z'));
    assert_eq!(proto.encode(&msg, &mut dst), Err(unknown));
    assert_eq!(&dst[..], b"keep");
}

#[test]
fn limits_hold_both_ways() {
    let limits = Limits { max_frame: 100, max_meta: 64 };
    let proto = HttpProto::new(limits, Default::default());
    let too_large = ProtoError::FrameTooLarge { len: 101, max: 100 };
    assert_eq!(
        proto.encode(&reply(1, b's', &[b'x'; 101]), &mut BytesMut::new()),
        Err(too_large.clone())
    );
    let mut src = BytesMut::from(&b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"[..]);
    assert_eq!(proto.decode(&mut src), Err(too_large));
    let mut src = BytesMut::from(&b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n"[..]);
    assert_eq!(proto.decode(&mut src), Ok(None));

    let mut msg = Message::new(MessageType::Call, 1, "/");
    msg.meta.add("k", "v".repeat(60));
    let err = ProtoError::MetaTooLong { len: 65, max: 64 };
    assert_eq!(proto.encode(&msg, &mut BytesMut::new()), Err(err.clone()));
    let head = format!("POST / HTTP/1.1\r\nk: {}\r\n\r\n", "v".repeat(60));
    assert_eq!(proto.decode(&mut BytesMut::from(head.as_bytes())), Err(err));

    let head = format!("POST /{} HTTP/1.1\r\n", "a".repeat(5000));
    let err = ProtoError::HeadTooLarge { max: 64 + HEAD_ALLOWANCE };
    assert_eq!(proto.decode(&mut BytesMut::from(head.as_bytes())), Err(err.clone()));
    let msg = Message::new(MessageType::Call, 1, format!("/{}", "a".repeat(5000)));
    assert_eq!(proto.encode(&msg, &mut BytesMut::new()), Err(err));
}

fn failed(seq: i32, status: Status) -> Message {
    let mut msg = Message::new(MessageType::Reply, seq, "");
    msg.status = status;
    msg
}

#[test]
fn status_codes_are_an_option_and_read_either_way() {
    let proto = HttpProto::default().http_status_codes(true);
    let mut dst = BytesMut::new();
    proto.encode(&failed(4, Status::new(404, "Not Found")), &mut dst).unwrap();
    let text = String::from_utf8(dst.to_vec()).unwrap();
    assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
    assert!(text.ends_with(r#"{"code":404,"msg":"Not Found","cause":""}"#), "{text}");
    assert_eq!(decoded(text.as_bytes()).unwrap(), Some(failed(4, Status::new(404, "Not Found"))));
    for (code, line) in [(408, "504 Gateway Timeout"), (1001, "500 Internal Server Error")] {
        let wire = {
            let mut dst = BytesMut::new();
            proto.encode(&failed(1, Status::new(code, "x")), &mut dst).unwrap();
            String::from_utf8(dst.to_vec()).unwrap()
        };
        assert!(wire.starts_with(&format!("HTTP/1.1 {line}\r\n")), "{wire}");
        assert_eq!(decoded(wire.as_bytes()).unwrap().unwrap().status, Status::new(code, "x"));
    }
    // Without the option, Go's 299; a plain HTTP error reads as its code and reason.
    let go = encoded(&failed(1, Status::new(404, "")));
    assert!(go.starts_with(b"HTTP/1.1 299 Business Error\r\n"));
    let plain = decoded(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy").unwrap().unwrap();
    assert_eq!(plain.status, Status::new(503, "Busy"));
}

#[test]
fn a_bodyless_request_takes_its_argument_from_the_query() {
    let msg = decoded(b"GET /sum?a=1&b=%32 HTTP/1.1\r\nHost: h\r\n\r\n").unwrap().unwrap();
    assert_eq!((msg.body_codec, &msg.body[..]), (b'f', &b"a=1&b=%32"[..]));
    assert_eq!((msg.meta.get("b"), msg.meta.get("X-Accept-Body-Codec")), (Some("2"), Some("106")));
    let msg =
        decoded(b"GET /sum?a=1 HTTP/1.1\r\nAccept: text/plain, */*\r\n\r\n").unwrap().unwrap();
    assert_eq!(msg.meta.get("X-Accept-Body-Codec"), Some("115"));
    let msg = decoded(b"GET /sum HTTP/1.1\r\n\r\n").unwrap().unwrap();
    assert_eq!((msg.body_codec, msg.body.len(), msg.meta.len()), (0, 0, 0));
    let typed =
        b"POST /sum?a=1 HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    let msg = decoded(typed).unwrap().unwrap();
    assert_eq!((msg.body_codec, &msg.body[..]), (b's', &b"hi"[..]));
    assert_eq!(msg.meta.get("X-Accept-Body-Codec"), None);
}

#[test]
fn a_closing_request_is_the_last_one_read() {
    let (proto, conn) = HttpProto::default().http_status_codes(true).for_connection();
    let mut src = BytesMut::from(
        &b"POST /a HTTP/1.1\r\nX-Seq: 5\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n"[..],
    );
    assert_eq!(proto.decode(&mut src).unwrap().unwrap().seq, 5);
    assert_eq!(proto.decode(&mut src), Ok(None));
    assert!(src.is_empty());
    let mut dst = BytesMut::new();
    proto.encode(&reply(5, b'j', b"1"), &mut dst).unwrap();
    let text = String::from_utf8(dst.to_vec()).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\nConnection: close\r\n"), "{text}");
    assert!(!conn.done_at(dst.len() as u64 - 1) && conn.done_at(dst.len() as u64));

    // HTTP/1.0 closes unless it asks to keep the connection alive.
    let (proto, conn) = HttpProto::default().for_connection();
    let mut src = BytesMut::from(&b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"[..]);
    proto.decode(&mut src).unwrap().unwrap();
    proto.encode(&reply(0, b'j', b"1"), &mut BytesMut::new()).unwrap();
    assert!(!conn.done_at(u64::MAX));
    proto.decode(&mut BytesMut::from(&b"GET / HTTP/1.0\r\n\r\n"[..])).unwrap().unwrap();
    proto.encode(&reply(0, b'j', b"1"), &mut BytesMut::new()).unwrap();
    assert!(conn.done_at(u64::MAX));
}

#[test]
fn a_body_over_the_limit_is_answered_413_unread() {
    let limits = Limits { max_frame: 100, max_meta: 1024 };
    let (proto, conn) = HttpProto::new(limits, Default::default()).for_connection();
    let mut src =
        BytesMut::from(&b"POST /a HTTP/1.1\r\nX-Seq: 3\r\nContent-Length: 101\r\n\r\nxx"[..]);
    let err = proto.decode(&mut src).unwrap_err();
    let ProtoError::BadMessage { seq: Some(3), mtype: Some(MessageType::Call), error } = err else {
        panic!("{err:?}");
    };
    assert_eq!(*error, ProtoError::FrameTooLarge { len: 101, max: 100 });
    assert!(src.is_empty());
    let mut dst = BytesMut::new();
    proto.encode(&failed(3, Status::new(400, "bad message")), &mut dst).unwrap();
    let text = String::from_utf8(dst.to_vec()).unwrap();
    assert!(text.starts_with("HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"), "{text}");
    assert!(conn.done_at(dst.len() as u64));
    // Without a connection's state (a client, or a protocol value shared by connections),
    // the stream cannot be read on.
    let shared = HttpProto::new(limits, Default::default());
    let mut src = BytesMut::from(&b"POST /a HTTP/1.1\r\nContent-Length: 101\r\n\r\n"[..]);
    assert_eq!(shared.decode(&mut src), Err(ProtoError::FrameTooLarge { len: 101, max: 100 }));
}
