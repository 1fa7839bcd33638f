//! The thrift protocols, byte for byte from the documented layout (THeader frame, string
//! headers, strict binary message begin, body), and a table of malformed frames, one per
//! class, each with the error it must give.
#![cfg(feature = "thrift")]

#[path = "support/malformed.rs"]
#[allow(dead_code)]
mod malformed;

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use malformed::{
    Case, Want, each_gives_its_error, limits_hold, only_broken_boundaries_close, refused,
};
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, Limits, ThriftProto};
use teleport::xfer::XferError;
use teleport::{Message, MessageType, Meta, Proto, ProtoError, Status, XferPipe, XferRegistry};

/// `Test { author: "tp" }` in the binary protocol: field string #1, length 2, "tp", STOP.
const TEST_TP: &[u8] = b"\x0b\x00\x01\x00\x00\x00\x02tp\x00";

fn binary() -> ThriftProto {
    ThriftProto::binary(Limits::default(), Arc::new(XferRegistry::default()))
}

fn structs() -> ThriftProto {
    ThriftProto::structs(Limits::default())
}

/// A THeader info block of string headers, from the layout: protocol id 0 (binary), no
/// transforms, info id 1 (key-value), the count, then each key and value with a varint
/// length (all shorter than 128 here), zero-padded to a multiple of 4.
fn header_block(headers: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0, 0, 1, headers.len() as u8];
    for (key, value) in headers {
        out.push(key.len() as u8);
        out.extend_from_slice(key.as_bytes());
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// A THeader frame: length (of what follows), magic 0x0FFF, flags 0, sequence number,
/// header size in words, the header block, the payload.
fn theader(seq: i32, block: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_u32((10 + block.len() + payload.len()) as u32);
    out.put_u16(0x0FFF);
    out.put_u16(0);
    out.put_i32(seq);
    out.put_u16((block.len() / 4) as u16);
    out.extend_from_slice(block);
    out.extend_from_slice(payload);
    out
}

/// A strict binary message begin: version 1 and type, the name, the seqid.
fn begin(name: &str, thrift_type: u8, seq: i32) -> Vec<u8> {
    let mut out = vec![0x80, 0x01, 0x00, thrift_type];
    out.put_u32(name.len() as u32);
    out.extend_from_slice(name.as_bytes());
    out.put_i32(seq);
    out
}

/// A thrift `binary`: i32 length, then the bytes.
fn binary_field(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

fn call() -> Message {
    let mut msg = Message::new(MessageType::Call, 1, "Home.Test");
    msg.meta = Meta::from_iter([("peer_id", "110")]);
    msg.body_codec = b't';
    msg.body = Bytes::from_static(TEST_TP);
    msg
}

fn encoded(proto: &dyn Proto, msg: &Message) -> Vec<u8> {
    let mut dst = BytesMut::new();
    proto.encode(msg, &mut dst).unwrap();
    dst.to_vec()
}

fn decoded(proto: &dyn Proto, bytes: &[u8]) -> Message {
    let mut src = BytesMut::from(bytes);
    let msg = proto.decode(&mut src).unwrap().expect("a whole frame");
    assert!(src.is_empty());
    msg
}

fn binary_call_bytes() -> Vec<u8> {
    let block = header_block(&[
        ("Tp-Status", b"code=0"),
        ("Tp-Meta", b"peer_id=110"),
        ("Tp-BodyCodec", b"t"),
        ("Tp-XferPipe", b""),
    ]);
    let payload = [begin("Home.Test", 1, 1), binary_field(TEST_TP)].concat();
    theader(1, &block, &payload)
}

#[test]
fn binary_call_bytes_follow_the_layout() {
    let want = binary_call_bytes();
    assert_eq!(want.len(), 4 + 10 + 72 + 35, "the layout's sizes");
    assert_eq!(encoded(&binary(), &call()), want);
    assert_eq!(decoded(&binary(), &want), call());
}

#[test]
fn binary_reply_push_and_filters() {
    let mut reply = Message::new(MessageType::Reply, 7, "");
    reply.status = Status::new(10_001, "too big").cause("n=7");
    let block = header_block(&[
        ("Tp-Status", b"code=10001&msg=too%20big&cause=n%3D7"),
        ("Tp-Meta", b""),
        ("Tp-BodyCodec", b"\x00"),
        ("Tp-XferPipe", b""),
    ]);
    let want = theader(7, &block, &[begin("", 2, 7), binary_field(b"")].concat());
    assert_eq!(encoded(&binary(), &reply), want);
    assert_eq!(decoded(&binary(), &want), reply);

    let mut push = Message::new(MessageType::Push, 2, "Home.Note");
    push.body_codec = b'j';
    push.body = Bytes::from_static(b"\"hi\"");
    push.xfer_pipe = XferPipe::from_ids(b"g").unwrap();
    let wire = encoded(&binary(), &push);
    let payload_at = 14 + 4 * usize::from(u16::from_be_bytes([wire[12], wire[13]]));
    assert_eq!(&wire[payload_at..payload_at + 4], &[0x80, 0x01, 0x00, 0x04], "ONEWAY");
    assert_eq!(decoded(&binary(), &wire), push);
}

#[test]
fn struct_variant_writes_the_struct_itself() {
    let mut msg = call();
    let block = header_block(&[("Tp-Status", b"code=0"), ("Tp-Meta", b"peer_id=110")]);
    let want = theader(1, &block, &[begin("Home.Test", 1, 1), TEST_TP.to_vec()].concat());
    assert_eq!(encoded(&structs(), &msg), want);
    assert_eq!(decoded(&structs(), &want), msg);

    // An error reply without a body travels as the empty struct, in codec thrift.
    msg = Message::new(MessageType::Reply, 3, "");
    msg.status = Status::new(404, "Not Found");
    let got = decoded(&structs(), &encoded(&structs(), &msg));
    assert_eq!((got.status, got.body_codec, &got.body[..]), (msg.status, b't', &b"\x00"[..]));
}

#[test]
fn headers_in_any_order_and_non_strict_begins_are_read() {
    let block = header_block(&[
        ("Tp-XferPipe", b""),
        ("X-Other", b"ignored"),
        ("Tp-BodyCodec", b"t"),
        ("Tp-Meta", b"peer_id=110"),
        ("Tp-Status", b"code=0"),
    ]);
    let mut loose = 9u32.to_be_bytes().to_vec();
    loose.extend_from_slice(b"Home.Test");
    loose.push(1);
    loose.put_i32(1);
    let wire = theader(99, &block, &[loose, binary_field(TEST_TP)].concat());
    assert_eq!(decoded(&binary(), &wire), call());
}

#[test]
fn types_map_as_go_maps_them() {
    let block = header_block(&[("Tp-BodyCodec", b"j")]);
    // Type 0 (what Go writes for auth messages) and unknown types read as pushes.
    for thrift_type in [0, 4, 9] {
        let wire = theader(1, &block, &[begin("A.B", thrift_type, 5), binary_field(b"1")].concat());
        assert_eq!(decoded(&binary(), &wire).mtype, MessageType::Push, "{thrift_type}");
    }
    // An EXCEPTION ends only its call: a reply carrying the exception's message.
    let exception = b"\x0b\x00\x01\x00\x00\x00\x04oops\x08\x00\x02\x00\x00\x00\x01\x00";
    let wire = theader(1, &block, &[begin("A.B", 3, 5), exception.to_vec()].concat());
    let reply = decoded(&binary(), &wire);
    assert_eq!((reply.mtype, reply.seq), (MessageType::Reply, 5));
    assert_eq!((reply.status.code(), reply.status.msg()), (-1, "oops"));
    // Auth messages cannot travel: Go would read them as pushes.
    let auth = Message::new(MessageType::AuthCall, 1, "");
    assert!(matches!(refused(&binary(), &auth), ProtoError::Unsupported { .. }));
}

#[test]
fn struct_variant_refuses_other_codecs_and_filters() {
    let mut msg = call();
    msg.body_codec = b'j';
    assert!(matches!(refused(&structs(), &msg), ProtoError::Unsupported { .. }));
    let mut msg = call();
    msg.xfer_pipe = XferPipe::from_ids(b"g").unwrap();
    assert!(matches!(refused(&structs(), &msg), ProtoError::Unsupported { .. }));
}

#[test]
fn binary_limits_hold() {
    limits_hold(|limits| Box::new(ThriftProto::binary(limits, Arc::new(XferRegistry::default()))));
}

fn truncated(field: &'static str) -> ProtoError {
    ProtoError::Truncated { field }
}

fn unsupported() -> Want {
    Want::Unsupported
}

fn cases() -> Vec<Case> {
    use Want::{Is, Malformed};
    let ok_block = header_block(&[("Tp-BodyCodec", b"j")]);
    let ok_payload = [begin("A.B", 1, 1), binary_field(b"1")].concat();
    let with_block = |block: Vec<u8>| theader(1, &block, &ok_payload);
    let with_payload = |payload: Vec<u8>| theader(1, &ok_block, &payload);
    let with_headers = |headers: &[(&str, &[u8])]| theader(1, &header_block(headers), &ok_payload);
    let too_large = |len: u64| ProtoError::FrameTooLarge { len, max: DEFAULT_MAX_FRAME };
    let mut bad_magic = with_payload(ok_payload.clone());
    bad_magic[4] = 0x80;
    let mut header_past_end = with_payload(ok_payload.clone());
    header_past_end[13] = 0xFF;
    let long_meta = format!("k={}", "v".repeat(DEFAULT_MAX_META));
    vec![
        (
            "length under the fixed header",
            vec![0, 0, 0, 9],
            Is(ProtoError::FrameTooShort { len: 9 }),
        ),
        (
            "length over the limit",
            (DEFAULT_MAX_FRAME as u32 + 1).to_be_bytes().to_vec(),
            Is(too_large(DEFAULT_MAX_FRAME as u64 + 1)),
        ),
        ("length of 4 GiB", vec![0xFF; 4], Is(too_large(u32::MAX.into()))),
        ("not THeader magic", bad_magic, Malformed),
        ("header size past the end", header_past_end, Is(truncated("thrift header"))),
        ("compact protocol id", with_block(vec![2, 0, 0, 0]), unsupported()),
        ("zlib transform", with_block(vec![0, 1, 1, 0]), unsupported()),
        ("unknown info block", with_block(vec![0, 0, 5, 0]), unsupported()),
        (
            "header count past the end",
            with_block(vec![0, 0, 1, 100]),
            Is(truncated("thrift headers")),
        ),
        (
            "header key past the end",
            with_block(vec![0, 0, 1, 1, 9, b'a', 0, 0]),
            Is(truncated("thrift header key")),
        ),
        ("varint over 32 bits", with_block(vec![0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0]), Malformed),
        (
            "varint without end",
            with_block(vec![0x80, 0x80, 0x80, 0x80]),
            Is(truncated("thrift protocol id")),
        ),
        (
            "no message begin",
            with_payload(vec![0x80, 0x01]),
            Is(truncated("thrift message header")),
        ),
        (
            "unknown version",
            with_payload([vec![0x80, 0x02, 0, 1], ok_payload[4..].to_vec()].concat()),
            Malformed,
        ),
        (
            "name past the end",
            with_payload(vec![0x80, 1, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, b'a']),
            Is(truncated("thrift message name")),
        ),
        (
            "name not utf-8",
            with_payload([vec![0x80, 1, 0, 1, 0, 0, 0, 1, 0xFF], vec![0; 8]].concat()),
            Is(ProtoError::ServiceMethodNotUtf8),
        ),
        (
            "no seqid",
            with_payload(begin("A.B", 1, 1)[..12].to_vec()),
            Is(truncated("thrift sequence id")),
        ),
        ("no body length", with_payload(begin("A.B", 1, 1)), Is(truncated("thrift body length"))),
        (
            "body past the end",
            with_payload([begin("A.B", 1, 1), vec![0x7F, 0xFF, 0xFF, 0xFF, 1]].concat()),
            Is(truncated("thrift body")),
        ),
        (
            "bad status",
            with_headers(&[("Tp-Status", b"code=x")]),
            Is(ProtoError::BadStatus(MetaError::BadCode("x".into()))),
        ),
        (
            "bad meta escape",
            with_headers(&[("Tp-Meta", b"a=%4")]),
            Is(ProtoError::BadMeta(MetaError::BadEscape)),
        ),
        (
            "meta over the limit",
            theader(1, &long_header_block(long_meta.as_bytes()), &ok_payload),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 2, max: DEFAULT_MAX_META }),
        ),
        (
            "unknown filter id",
            with_headers(&[("Tp-XferPipe", b"z")]),
            Is(ProtoError::Xfer(XferError::UnknownFilter(b'z'))),
        ),
        (
            "exception not a struct",
            with_payload([begin("A.B", 3, 1), vec![0x0b, 0, 1, 0x7F]].concat()),
            Malformed,
        ),
    ]
}

/// A header block with one `Tp-Meta` header longer than a one-byte varint holds.
fn long_header_block(meta: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 1, 1, 7];
    out.extend_from_slice(b"Tp-Meta");
    let mut n = meta.len() as u32;
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(meta);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

#[test]
fn malformed_frames_each_give_their_error() {
    each_gives_its_error(&binary(), &cases());
}

#[test]
fn only_a_broken_boundary_closes_the_connection() {
    let boundary = ["length under the fixed header", "length over the limit", "length of 4 GiB"];
    only_broken_boundaries_close(&binary(), &cases(), &boundary);
}

#[test]
fn struct_variant_malformed_frames() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|(name, ..)| {
            !name.starts_with("no body")
                && !name.starts_with("body past")
                && !name.contains("filter")
        })
        .collect();
    each_gives_its_error(&structs(), &cases);
}
