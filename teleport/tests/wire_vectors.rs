//! The Go eRPC v6 frames of `tests/data/`, one table over every protocol they were captured
//! in (`raw`, `json`, `protobuf`).
//!
//! Every frame decodes to the fields its line documents, except that a body Go's receiver
//! reads differently (`body_as_go_receiver_reads_hex`) decodes to what Go reads. A
//! `canonical` frame re-encodes to the same bytes, from its decoded message and from its
//! documented fields, except for `json_call_echo_tab_quirk`: its body holds a backslash,
//! which Go copies into the JSON string unescaped and we escape, so that the body arrives
//! intact. A frame with gzip in its pipe round-trips through our own encoder (our gzip bytes
//! differ from Go's).

use bytes::{Bytes, BytesMut};
use serde_json::Value;
#[cfg(feature = "protobuf")]
use teleport::proto::ProtobufProto;
use teleport::proto::{DEFAULT_MAX_FRAME, JsonProto};
use teleport::{Message, MessageType, Meta, Proto, RawProto, Status, XferPipe, XferRegistry};

const FILES: [&str; 2] =
    [include_str!("data/erpc-v6-frames.jsonl"), include_str!("data/erpc-v6-more.jsonl")];

/// The one frame whose documented fields we encode differently from Go, on purpose.
const TAB_QUIRK: &str = "json_call_echo_tab_quirk";

/// A protocol of the captures, with what its frames look like there.
struct Protocol {
    /// The capture's name for it, and the protocol's own.
    name: &'static str,
    proto: Box<dyn Proto>,
    /// Whether the length prefix counts its own 4 bytes (raw) or only what follows.
    prefix_counts_itself: bool,
    /// Its frames in the captures: 17 raw ones in the first, 29 raw, 8 json and 8 protobuf
    /// in the second.
    frames: usize,
    /// Those marked canonical.
    canonical: usize,
}

/// Every protocol of the captures that this build has.
fn protocols() -> Vec<Protocol> {
    let protocol = |name, proto: Box<dyn Proto>, prefix_counts_itself, frames, canonical| {
        Protocol { name, proto, prefix_counts_itself, frames, canonical }
    };
    // Only the protobuf feature adds to it.
    #[allow(unused_mut)]
    let mut all = vec![
        protocol("raw", Box::<RawProto>::default(), true, 46, 40),
        protocol("json", Box::<JsonProto>::default(), false, 8, 8),
    ];
    #[cfg(feature = "protobuf")]
    all.push(protocol("protobuf", Box::<ProtobufProto>::default(), false, 8, 8));
    all
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One vector line.
struct Vector {
    name: String,
    proto: String,
    frame: Vec<u8>,
    length: u64,
    /// The message the line documents.
    fields: Message,
    /// The documented status text (empty: none sent).
    status: String,
    /// The body as Go's receiver reads it, where that differs from the body sent.
    go_reads: Option<Vec<u8>>,
    canonical: bool,
    payload_plain: Option<Vec<u8>>,
    payload_on_wire: Option<Vec<u8>>,
}

impl Vector {
    fn parse(line: &str) -> Vector {
        let v: Value = serde_json::from_str(line).expect("vector line is JSON");
        let text = |key: &str| v[key].as_str().unwrap_or_else(|| panic!("{key} is text"));
        let number = |key: &str| v[key].as_i64().unwrap_or_else(|| panic!("{key} is a number"));
        let name = text("name").to_owned();
        let proto = v["proto"].as_str().unwrap_or("raw").to_owned();
        let codec = text("body_codec");
        assert!(codec.len() <= 1, "{name}: body_codec {codec:?}");
        let pipe: Vec<u8> = v["xfer_pipe"]
            .as_array()
            .expect("xfer_pipe")
            .iter()
            .map(|id| u8::try_from(id.as_u64().expect("filter id")).expect("u8 id"))
            .collect();
        assert!(proto == "raw" || pipe.is_empty(), "{name}: no pipe in the json and pb frames");
        let mtype = MessageType::from_u8(u8::try_from(number("mtype")).expect("u8 mtype"))
            .expect("known message type");
        let seq = i32::try_from(number("seq")).expect("i32 seq");
        let mut fields = Message::new(mtype, seq, text("service_method"));
        fields.status = Status::decode(text("status").as_bytes()).expect("status text");
        fields.meta = Meta::decode(text("meta").as_bytes()).expect("meta text");
        fields.body_codec = codec.bytes().next().unwrap_or(0);
        fields.body = Bytes::from(unhex(text("body_hex")));
        fields.xfer_pipe = XferPipe::from_ids(&pipe).expect("pipe");
        if let Some(body) = v["body"].as_str() {
            assert_eq!(fields.body, body.as_bytes(), "{name}: body and body_hex");
        }
        Vector {
            frame: unhex(text("hex")),
            length: v["length"].as_u64().expect("length"),
            status: text("status").to_owned(),
            go_reads: v["body_as_go_receiver_reads_hex"].as_str().map(unhex),
            canonical: v["canonical"].as_bool().expect("canonical"),
            payload_plain: v["payload_hex_plain"].as_str().map(unhex),
            payload_on_wire: v["payload_hex_on_wire"].as_str().map(unhex),
            fields,
            name,
            proto,
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

/// Every line of the captures.
fn all_vectors() -> Vec<Vector> {
    FILES
        .iter()
        .flat_map(|file| file.lines())
        .filter(|l| !l.trim().is_empty())
        .map(Vector::parse)
        .collect()
}

/// The frames of protocol `proto`, in capture order.
fn vectors(proto: &str) -> Vec<Vector> {
    all_vectors().into_iter().filter(|v| v.proto == proto).collect()
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
fn the_captures_hold_only_the_protocols_of_the_table() {
    let known = ["raw", "json", "protobuf"];
    let all = all_vectors();
    assert!(all.iter().all(|v| known.contains(&v.proto.as_str())));
    assert_eq!(all.len(), 62);
}

#[test]
fn frames_decode_to_their_documented_fields() {
    for Protocol { name, proto, prefix_counts_itself, frames, .. } in protocols() {
        assert_eq!(proto.name(), name);
        let vectors = vectors(name);
        for v in &vectors {
            let counted = if prefix_counts_itself { v.frame.len() } else { v.frame.len() - 4 };
            assert_eq!(v.length, counted as u64, "{name}: {}: documented length", v.name);
            let prefix = (counted as u32).to_be_bytes();
            assert_eq!(&v.frame[..4], &prefix, "{name}: {}: prefix", v.name);
            let msg = decode_one(&*proto, &v.frame, &v.name);
            assert_eq!(msg, v.as_read(), "{name}: {}", v.name);
            // A received empty status means OK (two hand-written probes send none).
            if v.status.is_empty() {
                assert!(msg.status.is_ok(), "{name}: {}", v.name);
            }
        }
        assert_eq!(vectors.len(), frames, "{name}");
    }
}

/// A canonical frame is what we write, from the message we read and from the documented
/// fields (but for the tab quirk, whose body Go does not escape).
#[test]
fn canonical_frames_re_encode_byte_for_byte() {
    for Protocol { name, proto, canonical, .. } in protocols() {
        let vectors: Vec<Vector> = vectors(name).into_iter().filter(|v| v.canonical).collect();
        for v in &vectors {
            let msg = decode_one(&*proto, &v.frame, &v.name);
            assert_eq!(encode_one(&*proto, &msg, &v.name), v.frame, "{name}: {}: read", v.name);
            if v.name != TAB_QUIRK {
                let wire = encode_one(&*proto, &v.fields, &v.name);
                assert_eq!(wire, v.frame, "{name}: {}: documented", v.name);
            }
        }
        assert_eq!(vectors.len(), canonical, "{name}");
    }
}

/// Each protocol's frames back to back as on the socket, fed one byte at a time.
#[test]
fn frames_back_to_back_decode_in_order() {
    for Protocol { name, proto, .. } in protocols() {
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
    }
}

/// Raw: our gzip output differs from Go's, so these frames only need to round-trip.
#[test]
fn raw_gzip_frames_round_trip_through_our_encoder() {
    let proto = RawProto::default();
    let mut checked = 0;
    for v in vectors("raw").into_iter().filter(|v| v.fields.xfer_pipe.ids().contains(&b'g')) {
        assert!(!v.canonical, "{}", v.name);
        let msg = decode_one(&proto, &v.frame, &v.name);
        let wire = encode_one(&proto, &msg, &v.name);
        let pipe = v.fields.xfer_pipe.ids();
        assert_eq!(&wire[5..5 + pipe.len()], pipe, "{}: pipe ids unfiltered", v.name);
        assert_eq!(decode_one(&proto, &wire, &v.name), msg, "{}", v.name);
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// Raw: the payload as Go wrote it before its filters ran: undoing the pipe must give it,
/// and it must decode as an unfiltered frame to the same message.
#[test]
fn raw_filtered_payloads_match_their_plain_form() {
    let proto = RawProto::default();
    let registry = XferRegistry::default();
    let mut checked = 0;
    for v in vectors("raw") {
        let pipe = v.fields.xfer_pipe.ids().to_vec();
        let Some(plain) = &v.payload_plain else {
            assert!(pipe.is_empty(), "{}: filtered frame without a plain payload", v.name);
            continue;
        };
        let on_wire = v.payload_on_wire.as_ref().expect("payload_hex_on_wire");
        assert_eq!(&v.frame[5 + pipe.len()..], &on_wire[..], "{}: payload on wire", v.name);
        let unpacked =
            v.fields.xfer_pipe.unpack(&registry, Bytes::from(on_wire.clone()), DEFAULT_MAX_FRAME);
        assert_eq!(unpacked.as_deref(), Ok(&plain[..]), "{}: unpacked payload", v.name);

        let mut bare = Vec::with_capacity(5 + plain.len());
        bare.extend_from_slice(&(5 + plain.len() as u32).to_be_bytes());
        bare.push(0);
        bare.extend_from_slice(plain);
        let mut expected = v.fields.clone();
        expected.xfer_pipe = XferPipe::new();
        assert_eq!(decode_one(&proto, &bare, &v.name), expected, "{}: plain payload", v.name);
        assert_eq!(encode_one(&proto, &expected, &v.name), bare, "{}", v.name);
        checked += 1;
    }
    assert_eq!(checked, 6);
}

/// Json: Go sends the JSON text `"tab\there"` (with a backslash) as `\"tab\there\"`, which
/// its receiver reads with a TAB. We write `\"tab\\there\"`, so the backslash survives.
#[test]
fn json_tab_quirk_body_is_escaped_and_survives() {
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

/// The capture sent the same messages over json and protobuf.
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
