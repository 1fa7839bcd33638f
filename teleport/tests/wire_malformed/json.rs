//! The json table: malformed `json` protocol frames, one per class, each with the error it
//! must give; what Go may write, which is read; and the encoder's refusals, which must leave
//! the destination buffer as it was.

use bytes::{Bytes, BytesMut};
use teleport::message::MetaError;
use teleport::proto::{DEFAULT_MAX_META, JsonProto, Limits};
use teleport::xfer::{Md5, XferFilter};
use teleport::{Message, MessageType, Proto, ProtoError};

use crate::malformed::{self, Case, Want, frame, framing_cases, refused, the_next_frame_is_read};

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

pub(crate) fn cases() -> Vec<Case> {
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
        ("body never closed", unframed(br#"{"seq":1,"body":"abc"#), Malformed),
    ]);
    cases
}

/// Meta over the limit, with the seq and type read before it: the call is answered 400 and
/// the next frame is read.
pub(crate) fn a_bad_message_costs_itself_alone(proto: &dyn Proto) {
    let long_meta = format!(r#""a={}""#, "b".repeat(DEFAULT_MAX_META - 1));
    let bad = J { seq: t("5"), mtype: t("3"), meta: long_meta, ..J::ok() }.frame();
    the_next_frame_is_read(proto, &bad, 5, MessageType::Push);
    let bad = J { seq: t("6"), meta: t(r#""a=%zz""#), ..J::ok() }.frame();
    the_next_frame_is_read(proto, &bad, 6, MessageType::Call);
}

/// Escaping counts against the limit: 200 quotes take 400 bytes in the JSON string.
#[test]
fn escaping_counts_against_the_limit() {
    let proto = JsonProto::new(Limits { max_frame: 256, ..Limits::default() }, Default::default());
    let mut msg = Message::new(MessageType::Call, 1, "/x");
    msg.body = Bytes::from(vec![b'"'; 200]);
    assert!(matches!(refused(&proto, &msg), ProtoError::FrameTooLarge { max: 256, .. }));
}

/// Go's reader is lenient where ours is not, but what Go may write is read: members in
/// another order, unknown members, and escapes Go never writes but JSON allows. The body is
/// read as Go reads it: a string without backslashes as it is, raw control bytes and bytes
/// that are not UTF-8 included; one with backslashes unescaped.
#[test]
fn what_go_may_write_is_read() {
    let proto = JsonProto::default();
    let text: &[u8] = b"{ \"body\" : \"\xff\\/\\u00e9\\ud83d\\ude00\", \"x\": [1, {}], \"bodyCodec\": 0,\n\
        \"meta\": \"k=v\", \"status\": \"\", \"serviceMethod\": \"\\u002fa\", \"mtype\": 3, \"seq\": -7 }";
    let msg = proto.decode(&mut BytesMut::from(&unframed(text)[..])).unwrap().unwrap();
    assert_eq!(msg.seq, -7);
    assert_eq!(msg.mtype, MessageType::Push);
    assert_eq!(msg.service_method, "/a");
    assert!(msg.status.is_ok());
    assert_eq!(msg.meta.get("k"), Some("v"));
    assert_eq!(msg.body, [&b"\xff/"[..], "é😀".as_bytes()].concat());
    let raw = unframed(&J { body: "\"a\tb\n\x00é\"".into(), ..J::ok() }.payload());
    let msg = proto.decode(&mut BytesMut::from(&raw[..])).unwrap().unwrap();
    assert_eq!(msg.body, "a\tb\n\x00é".as_bytes());
}

/// The payload Go's `jsonproto` writes: fixed member order, the service method with `%q`,
/// and the body between quotes with only `"` escaped.
fn go_payload(seq: i32, method: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        r#"{{"seq":{seq},"mtype":1,"serviceMethod":{method:?},"status":"","meta":"a=1","bodyCodec":115,"body":""#
    )
    .into_bytes();
    for &b in body {
        if b == b'"' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.extend_from_slice(b"\"}");
    out
}

/// Frames as a Go eRPC v6 peer writes them, with bodies that are not valid JSON strings once
/// written: each decodes (the session lives on) to the body bytes Go's reader gets.
#[test]
fn go_frames_with_any_body_give_gos_body() {
    let cases: [(&str, &[u8], &[u8]); 11] = [
        ("plain text", b"hello", b"hello"),
        ("a quote", br#"say "hi""#, br#"say "hi""#),
        ("a backslash escape", br"a\b\n", b"a\x08\n"),
        ("an unknown escape", br"C:\dir", b"C:"),
        ("a JSON string with \\t", b"\"a\\tb\"", b"\"a\tb\""),
        ("a JSON string with \\\"", br#""say \"hi\"""#, br#""say \"#),
        ("a trailing backslash", br"ab\", b""),
        ("raw control bytes", b"a\tb\x00c\x1f", b"a\tb\x00c\x1f"),
        ("raw control bytes after an escape", b"x\\ny\tz", b"x\ny"),
        ("bytes not UTF-8", b"\xff\xfe\x80 \xc3\xa9", b"\xff\xfe\x80 \xc3\xa9"),
        ("bytes not UTF-8 after an escape", b"\\u00e9\xff\\/", b"\xc3\xa9\xff/"),
    ];
    let proto = JsonProto::default();
    for (name, body, go_reads) in cases {
        let mut src = BytesMut::from(&unframed(&go_payload(3, "/echo", body))[..]);
        let msg = proto.decode(&mut src).unwrap_or_else(|e| panic!("{name}: {e}")).unwrap();
        assert_eq!(msg.body, go_reads, "{name}");
        assert_eq!((msg.seq, msg.service_method.as_str(), msg.body_codec), (3, "/echo", b's'));
        assert_eq!(msg.meta.get("a"), Some("1"), "{name}");
        assert!(src.is_empty(), "{name}");
    }
}

#[test]
fn an_empty_payload_behind_a_checksum_is_malformed() {
    let empty = Md5::new(b'm').pack(Bytes::new()).unwrap();
    let mut src = BytesMut::from(&frame(b"m", &empty)[..]);
    let err = JsonProto::default().decode(&mut src).unwrap_err();
    assert!(matches!(malformed::inner(err), ProtoError::Malformed(_)));
}
