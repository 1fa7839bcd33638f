//! The raw table: malformed raw frames, one per class, each with the error it must produce;
//! and the raw encoder's refusals, which must leave the destination buffer as it was.

use bytes::{Bytes, BytesMut};
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, Limits};
use teleport::xfer::{Gzip, Md5, XferError, XferFilter};
use teleport::{Message, MessageType, Meta, Proto, ProtoError, RawProto, Status, XferPipe};

use crate::malformed::{Case, Want, inner, refused};

/// A frame: length prefix (counting itself), pipe, then `payload` as given.
fn frame(pipe: &[u8], payload: &[u8]) -> Vec<u8> {
    let len = 4 + 1 + pipe.len() + payload.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
    out.push(u8::try_from(pipe.len()).unwrap());
    out.extend_from_slice(pipe);
    out.extend_from_slice(payload);
    out
}

/// A well-formed unfiltered payload with the given fields and an empty body.
fn payload(seq: &[u8], mtype: u8, method: &[u8], status: &[u8], meta: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(u8::try_from(seq.len()).unwrap());
    out.extend_from_slice(seq);
    out.push(mtype);
    out.push(u8::try_from(method.len()).unwrap());
    out.extend_from_slice(method);
    out.extend_from_slice(&u16::try_from(status.len()).unwrap().to_be_bytes());
    out.extend_from_slice(status);
    out.extend_from_slice(&u16::try_from(meta.len()).unwrap().to_be_bytes());
    out.extend_from_slice(meta);
    out.push(b'j');
    out
}

fn call(seq: &[u8], mtype: u8, method: &[u8], status: &[u8], meta: &[u8]) -> Vec<u8> {
    frame(b"", &payload(seq, mtype, method, status, meta))
}

fn good_payload() -> Vec<u8> {
    payload(b"1", 1, b"/math/add", b"code=0", b"")
}

fn truncated(field: &'static str) -> ProtoError {
    ProtoError::Truncated { field }
}

pub(crate) fn cases() -> Vec<Case> {
    use Want::Is;
    let mut md5_tampered = Md5::new(b'm').pack(Bytes::from(good_payload())).unwrap().to_vec();
    md5_tampered[3] ^= 0x20;
    let gzip_good = Gzip::new(b'g', 5).pack(Bytes::from(good_payload())).unwrap();
    let mut gzip_corrupt = gzip_good.to_vec();
    let mid = gzip_corrupt.len() / 2;
    gzip_corrupt[mid] ^= 0xFF;
    let md5_of_nothing = Md5::new(b'm').pack(Bytes::new()).unwrap();
    let long_meta = [&b"a="[..], &vec![b'b'; DEFAULT_MAX_META - 1]].concat();
    let over_max = u32::try_from(DEFAULT_MAX_FRAME + 1).unwrap().to_be_bytes();

    vec![
        ("length 0", vec![0, 0, 0, 0], Is(ProtoError::FrameTooShort { len: 0 })),
        ("length 4: the prefix alone", vec![0, 0, 0, 4], Is(ProtoError::FrameTooShort { len: 4 })),
        ("length 5: no payload", vec![0, 0, 0, 5, 0], Is(ProtoError::FrameTooShort { len: 5 })),
        (
            "payload shorter than the fixed header",
            frame(b"", &[1, b'1', 1, 0, 0, 0, 0]),
            Is(ProtoError::FrameTooShort { len: 12 }),
        ),
        ("pipe past the end", vec![0, 0, 0, 6, 3, b'g'], Is(truncated("xfer pipe"))),
        ("seq past the end", frame(b"", &[9, b'1', 1, 0, 0, 0, 0, 0, b'j']), Is(truncated("seq"))),
        (
            "service method past the end",
            frame(b"", &[1, b'1', 1, 40, b'/', b'a', b'b', b'c']),
            Is(truncated("service method")),
        ),
        (
            "status past the end",
            frame(b"", &[1, b'1', 1, 0, 0xFF, 0xFF, b'c', b'o', b'd']),
            Is(truncated("status")),
        ),
        (
            "meta past the end",
            frame(b"", &[1, b'1', 2, 0, 0, 0, 0x01, 0x00, b'a', b'=', b'b']),
            Is(truncated("meta")),
        ),
        (
            "no body codec byte",
            frame(b"", &[1, b'1', 2, 0, 0, 0, 0, 0]),
            Is(truncated("body codec")),
        ),
        ("filtered payload empty", frame(b"m", &md5_of_nothing), Is(truncated("seq length"))),
        ("empty seq", call(b"", 1, b"/a", b"", b""), Is(ProtoError::BadSeq(String::new()))),
        ("bad base-36 seq", call(b"1!", 1, b"/a", b"", b""), Is(ProtoError::BadSeq("1!".into()))),
        ("sign alone", call(b"-", 1, b"/a", b"", b""), Is(ProtoError::BadSeq("-".into()))),
        (
            "seq 2^31",
            call(b"zik0zk", 1, b"/a", b"", b""),
            Is(ProtoError::SeqOutOfRange("zik0zk".into())),
        ),
        (
            "seq -2^31-1",
            call(b"-zik0zl", 1, b"/a", b"", b""),
            Is(ProtoError::SeqOutOfRange("-zik0zl".into())),
        ),
        (
            "seq far outside i32",
            call(b"zzzzzzzzzzzzzz", 1, b"/a", b"", b""),
            Is(ProtoError::SeqOutOfRange("zzzzzzzzzzzzzz".into())),
        ),
        ("message type 0", call(b"1", 0, b"/a", b"", b""), Is(ProtoError::UnknownMessageType(0))),
        ("message type 6", call(b"1", 6, b"/a", b"", b""), Is(ProtoError::UnknownMessageType(6))),
        (
            "service method not utf-8",
            call(b"1", 1, b"/a\xC3\x28", b"", b""),
            Is(ProtoError::ServiceMethodNotUtf8),
        ),
        (
            "bad percent-escape in status",
            call(b"1", 2, b"", b"code=400&msg=%ZZ", b""),
            Is(ProtoError::BadStatus(MetaError::BadEscape)),
        ),
        (
            "status text not utf-8",
            call(b"1", 2, b"", b"code=400&msg=%FF", b""),
            Is(ProtoError::BadStatus(MetaError::NotUtf8)),
        ),
        (
            "non-numeric status code",
            call(b"1", 2, b"", b"code=x&msg=y", b""),
            Is(ProtoError::BadStatus(MetaError::BadCode("x".into()))),
        ),
        (
            "status code outside i32",
            call(b"1", 2, b"", b"code=2147483648", b""),
            Is(ProtoError::BadStatus(MetaError::BadCode("2147483648".into()))),
        ),
        (
            "bad percent-escape in meta",
            call(b"1", 1, b"/a", b"code=0", b"a=%4"),
            Is(ProtoError::BadMeta(MetaError::BadEscape)),
        ),
        (
            "meta over the limit",
            call(b"1", 1, b"/a", b"code=0", &long_meta),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META }),
        ),
        (
            "unknown filter id",
            frame(b"z", &good_payload()),
            Is(ProtoError::Xfer(XferError::UnknownFilter(b'z'))),
        ),
        (
            "known then unknown filter id",
            frame(b"mz", &good_payload()),
            Is(ProtoError::Xfer(XferError::UnknownFilter(b'z'))),
        ),
        (
            "md5 mismatch",
            frame(b"m", &md5_tampered),
            Is(ProtoError::Xfer(XferError::ChecksumMismatch)),
        ),
        ("md5 shorter than a digest", frame(b"m", &[1, 2, 3]), Want::Corrupt("md5")),
        ("corrupt gzip", frame(b"g", &gzip_corrupt), Want::Corrupt("gzip")),
        (
            "bytes after the gzip member",
            frame(b"g", &[&gzip_good[..], b"junk"].concat()),
            Want::Corrupt("gzip"),
        ),
        (
            "a second gzip member",
            frame(b"g", &[&gzip_good[..], &gzip_good[..]].concat()),
            Want::Corrupt("gzip"),
        ),
        ("not gzip at all", frame(b"g", b"plain text, no gzip header"), Want::Corrupt("gzip")),
        (
            "frame over the limit",
            [&over_max[..], &[0]].concat(),
            Is(ProtoError::FrameTooLarge {
                len: DEFAULT_MAX_FRAME as u64 + 1,
                max: DEFAULT_MAX_FRAME,
            }),
        ),
        (
            "frame of 4 GiB",
            vec![0xFF; 4],
            Is(ProtoError::FrameTooLarge { len: u64::from(u32::MAX), max: DEFAULT_MAX_FRAME }),
        ),
    ]
}

/// The cases whose boundary is broken: the connection closes. Every other case is a frame
/// read whole, [`ProtoError::BadMessage`]: only that message fails.
pub(crate) const BOUNDARY_CASES: &[&str] =
    &["length 0", "length 4: the prefix alone", "frame over the limit", "frame of 4 GiB"];

/// A bad message between two good ones costs itself alone, and carries the seq and type
/// read before the fault, so that a call can be answered 400.
pub(crate) fn a_bad_message_costs_itself_alone(proto: &dyn Proto) {
    let long_meta = [&b"a="[..], &vec![b'b'; DEFAULT_MAX_META - 1]].concat();
    let bad_frames = [
        (call(b"2s", 1, b"/a", b"code=0", &long_meta), Some(100), Some(MessageType::Call)),
        (call(b"3", 3, b"/a", b"code=0", b"a=%zz"), Some(3), Some(MessageType::Push)),
        (call(b"4", 1, b"/a", b"code=0", b"a=%FF"), Some(4), Some(MessageType::Call)),
        (call(b"5", 2, b"", b"code=x", b""), Some(5), Some(MessageType::Reply)),
        (call(b"6", 1, b"/a\xC3\x28", b"", b""), Some(6), Some(MessageType::Call)),
        (call(b"7", 9, b"/a", b"", b""), Some(7), None),
        (call(b"1!", 1, b"/a", b"", b""), None, None),
    ];
    let good = {
        let mut good = Message::new(MessageType::Call, 9, "/next");
        good.body = Bytes::from_static(b"[1]");
        good.body_codec = b'j';
        good
    };
    let mut src = BytesMut::new();
    for (bad, _, _) in &bad_frames {
        proto.encode(&good, &mut src).unwrap();
        src.extend_from_slice(bad);
    }
    proto.encode(&good, &mut src).unwrap();
    for (_, seq, mtype) in bad_frames {
        assert_eq!(proto.decode(&mut src), Ok(Some(good.clone())));
        match proto.decode(&mut src) {
            Err(ProtoError::BadMessage { seq: got_seq, mtype: got_mtype, .. }) => {
                assert_eq!((got_seq, got_mtype), (seq, mtype));
            }
            got => panic!("{got:?}"),
        }
    }
    assert_eq!(proto.decode(&mut src), Ok(Some(good)));
    assert!(src.is_empty());
}

/// A gzip payload that expands past the frame limit is refused.
#[test]
fn gzip_expanding_past_a_small_limit_is_refused() {
    let limits = Limits { max_frame: 1024, ..Limits::default() };
    let proto = RawProto::new(limits, Default::default());
    let mut big = good_payload();
    big.resize(2000, 0);
    let packed = Gzip::new(b'g', 5).pack(Bytes::from(big)).unwrap();
    let mut src = BytesMut::from(&frame(b"g", &packed)[..]);
    let err = proto.decode(&mut src).unwrap_err();
    assert_eq!(inner(err), ProtoError::Xfer(XferError::TooLarge { max: 1024 }));
}

/// What the encoder refuses, it refuses whole.
#[test]
fn encoder_refusals_append_nothing() {
    let proto = RawProto::default();
    let base = Message::new(MessageType::Call, 1, "/x");

    let mut msg = base.clone();
    msg.service_method = "m".repeat(256);
    assert_eq!(refused(&proto, &msg), ProtoError::ServiceMethodTooLong(256));
    msg.service_method = "é".repeat(128);
    assert_eq!(refused(&proto, &msg), ProtoError::ServiceMethodTooLong(256));

    let mut msg = base.clone();
    msg.status = Status::new(1, "a".repeat(70_000));
    assert_eq!(refused(&proto, &msg), ProtoError::StatusTooLong(70_011));
    // Escaping counts: 21,846 spaces take 65,538 bytes as `%20`.
    msg.status = Status::new(1, "").cause(" ".repeat(21_846));
    assert_eq!(refused(&proto, &msg), ProtoError::StatusTooLong(6 + 7 + 3 * 21_846));

    let mut msg = base.clone();
    msg.meta = Meta::from_iter([("k", "v".repeat(DEFAULT_MAX_META - 1))]);
    let err = ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META };
    assert_eq!(refused(&proto, &msg), err);
    // A meta limit above the field's width is held to 65,535.
    let wide = RawProto::new(Limits { max_meta: 1 << 20, ..Limits::default() }, Default::default());
    msg.meta = Meta::from_iter([("k", "v".repeat(70_000))]);
    assert_eq!(refused(&wide, &msg), ProtoError::MetaTooLong { len: 70_002, max: 65_535 });

    let mut msg = base.clone();
    msg.body = Bytes::from(vec![0; DEFAULT_MAX_FRAME + 1]);
    let err =
        ProtoError::FrameTooLarge { len: DEFAULT_MAX_FRAME as u64 + 1, max: DEFAULT_MAX_FRAME };
    assert_eq!(refused(&proto, &msg), err);
    // The body fits, the frame around it does not: 22 bytes of header.
    msg.body = Bytes::from(vec![0; DEFAULT_MAX_FRAME - 10]);
    let err =
        ProtoError::FrameTooLarge { len: DEFAULT_MAX_FRAME as u64 + 12, max: DEFAULT_MAX_FRAME };
    assert_eq!(refused(&proto, &msg), err);
    msg.body = Bytes::from(vec![0; DEFAULT_MAX_FRAME - 22]);
    let mut dst = BytesMut::new();
    proto.encode(&msg, &mut dst).expect("exactly at the limit");
    assert_eq!(dst.len(), DEFAULT_MAX_FRAME);

    let mut msg = base;
    msg.xfer_pipe = XferPipe::from_ids(b"gz").unwrap();
    assert_eq!(refused(&proto, &msg), ProtoError::Xfer(XferError::UnknownFilter(b'z')));
}
