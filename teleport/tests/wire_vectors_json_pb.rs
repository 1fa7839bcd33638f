//! The Go eRPC v6 frames of the `json` and `protobuf` protocols in `tests/data/`.
//!
//! Every frame decodes to the fields its line documents, except that a body Go's receiver
//! reads differently (`body_as_go_receiver_reads_hex`) decodes to what Go reads. Every decoded
//! message re-encodes to the frame's bytes. Encoding the documented fields gives Go's bytes
//! too, except for `json_call_echo_tab_quirk`: its body holds a backslash, which Go copies
//! into the JSON string unescaped and we escape, so that the body arrives intact.

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use teleport::proto::JsonProto;
#[cfg(feature = "protobuf")]
use teleport::proto::ProtobufProto;
use teleport::{Message, MessageType, Meta, Proto, Status, XferPipe};

const CAPTURE: &str = include_str!("data/erpc-v6-more.jsonl");

/// The frames of each protocol in the capture.
const JSON_FRAMES: usize = 8;
#[cfg(feature = "protobuf")]
const PROTOBUF_FRAMES: usize = 8;
/// The one frame whose documented fields we encode differently from Go, on purpose.
const TAB_QUIRK: &str = "json_call_echo_tab_quirk";

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One `json` or `protobuf` line of the capture.
struct Vector {
    name: String,
    proto: String,
    frame: Vec<u8>,
    length: u64,
    fields: Message,
    /// The body as Go's receiver reads it, where that differs from the body sent.
    go_reads: Option<Vec<u8>>,
    canonical: bool,
}

impl Vector {
    fn parse(v: &Value) -> Vector {
        let text = |key: &str| v[key].as_str().unwrap_or_else(|| panic!("{key} is text"));
        let number = |key: &str| v[key].as_i64().unwrap_or_else(|| panic!("{key} is a number"));
        let mtype = MessageType::from_u8(u8::try_from(number("mtype")).unwrap()).unwrap();
        let mut fields = Message::new(mtype, i32::try_from(number("seq")).unwrap(), "");
        fields.service_method = text("service_method").to_owned();
        fields.status = Status::decode(text("status").as_bytes()).expect("status text");
        fields.meta = Meta::decode(text("meta").as_bytes()).expect("meta text");
        fields.body_codec = text("body_codec").bytes().next().unwrap_or(0);
        fields.body = Bytes::from(unhex(text("body_hex")));
        assert_eq!(fields.body, text("body").as_bytes(), "{}: body and body_hex", text("name"));
        assert_eq!(v["xfer_pipe"].as_array().map(Vec::len), Some(0), "no pipe in this capture");
        Vector {
            name: text("name").to_owned(),
            proto: text("proto").to_owned(),
            frame: unhex(text("hex")),
            length: v["length"].as_u64().expect("length"),
            fields,
            go_reads: v["body_as_go_receiver_reads_hex"].as_str().map(unhex),
            canonical: v["canonical"].as_bool().expect("canonical"),
        }
    }

    /// The message a receiver reads from the frame.
    fn as_read(&self) -> Message {
        let mut msg = self.fields.clone();
        if let Some(body) = &self.go_reads {
            msg.body = Bytes::from(body.clone());
        }
        msg
    }
}

/// The capture's frames of protocol `proto`.
fn vectors(proto: &str) -> Vec<Vector> {
    CAPTURE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("vector line is JSON"))
        .filter(|v| v["proto"] == proto)
        .map(|v| Vector::parse(&v))
        .collect()
}

/// The protocols under test, with the capture's name for each and its frame count.
fn protocols() -> Vec<(&'static str, Box<dyn Proto>, usize)> {
    // Only the protobuf feature adds to it.
    #[allow(unused_mut)]
    let mut all: Vec<(&'static str, Box<dyn Proto>, usize)> =
        vec![("json", Box::new(JsonProto::default()), JSON_FRAMES)];
    #[cfg(feature = "protobuf")]
    all.push(("protobuf", Box::new(ProtobufProto::default()), PROTOBUF_FRAMES));
    all
}

fn decode_one(proto: &dyn Proto, bytes: &[u8], name: &str) -> Message {
    let mut src = BytesMut::from(bytes);
    let msg = proto
        .decode(&mut src)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: incomplete frame"));
    assert!(src.is_empty(), "{name}: {} bytes left over", src.len());
    msg
}

fn encode_one(proto: &dyn Proto, msg: &Message, name: &str) -> Vec<u8> {
    let mut dst = BytesMut::new();
    proto.encode(msg, &mut dst).unwrap_or_else(|e| panic!("{name}: {e}"));
    dst.to_vec()
}

#[test]
fn frames_decode_to_their_documented_fields() {
    for (name, proto, count) in protocols() {
        assert_eq!(proto.name(), name);
        let vectors = vectors(name);
        for v in &vectors {
            assert_eq!(v.proto, name);
            // The prefix counts what follows it, not itself.
            assert_eq!(v.length, v.frame.len() as u64 - 4, "{}: documented length", v.name);
            assert_eq!(&v.frame[..4], &(v.length as u32).to_be_bytes(), "{}: prefix", v.name);
            assert_eq!(decode_one(&*proto, &v.frame, &v.name), v.as_read(), "{}", v.name);
        }
        assert_eq!(vectors.len(), count, "{name}");
    }
}

#[test]
fn decoded_frames_re_encode_byte_for_byte() {
    for (name, proto, count) in protocols() {
        let vectors = vectors(name);
        for v in &vectors {
            let msg = decode_one(&*proto, &v.frame, &v.name);
            assert_eq!(encode_one(&*proto, &msg, &v.name), v.frame, "{}", v.name);
        }
        assert_eq!(vectors.len(), count, "{name}");
    }
}

#[test]
fn documented_fields_encode_to_go_bytes() {
    let mut checked = 0;
    for (name, proto, _) in protocols() {
        for v in vectors(name).iter().filter(|v| v.name != TAB_QUIRK) {
            assert!(v.canonical, "{}", v.name);
            assert_eq!(encode_one(&*proto, &v.fields, &v.name), v.frame, "{}", v.name);
            checked += 1;
        }
    }
    let expected = if cfg!(feature = "protobuf") { 15 } else { 7 };
    assert_eq!(checked, expected);
}

/// Go sends the JSON text `"tab\there"` (with a backslash) as `\"tab\there\"`, which its
/// receiver reads with a TAB. We write `\"tab\\there\"`, so the backslash survives.
#[test]
fn the_tab_quirk_body_is_escaped_and_survives() {
    let proto = JsonProto::default();
    let v = vectors("json").into_iter().find(|v| v.name == TAB_QUIRK).expect("the vector");
    assert_eq!(&v.fields.body[..], b"\"tab\\there\"");
    assert_eq!(v.go_reads.as_deref(), Some(&b"\"tab\there\""[..]));

    let ours = encode_one(&proto, &v.fields, &v.name);
    let go_body: &[u8] = br#""body":"\"tab\there\""}"#;
    let our_body: &[u8] = br#""body":"\"tab\\there\""}"#;
    assert!(v.frame.ends_with(go_body));
    assert!(ours.ends_with(our_body), "{}", String::from_utf8_lossy(&ours));
    let head = v.frame.len() - go_body.len();
    assert_eq!(ours[4..head], v.frame[4..head], "only the body and the length differ");
    assert_eq!(decode_one(&proto, &ours, &v.name), v.fields);
    assert_eq!(decode_one(&proto, &v.frame, &v.name), v.as_read());
}

/// The capture sent the same messages over both protocols.
#[cfg(feature = "protobuf")]
#[test]
fn the_same_message_over_json_and_protobuf_decodes_alike() {
    let json = vectors("json");
    let mut pairs = 0;
    for pb in vectors("protobuf") {
        let twin = pb.name.replacen("pb_", "json_", 1);
        let Some(j) = json.iter().find(|j| j.name == twin) else { continue };
        let from_json = decode_one(&JsonProto::default(), &j.frame, &j.name);
        assert_eq!(from_json, decode_one(&ProtobufProto::default(), &pb.frame, &pb.name));
        pairs += 1;
    }
    assert_eq!(pairs, 6);
}

/// Each protocol's frames back to back as on the socket, fed one byte at a time.
#[test]
fn frames_back_to_back_decode_in_order() {
    for (name, proto, _) in protocols() {
        let vectors = vectors(name);
        let stream: Vec<u8> = vectors.iter().flat_map(|v| v.frame.iter().copied()).collect();
        let mut src = BytesMut::new();
        let mut got = Vec::new();
        for &b in &stream {
            src.extend_from_slice(&[b]);
            while let Some(msg) = proto.decode(&mut src).expect("decodes") {
                got.push(msg);
            }
        }
        assert!(src.is_empty(), "{name}");
        let want: Vec<Message> = vectors.iter().map(Vector::as_read).collect();
        assert_eq!(got, want, "{name}");
        assert!(got.iter().all(|m| m.xfer_pipe == XferPipe::new()));
    }
}
