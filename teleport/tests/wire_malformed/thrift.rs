//! The thrift table: THeader frames of the binary and struct variants.

use std::sync::Arc;

use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, Limits, ThriftProto};
use teleport::xfer::XferError;
use teleport::{Proto, ProtoError, XferRegistry};

use crate::malformed::{Case, Want};
use crate::thrift_frames::{begin, binary_field, header_block, theader};

/// The cases whose boundary is broken: the connection closes.
pub(crate) const BOUNDARY_CASES: &[&str] =
    &["length under the fixed header", "length over the limit", "length of 4 GiB"];

/// The binary variant under `limits`.
pub(crate) fn binary(limits: Limits) -> Box<dyn Proto> {
    Box::new(ThriftProto::binary(limits, Arc::new(XferRegistry::default())))
}

fn truncated(field: &'static str) -> ProtoError {
    ProtoError::Truncated { field }
}

fn unsupported() -> Want {
    Want::Unsupported
}

pub(crate) fn cases() -> Vec<Case> {
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

/// The cases of the struct variant: all but those about the body field and the filters,
/// which it has not.
pub(crate) fn struct_cases() -> Vec<Case> {
    cases()
        .into_iter()
        .filter(|(name, ..)| {
            !name.starts_with("no body")
                && !name.starts_with("body past")
                && !name.contains("filter")
        })
        .collect()
}
