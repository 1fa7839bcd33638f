//! What the malformed-frame tables of the protocols share: the table runner, the encoder
//! checks, and for the `json`, `protobuf` and `thrift` framing (a prefix that does not count
//! itself) the frames that fail before the payload is read.
//!
//! Used by `tests/wire_malformed/` and `tests/wire_thrift.rs` through `#[path]`.

use bytes::{Bytes, BytesMut};
use teleport::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, Limits};
use teleport::xfer::{Md5, XferError, XferFilter};
use teleport::{Message, MessageType, Meta, Proto, ProtoError, XferPipe};

/// What a case must give.
pub(crate) enum Want {
    Is(ProtoError),
    /// [`ProtoError::Malformed`], whatever the parser's words.
    Malformed,
    /// [`ProtoError::Unsupported`], whatever it names (the thrift table's).
    #[cfg_attr(not(feature = "thrift"), allow(dead_code))]
    Unsupported,
    /// [`XferError::Corrupt`] from this filter, whatever its words (the raw table's).
    Corrupt(&'static str),
}

/// A name, the bytes on the socket, and the error they must give.
pub(crate) type Case = (&'static str, Vec<u8>, Want);

/// A frame: length prefix (not counting itself), pipe, then `payload` as given.
pub(crate) fn frame(pipe: &[u8], payload: &[u8]) -> Vec<u8> {
    let len = 1 + pipe.len() + payload.len();
    let mut out = u32::try_from(len).unwrap().to_be_bytes().to_vec();
    out.push(u8::try_from(pipe.len()).unwrap());
    out.extend_from_slice(pipe);
    out.extend_from_slice(payload);
    out
}

/// The frames that fail in the framing, before `good_payload` would be read.
pub(crate) fn framing_cases(good_payload: &[u8]) -> Vec<Case> {
    let mut tampered = Md5::new(b'm').pack(Bytes::copy_from_slice(good_payload)).unwrap().to_vec();
    tampered[0] ^= 0x20;
    let over_max = u32::try_from(DEFAULT_MAX_FRAME + 1).unwrap().to_be_bytes().to_vec();
    let too_large = |len: u64| ProtoError::FrameTooLarge { len, max: DEFAULT_MAX_FRAME };
    vec![
        ("length 0", vec![0; 4], Want::Is(ProtoError::FrameTooShort { len: 0 })),
        ("pipe past the end", vec![0, 0, 0, 2, 3, b'g'], Want::Is(truncated("xfer pipe"))),
        ("prefix over the limit", over_max, Want::Is(too_large(DEFAULT_MAX_FRAME as u64 + 1))),
        ("prefix of 4 GiB", vec![0xFF; 4], Want::Is(too_large(u32::MAX.into()))),
        (
            "unknown filter id",
            frame(b"z", good_payload),
            Want::Is(ProtoError::Xfer(XferError::UnknownFilter(b'z'))),
        ),
        (
            "md5 mismatch",
            frame(b"m", &tampered),
            Want::Is(ProtoError::Xfer(XferError::ChecksumMismatch)),
        ),
    ]
}

fn truncated(field: &'static str) -> ProtoError {
    ProtoError::Truncated { field }
}

/// The framing cases whose boundary is broken: the connection closes. Every other case is
/// a frame read whole, [`ProtoError::BadMessage`].
pub(crate) const BOUNDARY_CASES: [&str; 3] =
    ["length 0", "prefix over the limit", "prefix of 4 GiB"];

/// What a message-level error holds; any other error as it is.
pub(crate) fn inner(error: ProtoError) -> ProtoError {
    match error {
        ProtoError::BadMessage { error, .. } => {
            assert!(!matches!(*error, ProtoError::BadMessage { .. }), "nested: {error:?}");
            *error
        }
        error => error,
    }
}

/// `proto` is the protocol's name in the table.
fn check(proto: &str, name: &str, got: Result<Option<Message>, ProtoError>, want: &Want) {
    match (got.map_err(inner), want) {
        (Err(got), Want::Is(want)) => assert_eq!(&got, want, "{proto}: {name}"),
        (Err(got), Want::Malformed) => {
            assert!(matches!(got, ProtoError::Malformed(_)), "{proto}: {name}: {got:?}")
        }
        (Err(got), Want::Unsupported) => {
            assert!(matches!(got, ProtoError::Unsupported { .. }), "{proto}: {name}: {got:?}")
        }
        (Err(got), Want::Corrupt(filter)) => assert!(
            matches!(&got, ProtoError::Xfer(XferError::Corrupt { filter: f, .. }) if f == filter),
            "{proto}: {name}: {got:?}"
        ),
        (Ok(got), _) => panic!("{proto}: {name}: decoded {got:?}"),
    }
}

/// Each case gives its error, whether its bytes arrive at once or one at a time (then the
/// decoder waits quietly until the bad part is buffered).
///
/// A [`ProtoError::BadMessage`] takes its frame from the buffer (each case is one frame), so
/// that the next frame can be read; any other error leaves the stream unreadable. `label`
/// names the protocol in failures.
pub(crate) fn each_gives_its_error(label: &str, proto: &dyn Proto, cases: &[Case]) {
    for (name, bytes, want) in cases {
        let mut src = BytesMut::from(&bytes[..]);
        let got = proto.decode(&mut src);
        if let Err(ProtoError::BadMessage { .. }) = got {
            assert!(src.is_empty(), "{label}: {name}: the bad frame stayed in the buffer");
        }
        check(label, name, got, want);
        let mut src = BytesMut::new();
        let mut result = Ok(None);
        for &b in bytes {
            src.extend_from_slice(&[b]);
            result = proto.decode(&mut src);
            if !matches!(result, Ok(None)) {
                break;
            }
        }
        check(label, name, result, want);
    }
}

/// Every case but those named in `boundary` is a message-level error, and those are not.
pub(crate) fn only_broken_boundaries_close(
    label: &str,
    proto: &dyn Proto,
    cases: &[Case],
    boundary: &[&str],
) {
    for (name, bytes, _) in cases {
        let got = proto.decode(&mut BytesMut::from(&bytes[..]));
        let message_level = matches!(got, Err(ProtoError::BadMessage { .. }));
        assert_eq!(message_level, !boundary.contains(name), "{label}: {name}: {got:?}");
    }
}

/// Encodes, asserting failure and that `dst` is left as it was.
pub(crate) fn refused(proto: &dyn Proto, msg: &Message) -> ProtoError {
    let mut dst = BytesMut::from(&b"keep"[..]);
    let err = proto.encode(msg, &mut dst).expect_err("encode must fail");
    assert_eq!(&dst[..], b"keep", "{}: {err}: the destination changed", proto.name());
    err
}

/// The limits both protocols enforce, in both directions. `make` builds the protocol.
pub(crate) fn limits_hold(make: impl Fn(Limits) -> Box<dyn Proto>) {
    let proto = make(Limits::default());
    let base = Message::new(MessageType::Call, 1, "/x");

    let mut msg = base.clone();
    msg.meta = Meta::from_iter([("k", "v".repeat(DEFAULT_MAX_META - 1))]);
    let err = ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META };
    assert_eq!(refused(&*proto, &msg), err);

    let mut msg = base.clone();
    msg.body = Bytes::from(vec![0; DEFAULT_MAX_FRAME + 1]);
    let err =
        ProtoError::FrameTooLarge { len: DEFAULT_MAX_FRAME as u64 + 1, max: DEFAULT_MAX_FRAME };
    assert_eq!(refused(&*proto, &msg), err);

    let mut msg = base;
    msg.xfer_pipe = XferPipe::from_ids(b"mz").unwrap();
    assert_eq!(refused(&*proto, &msg), ProtoError::Xfer(XferError::UnknownFilter(b'z')));

    // A prefix announcing a large frame pins at most 64 KiB while the rest is awaited.
    let mut src = BytesMut::from(&frame(b"", &vec![b' '; DEFAULT_MAX_FRAME - 1])[..6]);
    assert_eq!(proto.decode(&mut src), Ok(None));
    assert!(src.capacity() <= 70 << 10, "{}", src.capacity());

    // A frame exactly at the limit passes; one byte more is refused both ways.
    let mut msg = Message::new(MessageType::Push, 9, "/p");
    msg.body = Bytes::from(vec![b'x'; 100]);
    let mut wire = BytesMut::new();
    proto.encode(&msg, &mut wire).unwrap();
    let len = wire.len() - 4;
    let exact = make(Limits { max_frame: len, ..Limits::default() });
    let mut dst = BytesMut::new();
    exact.encode(&msg, &mut dst).unwrap();
    assert_eq!(dst, wire);
    assert_eq!(exact.decode(&mut dst), Ok(Some(msg.clone())));
    let short = make(Limits { max_frame: len - 1, ..Limits::default() });
    let err = ProtoError::FrameTooLarge { len: len as u64, max: len - 1 };
    assert_eq!(refused(&*short, &msg), err);
    assert_eq!(short.decode(&mut BytesMut::from(&wire[..4])), Err(err));
}

/// A bad message between two good ones costs itself alone: the decoder reads the next frame,
/// and the error carries the seq and type read before the fault.
pub(crate) fn the_next_frame_is_read(proto: &dyn Proto, bad: &[u8], seq: i32, mtype: MessageType) {
    let mut good = Message::new(MessageType::Call, 7, "/next");
    good.body = Bytes::from_static(b"[1]");
    good.body_codec = b'j';
    let mut src = BytesMut::new();
    proto.encode(&good, &mut src).unwrap();
    src.extend_from_slice(bad);
    proto.encode(&good, &mut src).unwrap();
    assert_eq!(proto.decode(&mut src), Ok(Some(good.clone())));
    match proto.decode(&mut src) {
        Err(ProtoError::BadMessage { seq: got_seq, mtype: got_mtype, .. }) => {
            assert_eq!((got_seq, got_mtype), (Some(seq), Some(mtype)), "{}", proto.name())
        }
        got => panic!("{}: {got:?}", proto.name()),
    }
    assert_eq!(proto.decode(&mut src), Ok(Some(good)));
    assert!(src.is_empty());
}
