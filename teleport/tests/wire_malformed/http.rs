//! The http table: malformed `http` protocol messages, one per class, each with the error it
//! must give; what HTTP clients may send, which is read; and the encoder's refusals, which
//! must leave the destination buffer as it was.

use bytes::{Bytes, BytesMut};
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, HttpProto, Limits};
use teleport::xfer::{Md5, XferError, XferFilter};
use teleport::{Message, MessageType, Meta, Proto, ProtoError, XferPipe};

use crate::malformed::{Case, Want, refused, the_next_frame_is_read};

/// The largest head under the default limits.
const MAX_HEAD: usize = DEFAULT_MAX_META + (4 << 10);
/// One byte over the frame limit.
const OVER: u64 = DEFAULT_MAX_FRAME as u64 + 1;

/// A request to `/a` with the given extra header lines and body.
fn request(headers: impl AsRef<[u8]>, body: &[u8]) -> Vec<u8> {
    let length = format!("Content-Length: {}\r\n\r\n", body.len());
    [b"POST /a HTTP/1.1\r\n", headers.as_ref(), length.as_bytes(), body].concat()
}

/// A response with the given status line, extra header lines and body.
fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let head = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n", body.len());
    [head.as_bytes(), body].concat()
}

fn unsupported(what: &str) -> Want {
    Want::Is(ProtoError::Unsupported { proto: "http", what: what.into() })
}

pub(crate) fn cases() -> Vec<Case> {
    use Want::{Is, Malformed};
    let bytes = |text: &str| text.as_bytes().to_vec();
    let lines = |n: usize| (0..n).map(|i| format!("M{i}: v\r\n")).collect::<String>();
    let long_meta = format!("K: {}\r\n", "v".repeat(DEFAULT_MAX_META - 4));
    let endless = format!("POST /a HTTP/1.1\r\nK: {}", "v".repeat(MAX_HEAD));
    let mut bad_md5 = Md5::new(b'm').pack(Bytes::from_static(b"[1]")).unwrap().to_vec();
    bad_md5[0] ^= 1;
    vec![
        ("not HTTP", bytes("\x00\x01 / HTTP/1.1\r\n\r\n"), Malformed),
        ("space in a header name", request("Bad Name: x\r\n", b""), Malformed),
        ("control byte in a header value", request("A: b\x01c\r\n", b""), Malformed),
        ("HTTP/2.0", bytes("POST /a HTTP/2.0\r\n\r\n"), Malformed),
        ("target not UTF-8", b"POST /\xff HTTP/1.1\r\n\r\n".to_vec(), Malformed),
        ("target not a path", bytes("POST a HTTP/1.1\r\n\r\n"), Malformed),
        ("asterisk target", bytes("OPTIONS * HTTP/1.1\r\n\r\n"), Malformed),
        ("bad escape in the path", bytes("POST /%zz HTTP/1.1\r\n\r\n"), Malformed),
        (
            "path not UTF-8",
            bytes("POST /%ff HTTP/1.1\r\n\r\n"),
            Is(ProtoError::ServiceMethodNotUtf8),
        ),
        (
            "chunked body",
            bytes("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n"),
            unsupported("Transfer-Encoding \"chunked\""),
        ),
        (
            "Content-Length not a number",
            bytes("POST /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"),
            Malformed,
        ),
        (
            "negative Content-Length",
            bytes("POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Malformed,
        ),
        (
            "Content-Length over the limit",
            bytes(&format!("POST /a HTTP/1.1\r\nContent-Length: {OVER}\r\n\r\n")),
            Is(ProtoError::FrameTooLarge { len: OVER, max: DEFAULT_MAX_FRAME }),
        ),
        (
            "Content-Length beyond u64",
            bytes(&format!("POST /a HTTP/1.1\r\nContent-Length: {}\r\n\r\n", "9".repeat(30))),
            Is(ProtoError::FrameTooLarge { len: u64::MAX, max: DEFAULT_MAX_FRAME }),
        ),
        ("two Content-Lengths", request("content-length: 0\r\n", b""), Malformed),
        ("two X-Seqs", request("X-Seq: 1\r\nx-seq: 1\r\n", b""), Malformed),
        ("X-Seq not a number", request("X-Seq: 1a\r\n", b""), Is(ProtoError::BadSeq("1a".into()))),
        ("X-Seq empty", request("X-Seq:\r\n", b""), Is(ProtoError::BadSeq(String::new()))),
        (
            "X-Seq 2^31",
            request("X-Seq: 2147483648\r\n", b""),
            Is(ProtoError::SeqOutOfRange("2147483648".into())),
        ),
        (
            "X-Mtype of a push",
            request("X-Mtype: 3\r\n", b""),
            unsupported("PUSH (HTTP has no one-way message)"),
        ),
        ("X-Mtype 9", request("X-Mtype: 9\r\n", b""), Is(ProtoError::UnknownMessageType(9))),
        ("X-Mtype 256", request("X-Mtype: 256\r\n", b""), Malformed),
        ("X-Mtype -1", request("X-Mtype: -1\r\n", b""), Malformed),
        ("a request carrying a reply", request("X-Mtype: 2\r\n", b""), Malformed),
        (
            "meta value not UTF-8",
            request(b"A: \xff\r\n", b""),
            Is(ProtoError::BadMeta(MetaError::NotUtf8)),
        ),
        (
            "meta over the limit",
            request(&long_meta, b""),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META }),
        ),
        ("129 meta headers", request(lines(129), b""), Is(ProtoError::TooManyHeaders { max: 128 })),
        ("145 header lines", request(lines(145), b""), Is(ProtoError::TooManyHeaders { max: 128 })),
        ("head never ends", bytes(&endless), Is(ProtoError::HeadTooLarge { max: MAX_HEAD })),
        (
            "Content-Encoding br",
            request("Content-Encoding: br\r\n", b"x"),
            unsupported("Content-Encoding \"br\""),
        ),
        (
            "unknown transfer filter",
            request("X-Content-Encoding: zstd\r\n", b"x"),
            unsupported("the transfer filter \"zstd\""),
        ),
        (
            "md5 mismatch",
            request("X-Content-Encoding: md5\r\n", &bad_md5),
            Is(ProtoError::Xfer(XferError::ChecksumMismatch)),
        ),
        ("response 302", response("302 Found", "", b""), unsupported("the HTTP status 302")),
        (
            "bad escape in the query",
            bytes("POST /a?q=%zz HTTP/1.1\r\n\r\n"),
            Is(ProtoError::BadMeta(MetaError::BadEscape)),
        ),
        (
            "query over the meta limit",
            bytes(&format!("GET /a?{} HTTP/1.1\r\nK: v\r\n\r\n", "q".repeat(DEFAULT_MAX_META))),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 6, max: DEFAULT_MAX_META }),
        ),
        ("response carrying a call", response("200 OK", "X-Mtype: 1\r\n", b""), Malformed),
        (
            "response of a push",
            response("200 OK", "X-Mtype: 3\r\n", b""),
            unsupported("PUSH (HTTP has no one-way message)"),
        ),
        ("299 without a status", response("299 Business Error", "", b""), Malformed),
        ("299 with status code 0", response("299 Business Error", "", br#"{"code":0}"#), Malformed),
        ("299 with text", response("299 Business Error", "", b"oops"), Malformed),
        (
            "299 with code as text",
            response("299 Business Error", "", br#"{"code":"1"}"#),
            Malformed,
        ),
        ("bad status code", bytes("HTTP/1.1 2x0 OK\r\n\r\n"), Malformed),
        ("HTTP/ then garbage", bytes("HTTP/x\r\n\r\n"), Malformed),
    ]
}

/// Once a request is buffered whole (head and body), a fault inside it fails it alone, with
/// the seq and type read before the fault: a meta value that is not UTF-8, an unknown
/// transfer filter, a path that is not UTF-8.
pub(crate) fn a_bad_message_costs_itself_alone(proto: &dyn Proto) {
    let call = MessageType::Call;
    the_next_frame_is_read(proto, &request(b"X-Seq: 9\r\nA: \xff\r\n", b"[1]"), 9, call);
    let unknown = request("X-Seq: 8\r\nX-Content-Encoding: zstd\r\n", b"x");
    the_next_frame_is_read(proto, &unknown, 8, call);
    the_next_frame_is_read(proto, b"POST /%ff HTTP/1.1\r\nX-Seq: 2\r\n\r\n", 2, call);
}

/// What HTTP clients may send and Go's writer never does is read all the same.
#[test]
fn what_http_clients_may_send_is_read() {
    let proto = HttpProto::default();
    let read = |text: &[u8]| proto.decode(&mut BytesMut::from(text)).unwrap().unwrap();

    let msg =
        read(b"\r\nGET http://h:1/x/%7Ey?q=%41#frag HTTP/1.0\nhost: h:1\nx-seq: +5\nA:  b c \n\n");
    assert_eq!((msg.mtype, msg.seq), (MessageType::Call, 5));
    assert_eq!(msg.service_method, "/x/~y?q=%41");
    // The query is meta and, with no body, the body: a form, answered in JSON.
    let meta = [("q", "A"), ("host", "h:1"), ("A", "b c"), ("X-Accept-Body-Codec", "106")];
    assert_eq!(msg.meta, Meta::from_iter(meta));
    assert_eq!((msg.body_codec, &msg.body[..]), (b'f', &b"q=%41"[..]));

    let msg = read(&request("Content-Type: application/octet-stream\r\n", b"\x00\xff"));
    assert_eq!((msg.body_codec, &msg.body[..]), (0, &b"\x00\xff"[..]));
    let msg = read(&request("Content-Type: TEXT/PLAIN; charset=latin1\r\n", b"hi"));
    assert_eq!(msg.body_codec, b's');
    let msg = read(&request("Content-Encoding: identity\r\n", b"[1]"));
    assert!(msg.xfer_pipe.is_empty());
    let msg = read(b"POST http://h HTTP/1.1\r\n\r\n");
    assert_eq!(msg.service_method, "/");
    let msg = read(&response("200 Whatever", "X-Mtype: 5\r\n", b""));
    assert_eq!((msg.mtype, msg.status.is_ok()), (MessageType::AuthReply, true));
    let msg = read(&response("299 Business Error", "", br#"{"code":5,"msg":"m","cause":""}"#));
    assert_eq!((msg.status.code(), msg.status.msg(), msg.status.cause_text()), (5, "m", None));
    // With HTTP status codes, an error is a 4xx or 5xx: its status JSON, or its code.
    let msg = read(&response("404 Not Found", "", br#"{"code":404,"msg":"m","cause":"c"}"#));
    assert_eq!(msg.status, teleport::Status::new(404, "m").cause("c"));
    let msg = read(&response("502 Bad Gateway", "", b"<html>"));
    assert_eq!(msg.status, teleport::Status::new(502, "Bad Gateway"));
}

/// A call as Go eRPC v6's httproto client writes it for
/// `sess.Call("/home/test?author=henrylee2cn", arg, &result)`: Go's `Pack` sorts the headers
/// by name, puts the query on the request line and adds its own `User-Agent` and
/// `Accept-Encoding`. Go's server moves the query into the meta; so does ours, and the
/// query stays on the service method for `CallCtx::query`.
const GO_CALL_WITH_QUERY: &[u8] = b"POST /home/test?author=henrylee2cn&peer_id=110 HTTP/1.1\r\n\
    Accept-Encoding: gzip\r\nContent-Length: 24\r\n\
    Content-Type: application/json;charset=utf-8\r\nUser-Agent: erpc-httproto/1.1\r\n\
    X-Mtype: 1\r\nX-Seq: 7\r\n\r\n{\"author\":\"henrylee2cn\"}";

#[test]
fn a_go_clients_query_is_meta() {
    let msg =
        HttpProto::default().decode(&mut BytesMut::from(GO_CALL_WITH_QUERY)).unwrap().unwrap();
    assert_eq!((msg.mtype, msg.seq, msg.path()), (MessageType::Call, 7, "/home/test"));
    assert_eq!(msg.meta.get("author"), Some("henrylee2cn"));
    assert_eq!(msg.meta.get("peer_id"), Some("110"));
    assert_eq!(msg.query().unwrap().get("peer_id"), Some("110"));
    assert_eq!(msg.meta.get("User-Agent"), Some("erpc-httproto/1.1"));
    assert_eq!((msg.body_codec, &msg.body[..]), (b'j', &b"{\"author\":\"henrylee2cn\"}"[..]));
}

#[test]
fn the_encoder_refuses_what_http_cannot_carry() {
    let proto = HttpProto::default();
    let call = || Message::new(MessageType::Call, 1, "/a");
    let with_meta = |key: &str, value: &str| {
        let mut msg = call();
        msg.meta.add(key, value);
        msg
    };
    let is_unsupported = |msg: &Message| {
        let err = refused(&proto, msg);
        assert!(matches!(err, ProtoError::Unsupported { proto: "http", .. }), "{err:?}");
    };
    is_unsupported(&Message::new(MessageType::Push, 1, "/p"));
    is_unsupported(&with_meta("a b", "v"));
    is_unsupported(&with_meta("", "v"));
    is_unsupported(&with_meta("é", "v"));
    is_unsupported(&with_meta("Transfer-Encoding", "chunked"));
    is_unsupported(&with_meta("x-mtype", "3"));
    is_unsupported(&with_meta("K", "a\nb"));
    is_unsupported(&with_meta("K", "\x7f"));
    is_unsupported(&Message::new(MessageType::Call, 1, "http://h\r\nX: y/a"));
    let mut msg = call();
    msg.body_codec = b'q';
    is_unsupported(&msg);
    msg.body_codec = b'j';
    msg.xfer_pipe = XferPipe::from_ids(b"mm").unwrap();
    is_unsupported(&msg);
    msg.xfer_pipe = XferPipe::from_ids(b"z").unwrap();
    assert_eq!(refused(&proto, &msg), ProtoError::Xfer(XferError::UnknownFilter(b'z')));

    let mut msg = call();
    msg.meta = (0..129).map(|i| (format!("M{i}"), "v")).collect();
    assert_eq!(refused(&proto, &msg), ProtoError::TooManyHeaders { max: 128 });
    let msg = with_meta("K", &"v".repeat(DEFAULT_MAX_META - 4));
    let err = ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META };
    assert_eq!(refused(&proto, &msg), err);
    let msg = Message::new(MessageType::Call, 1, format!("/{}", "a".repeat(MAX_HEAD)));
    assert_eq!(refused(&proto, &msg), ProtoError::HeadTooLarge { max: MAX_HEAD });
    let mut msg = call();
    msg.body = Bytes::from(vec![0; DEFAULT_MAX_FRAME + 1]);
    let err = ProtoError::FrameTooLarge { len: OVER, max: DEFAULT_MAX_FRAME };
    assert_eq!(refused(&proto, &msg), err);
}

/// A message exactly at the limits passes both ways; one byte more is refused both ways.
#[test]
fn limits_are_exact() {
    let mut msg = Message::new(MessageType::Reply, 9, "");
    msg.body_codec = b's';
    msg.body = Bytes::from(vec![b'x'; 100]);
    msg.meta.add("K", "v".repeat(10));
    let exact = HttpProto::new(Limits { max_frame: 100, max_meta: 15 }, Default::default());
    let mut wire = BytesMut::new();
    exact.encode(&msg, &mut wire).unwrap();
    assert_eq!(exact.decode(&mut wire.clone()), Ok(Some(msg.clone())));
    let short = HttpProto::new(Limits { max_frame: 99, max_meta: 15 }, Default::default());
    let err = ProtoError::FrameTooLarge { len: 100, max: 99 };
    assert_eq!(refused(&short, &msg), err);
    assert_eq!(short.decode(&mut wire.clone()), Err(err));
    let short = HttpProto::new(Limits { max_frame: 100, max_meta: 14 }, Default::default());
    let err = ProtoError::MetaTooLong { len: 15, max: 14 };
    assert_eq!(refused(&short, &msg), err);
    assert_eq!(short.decode(&mut wire), Err(err));
}
