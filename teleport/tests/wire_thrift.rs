//! The thrift protocols, byte for byte from the documented layout (THeader frame, string
//! headers, strict binary message begin, body). Their malformed frames are the thrift table
//! of `tests/wire_malformed/`.
#![cfg(feature = "thrift")]

#[path = "support/malformed.rs"]
#[allow(dead_code)]
mod malformed;
#[path = "support/thrift_frames.rs"]
mod thrift_frames;

use bytes::{BufMut, Bytes, BytesMut};
use malformed::refused;
use teleport::{Message, MessageType, Meta, Proto, ProtoError, Status, XferPipe};
use thrift_frames::{begin, binary, binary_field, header_block, structs, theader};

/// `Test { author: "tp" }` in the binary protocol: field string #1, length 2, "tp", STOP.
const TEST_TP: &[u8] = b"\x0b\x00\x01\x00\x00\x00\x02tp\x00";

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
