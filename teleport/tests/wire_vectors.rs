//! The Go eRPC v6 frames of `tests/data/` against the raw protocol.
//!
//! Every `raw` frame must decode to the fields its line documents; a `canonical` frame must
//! re-encode to the same bytes; a frame with gzip in its pipe must round-trip through our own
//! encoder (our gzip bytes differ from Go's). Frames of the `json` and `protobuf` protocols
//! are counted and skipped here.

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use teleport::proto::DEFAULT_MAX_FRAME;
use teleport::{Message, MessageType, Meta, Proto, RawProto, Status, XferPipe, XferRegistry};

const FILES: [&str; 2] =
    [include_str!("data/erpc-v6-frames.jsonl"), include_str!("data/erpc-v6-more.jsonl")];

/// 17 frames in the first capture, 29 raw ones in the second.
const RAW_FRAMES: usize = 46;
/// 8 `json` and 8 `protobuf` frames in the second capture.
const OTHER_PROTO_FRAMES: usize = 16;
const CANONICAL_RAW_FRAMES: usize = 40;
const GZIP_FRAMES: usize = 4;
const PLAIN_PAYLOADS: usize = 6;

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One vector line, with the fields the raw protocol cares about.
struct Vector {
    name: String,
    proto: String,
    frame: Vec<u8>,
    length: u64,
    pipe: Vec<u8>,
    seq: i32,
    mtype: u8,
    service_method: String,
    status: String,
    meta: String,
    body_codec: u8,
    body: Vec<u8>,
    canonical: bool,
    payload_plain: Option<Vec<u8>>,
    payload_on_wire: Option<Vec<u8>>,
}

impl Vector {
    fn parse(line: &str) -> Vector {
        let v: Value = serde_json::from_str(line).expect("vector line is JSON");
        let text =
            |key: &str| v[key].as_str().unwrap_or_else(|| panic!("{key} is text")).to_owned();
        let name = text("name");
        let codec = text("body_codec");
        assert!(codec.len() <= 1, "{name}: body_codec {codec:?}");
        Vector {
            proto: v["proto"].as_str().unwrap_or("raw").to_owned(),
            frame: unhex(&text("hex")),
            length: v["length"].as_u64().expect("length"),
            pipe: v["xfer_pipe"]
                .as_array()
                .expect("xfer_pipe")
                .iter()
                .map(|id| u8::try_from(id.as_u64().expect("filter id")).expect("u8 id"))
                .collect(),
            seq: i32::try_from(v["seq"].as_i64().expect("seq")).expect("i32 seq"),
            mtype: u8::try_from(v["mtype"].as_u64().expect("mtype")).expect("u8 mtype"),
            service_method: text("service_method"),
            status: text("status"),
            meta: text("meta"),
            body_codec: codec.bytes().next().unwrap_or(0),
            body: unhex(&text("body_hex")),
            canonical: v["canonical"].as_bool().expect("canonical"),
            payload_plain: v["payload_hex_plain"].as_str().map(unhex),
            payload_on_wire: v["payload_hex_on_wire"].as_str().map(unhex),
            name,
        }
    }

    /// The message the line documents.
    fn expected(&self) -> Message {
        let mtype = MessageType::from_u8(self.mtype).expect("known message type");
        let mut msg = Message::new(mtype, self.seq, self.service_method.clone());
        msg.status = Status::decode(self.status.as_bytes()).expect("status text");
        msg.meta = Meta::decode(self.meta.as_bytes()).expect("meta text");
        msg.body_codec = self.body_codec;
        msg.body = Bytes::from(self.body.clone());
        msg.xfer_pipe = XferPipe::from_ids(&self.pipe).expect("pipe");
        msg
    }
}

fn vectors() -> Vec<Vector> {
    FILES
        .iter()
        .flat_map(|file| file.lines())
        .filter(|l| !l.trim().is_empty())
        .map(Vector::parse)
        .collect()
}

fn decode_one(proto: &RawProto, bytes: &[u8], name: &str) -> Message {
    let mut src = BytesMut::from(bytes);
    let msg = proto
        .decode(&mut src)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: incomplete frame"));
    assert!(src.is_empty(), "{name}: {} bytes left over", src.len());
    msg
}

fn encode_one(proto: &RawProto, msg: &Message, name: &str) -> BytesMut {
    let mut dst = BytesMut::new();
    proto.encode(msg, &mut dst).unwrap_or_else(|e| panic!("{name}: {e}"));
    dst
}

#[test]
fn raw_frames_decode_to_their_documented_fields() {
    let proto = RawProto::default();
    let (mut raw, mut other) = (0, 0);
    for v in vectors() {
        if v.proto != "raw" {
            assert!(matches!(v.proto.as_str(), "json" | "protobuf"), "{}: {}", v.name, v.proto);
            other += 1;
            continue;
        }
        raw += 1;
        assert_eq!(v.length, v.frame.len() as u64, "{}: documented length", v.name);
        assert_eq!(&v.frame[..4], &(v.frame.len() as u32).to_be_bytes(), "{}: prefix", v.name);
        let msg = decode_one(&proto, &v.frame, &v.name);
        assert_eq!(msg, v.expected(), "{}", v.name);
        // A received empty status means OK (two hand-written probes send none).
        if v.status.is_empty() {
            assert!(msg.status.is_ok(), "{}", v.name);
        }
    }
    assert_eq!((raw, other), (RAW_FRAMES, OTHER_PROTO_FRAMES));
}

#[test]
fn canonical_frames_re_encode_byte_for_byte() {
    let proto = RawProto::default();
    let mut checked = 0;
    for v in vectors().into_iter().filter(|v| v.proto == "raw" && v.canonical) {
        let wire = encode_one(&proto, &v.expected(), &v.name);
        assert_eq!(&wire[..], &v.frame[..], "{}", v.name);
        checked += 1;
    }
    assert_eq!(checked, CANONICAL_RAW_FRAMES);
}

/// Our gzip output differs from Go's, so these frames only need to round-trip.
#[test]
fn gzip_frames_round_trip_through_our_encoder() {
    let proto = RawProto::default();
    let mut checked = 0;
    for v in vectors().into_iter().filter(|v| v.proto == "raw" && v.pipe.contains(&b'g')) {
        assert!(!v.canonical, "{}", v.name);
        let msg = decode_one(&proto, &v.frame, &v.name);
        let wire = encode_one(&proto, &msg, &v.name);
        assert_eq!(&wire[5..5 + v.pipe.len()], &v.pipe[..], "{}: pipe ids unfiltered", v.name);
        assert_eq!(decode_one(&proto, &wire, &v.name), msg, "{}", v.name);
        checked += 1;
    }
    assert_eq!(checked, GZIP_FRAMES);
}

/// The payload as Go wrote it before its filters ran: undoing the pipe must give it, and it
/// must decode as an unfiltered frame to the same message.
#[test]
fn filtered_payloads_match_their_plain_form() {
    let proto = RawProto::default();
    let registry = XferRegistry::default();
    let mut checked = 0;
    for v in vectors().into_iter().filter(|v| v.proto == "raw") {
        let Some(plain) = &v.payload_plain else {
            assert!(v.pipe.is_empty(), "{}: filtered frame without a plain payload", v.name);
            continue;
        };
        let on_wire = v.payload_on_wire.as_ref().expect("payload_hex_on_wire");
        assert_eq!(&v.frame[5 + v.pipe.len()..], &on_wire[..], "{}: payload on wire", v.name);
        let pipe = XferPipe::from_ids(&v.pipe).unwrap();
        let unpacked = pipe.unpack(&registry, Bytes::from(on_wire.clone()), DEFAULT_MAX_FRAME);
        assert_eq!(unpacked.as_deref(), Ok(&plain[..]), "{}: unpacked payload", v.name);

        let mut bare = Vec::with_capacity(5 + plain.len());
        bare.extend_from_slice(&(5 + plain.len() as u32).to_be_bytes());
        bare.push(0);
        bare.extend_from_slice(plain);
        let mut expected = v.expected();
        expected.xfer_pipe = XferPipe::new();
        assert_eq!(decode_one(&proto, &bare, &v.name), expected, "{}: plain payload", v.name);
        assert_eq!(&encode_one(&proto, &expected, &v.name)[..], &bare[..], "{}", v.name);
        checked += 1;
    }
    assert_eq!(checked, PLAIN_PAYLOADS);
}

/// All raw frames of each capture, back to back as on the socket, one byte at a time.
#[test]
fn raw_frames_back_to_back_decode_in_order() {
    let proto = RawProto::default();
    let raw: Vec<Vector> = vectors().into_iter().filter(|v| v.proto == "raw").collect();
    let stream: Vec<u8> = raw.iter().flat_map(|v| v.frame.iter().copied()).collect();
    let mut src = BytesMut::new();
    let mut got = Vec::new();
    for &b in &stream {
        src.extend_from_slice(&[b]);
        while let Some(msg) = proto.decode(&mut src).expect("decodes") {
            got.push(msg);
        }
    }
    assert!(src.is_empty());
    let want: Vec<Message> = raw.iter().map(Vector::expected).collect();
    assert_eq!(got, want);
}
