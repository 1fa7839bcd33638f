//! The protobuf table: malformed `protobuf` protocol frames, one per class, each with the
//! error it must give; and the valid encodings Go's runtime may produce, which are read.

use bytes::BytesMut;
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_META, ProtobufProto};
use teleport::{Message, MessageType, Proto, ProtoError};

use crate::malformed::{Case, Want, frame, framing_cases, the_next_frame_is_read};

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// A varint field; `v` is sign-extended as protobuf does for a negative int32.
fn int(tag: u64, v: i64) -> Vec<u8> {
    [varint(tag << 3), varint(v as u64)].concat()
}

/// A length-delimited field.
fn bytes(tag: u64, v: &[u8]) -> Vec<u8> {
    [varint(tag << 3 | 2), varint(v.len() as u64), v.to_vec()].concat()
}

/// The fields of a valid call, in Go's order.
fn good() -> Vec<Vec<u8>> {
    vec![int(1, 1), int(2, 1), bytes(3, b"/a"), bytes(4, b"code=0"), int(6, 106), bytes(7, b"[1]")]
}

/// A frame of the good call with field `tag` (below 16: its key is one byte) replaced.
fn with(tag: u8, field: Vec<u8>) -> Vec<u8> {
    let mut fields = good();
    fields.retain(|f| f[0] >> 3 != tag);
    fields.push(field);
    frame(b"", &fields.concat())
}

pub(crate) fn cases() -> Vec<Case> {
    use Want::{Is, Malformed};
    let raw = |payload: &[u8]| frame(b"", payload);
    let long_meta = [&b"a="[..], &vec![b'b'; DEFAULT_MAX_META - 1]].concat();
    let mut cases = framing_cases(&good().concat());
    cases.extend([
        ("truncated varint", raw(&[0x08, 0xFF]), Malformed),
        ("varint of 11 bytes", raw(&[[0x08].as_slice(), &[0xFF; 10], &[0x01]].concat()), Malformed),
        ("length past the end", raw(&[0x1A, 0x10, b'/', b'a']), Malformed),
        ("length of 2^63", raw(&[&[0x3A][..], &varint(1 << 63)].concat()), Malformed),
        ("seq as bytes", with(1, bytes(1, b"1")), Malformed),
        ("body as a varint", with(7, int(7, 1)), Malformed),
        ("wire type 6", raw(&[0x0E, 0x00]), Malformed),
        ("field number 0", raw(&[0x00, 0x00]), Malformed),
        ("group never ended", raw(&[0x43, 0x08, 0x01]), Malformed),
        ("empty message: mtype 0", raw(b""), Is(ProtoError::UnknownMessageType(0))),
        ("mtype 6", with(2, int(2, 6)), Is(ProtoError::UnknownMessageType(6))),
        ("mtype 257 (Go would read 1)", with(2, int(2, 257)), Malformed),
        ("mtype -1", with(2, int(2, -1)), Malformed),
        ("bodyCodec 256", with(6, int(6, 256)), Malformed),
        (
            "service method not utf-8",
            with(3, bytes(3, b"/a\xC3\x28")),
            Is(ProtoError::ServiceMethodNotUtf8),
        ),
        (
            "bad status escape",
            with(4, bytes(4, b"code=400&msg=%ZZ")),
            Is(ProtoError::BadStatus(MetaError::BadEscape)),
        ),
        (
            "status text not utf-8",
            with(4, bytes(4, b"code=400&msg=%FF")),
            Is(ProtoError::BadStatus(MetaError::NotUtf8)),
        ),
        (
            "meta over the limit",
            with(5, bytes(5, &long_meta)),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META }),
        ),
        (
            "bad meta escape",
            with(5, bytes(5, b"a=%4")),
            Is(ProtoError::BadMeta(MetaError::BadEscape)),
        ),
    ]);
    cases
}

/// A bad meta escape and a service method that is not UTF-8, with the seq and type read
/// before them: the call is answered 400 and the next frame is read.
pub(crate) fn a_bad_message_costs_itself_alone(proto: &dyn Proto) {
    let bad = frame(b"", &[int(1, 4), int(2, 3), bytes(5, b"a=%zz")].concat());
    the_next_frame_is_read(proto, &bad, 4, MessageType::Push);
    the_next_frame_is_read(proto, &with(3, bytes(3, b"/\xff")), 1, MessageType::Call);
}

fn decode(payload: &[u8]) -> Message {
    let mut src = BytesMut::from(&frame(b"", payload)[..]);
    let msg = ProtobufProto::default().decode(&mut src).expect("valid").expect("whole");
    assert!(src.is_empty());
    msg
}

/// Any valid encoding of the message is read: fields in any order, a repeated field (the
/// last one wins), unknown fields of every wire type skipped, int32 varints of ten bytes.
#[test]
fn every_valid_encoding_is_read() {
    let mut want = Message::new(MessageType::Call, 1, "/a");
    want.body_codec = b'j';
    want.body = bytes::Bytes::from_static(b"[1]");
    assert_eq!(decode(&good().concat()), want);

    let mut reversed = good();
    reversed.reverse();
    assert_eq!(decode(&reversed.concat()), want);

    let unknown = [
        int(9, 5),
        bytes(10, b"x"),
        vec![0x5D, 1, 2, 3, 4],
        vec![0x61, 1, 2, 3, 4, 5, 6, 7, 8],
        vec![0x6B, 0x08, 0x01, 0x6C],
    ];
    let noisy = [&[int(1, 99), bytes(7, b"old")][..], &unknown, &good()].concat();
    assert_eq!(decode(&noisy.concat()), want);

    let mut negative = want.clone();
    negative.seq = i32::MIN;
    assert_eq!(decode(&[good().concat(), int(1, i32::MIN.into())].concat()), negative);
}
