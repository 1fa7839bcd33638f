//! Property tests of the framing protocols, one table over every protocol (`raw`, `json`,
//! `protobuf`): any message round-trips, whatever its body bytes and transfer pipe; a stream
//! of frames decodes the same however the socket splits it. And for `json`: the body string
//! is what Go writes whenever Go's escaping is right, and what Go's reader turns back into
//! the body always.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use teleport::proto::JsonProto;
#[cfg(feature = "protobuf")]
use teleport::proto::ProtobufProto;
use teleport::{Message, MessageType, Meta, Proto, RawProto, Status, XferPipe};

/// The pipes Go eRPC programs use with the conventional gzip (`g`) and md5 (`m`) ids.
const PIPES: [&[u8]; 5] = [b"", b"g", b"m", b"gm", b"mg"];

/// A protocol under test and the longest service method it carries, in bytes.
struct Protocol {
    proto: Box<dyn Proto>,
    max_method: usize,
}

/// Every framing protocol this build has.
fn protocols() -> Vec<Protocol> {
    // Only the protobuf feature adds to it.
    #[allow(unused_mut)]
    let mut all = vec![
        Protocol { proto: Box::new(RawProto::default()), max_method: 255 },
        Protocol { proto: Box::new(JsonProto::default()), max_method: usize::MAX },
    ];
    #[cfg(feature = "protobuf")]
    all.push(Protocol { proto: Box::new(ProtobufProto::default()), max_method: usize::MAX });
    all
}

/// Arbitrary text of at most `max_bytes` bytes of UTF-8, cut at a character boundary;
/// control characters included.
fn text(max_chars: usize, max_bytes: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max_chars).prop_map(move |chars| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > max_bytes {
                break;
            }
            s.push(c);
        }
        s
    })
}

/// A service method every protocol carries: at most 255 bytes.
fn service_method() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(255, 255),
        1 => "[ -~]{255}",
        1 => "/[a-z]{1,8}/[a-z]{1,8}(\\?[a-z]=[a-z0-9%+]{0,6})?",
    ]
}

fn status() -> impl Strategy<Value = Status> {
    (any::<i32>(), text(24, 96), proptest::option::of(text(24, 96))).prop_map(
        |(code, msg, cause)| {
            let status = Status::new(code, msg);
            match cause {
                Some(cause) => status.cause(cause),
                None => status,
            }
        },
    )
}

fn meta() -> impl Strategy<Value = Meta> {
    vec((text(12, 48), text(12, 48)), 0..8).prop_map(|pairs| pairs.into_iter().collect())
}

/// Bytes of any value, some weighted towards those a JSON string must escape or cannot hold.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let tricky =
        prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x7Fu8..=0xFF, Just(b'u'), Just(b'/'),];
    prop_oneof![
        2 => vec(any::<u8>(), 0..512),
        2 => vec(prop_oneof![3 => tricky, 1 => any::<u8>()], 0..64),
        1 => text(40, 160).prop_map(String::into_bytes),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        (1u8..=5, any::<i32>(), service_method(), status()),
        (meta(), any::<u8>(), body(), proptest::sample::select(&PIPES[..])),
    )
        .prop_map(|((mtype, seq, method, status), (meta, codec, body, pipe))| {
            let mut msg = Message::new(MessageType::from_u8(mtype).unwrap(), seq, method);
            msg.status = status;
            msg.meta = meta;
            msg.body_codec = codec;
            msg.body = Bytes::from(body);
            msg.xfer_pipe = XferPipe::from_ids(pipe).unwrap();
            msg
        })
}

fn encode(proto: &dyn Proto, msgs: &[Message]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for msg in msgs {
        proto.encode(msg, &mut wire).expect("encodes");
    }
    wire.to_vec()
}

/// Feeds `wire` in pieces ending at `cuts`, decoding everything available after each one,
/// as a connection's read loop does.
fn decode_in_pieces(proto: &dyn Proto, wire: &[u8], cuts: &[usize]) -> Vec<Message> {
    let mut src = BytesMut::new();
    let mut got = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&wire.len())) {
        src.extend_from_slice(&wire[start..end]);
        start = end;
        while let Some(msg) = proto.decode(&mut src).expect("decodes") {
            got.push(msg);
        }
    }
    assert!(src.is_empty(), "{}: {} bytes left behind", proto.name(), src.len());
    got
}

/// The JSON text of an unfiltered json frame.
fn json_payload(msg: &Message) -> Vec<u8> {
    let mut plain = msg.clone();
    plain.xfer_pipe = XferPipe::new();
    encode(&JsonProto::default(), &[plain])[5..].to_vec()
}

/// The body member of a JSON text as it stands between its quotes.
fn body_string(payload: &[u8]) -> &[u8] {
    const MEMBER: &[u8] = b",\"body\":\"";
    let at = payload.windows(MEMBER.len()).position(|w| w == MEMBER).expect("body member");
    &payload[at + MEMBER.len()..payload.len() - 2]
}

/// A model of how Go's reader (tidwall/gjson `unescape`) reads a JSON string: bytes other
/// than `\` and control bytes are copied, escapes are undone, a control byte ends the string.
fn go_unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        match b {
            0..0x20 => break,
            b'\\' => match s.get(i) {
                Some(b'u') if i + 5 <= s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 5]).unwrap();
                    let c = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap();
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    i += 5;
                }
                Some(&e) => {
                    out.push(match e {
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    });
                    i += 1;
                }
                None => break,
            },
            _ => out.push(b),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_message_round_trips(msg in message()) {
        for Protocol { proto, .. } in protocols() {
            let name = proto.name();
            let mut wire = BytesMut::from(&encode(&*proto, std::slice::from_ref(&msg))[..]);
            let prefix = u32::from_be_bytes(wire[..4].try_into().unwrap()) as usize;
            // The raw prefix counts its own 4 bytes; the others count what follows.
            let counted = if name == "raw" { wire.len() } else { wire.len() - 4 };
            prop_assert_eq!(prefix, counted, "{}", name);
            prop_assert_eq!(wire[4] as usize, msg.xfer_pipe.len(), "{}", name);
            prop_assert_eq!(proto.decode(&mut wire).expect("decodes"), Some(msg.clone()), "{}", name);
            prop_assert!(wire.is_empty(), "{}", name);
        }
    }

    #[test]
    fn any_split_of_a_stream_yields_the_same_messages(
        msgs in vec(message(), 1..5),
        cuts in vec(any::<Index>(), 0..12),
    ) {
        for Protocol { proto, .. } in protocols() {
            let wire = encode(&*proto, &msgs);
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
            cuts.sort_unstable();
            prop_assert_eq!(decode_in_pieces(&*proto, &wire, &cuts), msgs.clone(), "{}", proto.name());
        }
    }

    /// Go's reader gets every body back from our escaping, and a UTF-8 body makes the whole
    /// payload strict JSON whose body member is that text.
    #[test]
    fn json_body_strings_read_back_in_go_and_as_strict_json(msg in message()) {
        let payload = json_payload(&msg);
        prop_assert_eq!(go_unescape(body_string(&payload)), msg.body.to_vec());
        if let Ok(body) = std::str::from_utf8(&msg.body) {
            let value: Value = serde_json::from_slice(&payload).expect("strict JSON");
            prop_assert_eq!(value["body"].as_str(), Some(body));
            prop_assert_eq!(value["serviceMethod"].as_str(), Some(msg.service_method.as_str()));
            prop_assert_eq!(value["seq"].as_i64(), Some(i64::from(msg.seq)));
        }
    }

    /// Where Go's escaping (only `"`) is right, that is without `\` or control bytes, our
    /// body string is Go's byte for byte.
    #[test]
    fn json_body_strings_match_go_where_go_is_right(mut msg in message()) {
        let body: Vec<u8> = msg.body.iter().copied().filter(|&b| b != b'\\' && b >= 0x20).collect();
        msg.body = Bytes::from(body);
        let go: Vec<u8> = msg.body.iter().flat_map(|&b| {
            if b == b'"' { vec![b'\\', b'"'] } else { vec![b] }
        }).collect();
        let payload = json_payload(&msg);
        prop_assert_eq!(body_string(&payload), &go[..]);
    }
}

/// One frame per protocol, pipe and body, cut in two at every offset.
#[test]
fn every_single_cut_of_a_frame_decodes() {
    let mut msg = Message::new(MessageType::Call, 1295, "/math/add?x=1");
    msg.status = Status::new(10005, "custom").cause("a b&c=d");
    msg.meta.add("author", "许").add("author", "x y");
    msg.body_codec = b'j';
    let bodies: [&[u8]; 2] = [b"[1,2,3,4,5]", b"{\"s\":\"tab\\there\"}\x00\xff"];
    for Protocol { proto, .. } in protocols() {
        for (body, pipe) in bodies.iter().flat_map(|&body| PIPES.map(|pipe| (body, pipe))) {
            msg.body = Bytes::copy_from_slice(body);
            msg.xfer_pipe = XferPipe::from_ids(pipe).unwrap();
            let msgs = [msg.clone(), msg.clone()];
            let wire = encode(&*proto, &msgs);
            for cut in 0..=wire.len() {
                let got = decode_in_pieces(&*proto, &wire, &[cut]);
                assert_eq!(got, msgs, "{} pipe {pipe:?} cut {cut}", proto.name());
            }
        }
    }
}

/// The extremes that random choice is unlikely to hit; service methods past 255 bytes on
/// the protocols that carry them.
#[test]
fn edge_values_round_trip() {
    let methods = [
        (i32::MIN, "é".repeat(127)),
        (i32::MAX, "x".repeat(255)),
        (0, String::new()),
        (i32::MIN, "é".repeat(300)),
        (i32::MAX, "\u{0}\n\"\\".into()),
    ];
    let bodies = [vec![0u8; 1 << 16], (0..=255u8).cycle().take(1 << 16).collect()];
    for Protocol { proto, max_method } in protocols() {
        for (seq, method) in methods.iter().filter(|(_, m)| m.len() <= max_method) {
            let mut msg = Message::new(MessageType::AuthReply, *seq, method.clone());
            msg.status = Status::new(i32::MIN, "").cause("");
            msg.meta.add("", "").add("=&%+", "");
            msg.body_codec = 0xFF;
            for (body, pipe) in bodies.iter().flat_map(|body| PIPES.map(|pipe| (body, pipe))) {
                msg.body = Bytes::from(body.clone());
                msg.xfer_pipe = XferPipe::from_ids(pipe).unwrap();
                let msgs = [msg.clone()];
                let got = decode_in_pieces(&*proto, &encode(&*proto, &msgs), &[]);
                assert_eq!(got, msgs, "{} {pipe:?}", proto.name());
            }
        }
    }
}
