//! Malformed `json` protocol frames, one per class, each with the error it must give; and
//! the encoder's refusals, which must leave the destination buffer as it was.

#[path = "support/malformed.rs"]
mod malformed;

use bytes::{Bytes, BytesMut};
use malformed::{Case, Want, each_gives_its_error, frame, framing_cases, limits_hold, refused};
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_META, JsonProto, Limits};
use teleport::xfer::{Md5, XferFilter};
use teleport::{Message, MessageType, Proto, ProtoError};

/// The members of a json payload as JSON text, spliced into Go's template.
struct J {
    seq: String,
    mtype: String,
    method: String,
    status: String,
    meta: String,
    codec: String,
    body: String,
}

impl J {
    fn ok() -> J {
        J {
            seq: t("1"),
            mtype: t("1"),
            method: t(r#""/a""#),
            status: t(r#""code=0""#),
            meta: t(r#""""#),
            codec: t("106"),
            body: t(r#""[1]""#),
        }
    }

    fn payload(&self) -> Vec<u8> {
        let J { seq, mtype, method, status, meta, codec, body } = self;
        format!(
            r#"{{"seq":{seq},"mtype":{mtype},"serviceMethod":{method},"status":{status},"meta":{meta},"bodyCodec":{codec},"body":{body}}}"#
        )
        .into_bytes()
    }

    fn frame(&self) -> Vec<u8> {
        frame(b"", &self.payload())
    }
}

fn t(text: &str) -> String {
    text.to_owned()
}

fn unframed(payload: &[u8]) -> Vec<u8> {
    frame(b"", payload)
}

fn cases() -> Vec<Case> {
    use Want::{Is, Malformed};
    let ok = J::ok;
    let bad_seq = |text: &str| Is(ProtoError::BadSeq(text.into()));
    let seq_range = |text: &str| Is(ProtoError::SeqOutOfRange(text.into()));
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    // "é" is C3 A9; C3 28 is not UTF-8 and keeps the length.
    let mut not_utf8 = J { method: t(r#""/é""#), ..ok() }.frame();
    let at = not_utf8.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    not_utf8[at + 1] = b'(';
    let long_meta = format!(r#""a={}""#, "b".repeat(DEFAULT_MAX_META - 1));
    let huge = format!("1{}", "0".repeat(29));

    let mut cases = framing_cases(&ok().payload());
    cases.extend([
        ("empty payload", unframed(b""), Malformed),
        ("truncated JSON", unframed(br#"{"seq":1,"mty"#), Malformed),
        ("not an object", unframed(b"[1,2]"), Malformed),
        ("bytes after the object", unframed(&[&ok().payload()[..], b"x"].concat()), Malformed),
        ("missing members", unframed(br#"{"seq":1,"mtype":1}"#), Malformed),
        ("duplicate member", unframed(br#"{"seq":1,"seq":2}"#), Malformed),
        ("nesting too deep in an unknown member", unframed(deep.as_bytes()), Malformed),
        ("seq as text", J { seq: t(r#""1""#), ..ok() }.frame(), Malformed),
        ("seq null", J { seq: t("null"), ..ok() }.frame(), Malformed),
        ("seq with a fraction", J { seq: t("1.5"), ..ok() }.frame(), bad_seq("1.5")),
        ("seq with an exponent", J { seq: t("1e3"), ..ok() }.frame(), bad_seq("1000.0")),
        ("seq 2^31", J { seq: t("2147483648"), ..ok() }.frame(), seq_range("2147483648")),
        ("seq -2^31-1", J { seq: t("-2147483649"), ..ok() }.frame(), seq_range("-2147483649")),
        ("seq beyond u64", J { seq: huge, ..ok() }.frame(), seq_range("1e29")),
        ("mtype 0", J { mtype: t("0"), ..ok() }.frame(), Is(ProtoError::UnknownMessageType(0))),
        ("mtype 6", J { mtype: t("6"), ..ok() }.frame(), Is(ProtoError::UnknownMessageType(6))),
        ("mtype 257", J { mtype: t("257"), ..ok() }.frame(), Malformed),
        ("mtype -1", J { mtype: t("-1"), ..ok() }.frame(), Malformed),
        ("mtype as text", J { mtype: t(r#""1""#), ..ok() }.frame(), Malformed),
        ("service method not text", J { method: t("7"), ..ok() }.frame(), Malformed),
        ("service method not utf-8", not_utf8, Malformed),
        ("raw newline in service method", J { method: t("\"/a\n\""), ..ok() }.frame(), Malformed),
        ("Go's %q \\x escape", J { method: t(r#""/a\x01""#), ..ok() }.frame(), Malformed),
        (
            "bad status escape",
            J { status: t(r#""code=400&msg=%ZZ""#), ..ok() }.frame(),
            Is(ProtoError::BadStatus(MetaError::BadEscape)),
        ),
        (
            "non-numeric status code",
            J { status: t(r#""code=x""#), ..ok() }.frame(),
            Is(ProtoError::BadStatus(MetaError::BadCode("x".into()))),
        ),
        ("status not text", J { status: t("{}"), ..ok() }.frame(), Malformed),
        (
            "bad meta escape",
            J { meta: t(r#""a=%4""#), ..ok() }.frame(),
            Is(ProtoError::BadMeta(MetaError::BadEscape)),
        ),
        (
            "meta over the limit",
            J { meta: long_meta, ..ok() }.frame(),
            Is(ProtoError::MetaTooLong { len: DEFAULT_MAX_META + 1, max: DEFAULT_MAX_META }),
        ),
        ("bodyCodec 256", J { codec: t("256"), ..ok() }.frame(), Malformed),
        ("bodyCodec as text", J { codec: t(r#""j""#), ..ok() }.frame(), Malformed),
        ("body as an array", J { body: t("[1,2]"), ..ok() }.frame(), Malformed),
        ("body null", J { body: t("null"), ..ok() }.frame(), Malformed),
        ("bad escape in body", J { body: t(r#""a\qb""#), ..ok() }.frame(), Malformed),
        ("short \\u escape in body", J { body: t(r#""\u12""#), ..ok() }.frame(), Malformed),
        ("body never closed", unframed(br#"{"seq":1,"body":"abc"#), Malformed),
    ]);
    cases
}

#[test]
fn each_malformed_frame_gives_its_error() {
    let cases = cases();
    each_gives_its_error(&JsonProto::default(), &cases);
    assert_eq!(cases.len(), 41);
}

#[test]
fn limits_hold_both_ways() {
    limits_hold(|limits| Box::new(JsonProto::new(limits, Default::default())));
}

/// Escaping counts against the limit: 200 quotes take 400 bytes in the JSON string.
#[test]
fn escaping_counts_against_the_limit() {
    let proto = JsonProto::new(Limits { max_frame: 256, ..Limits::default() }, Default::default());
    let mut msg = Message::new(MessageType::Call, 1, "/x");
    msg.body = Bytes::from(vec![b'"'; 200]);
    assert!(matches!(refused(&proto, &msg), ProtoError::FrameTooLarge { max: 256, .. }));
}

/// Go's reader is lenient where ours is not, but what Go writes is read: members in another
/// order, unknown members, raw control bytes and non-UTF-8 bytes in the body, and escapes Go
/// never writes but JSON allows.
#[test]
fn what_go_may_write_is_read() {
    let proto = JsonProto::default();
    let text: &[u8] = b"{ \"body\" : \"a\tb\n\xff\\/\\u00e9\\ud83d\\ude00\", \"x\": [1, {}], \"bodyCodec\": 0,\n\
        \"meta\": \"k=v\", \"status\": \"\", \"serviceMethod\": \"\\u002fa\", \"mtype\": 3, \"seq\": -7 }";
    let msg = proto.decode(&mut BytesMut::from(&unframed(text)[..])).unwrap().unwrap();
    assert_eq!(msg.seq, -7);
    assert_eq!(msg.mtype, MessageType::Push);
    assert_eq!(msg.service_method, "/a");
    assert!(msg.status.is_ok());
    assert_eq!(msg.meta.get("k"), Some("v"));
    assert_eq!(msg.body, [&b"a\tb\n\xff/"[..], "é😀".as_bytes()].concat());
}

#[test]
fn an_empty_payload_behind_a_checksum_is_malformed() {
    let empty = Md5::new(b'm').pack(Bytes::new()).unwrap();
    let mut src = BytesMut::from(&frame(b"m", &empty)[..]);
    assert!(matches!(JsonProto::default().decode(&mut src), Err(ProtoError::Malformed(_))));
}
