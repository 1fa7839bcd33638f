//! Property tests of the raw protocol: any message round-trips, whatever the transfer pipe,
//! and a stream of frames decodes the same however the socket splits it.

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use teleport::{Message, MessageType, Meta, Proto, RawProto, Status, XferPipe};

/// The pipes Go eRPC programs use with the conventional gzip (`g`) and md5 (`m`) ids.
const PIPES: [&[u8]; 5] = [b"", b"g", b"m", b"gm", b"mg"];

/// Arbitrary text of at most `max_bytes` bytes of UTF-8, cut at a character boundary.
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

fn message() -> impl Strategy<Value = Message> {
    (
        (1u8..=5, any::<i32>(), service_method(), status()),
        (meta(), any::<u8>(), vec(any::<u8>(), 0..512), proptest::sample::select(&PIPES[..])),
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

fn encode(proto: &RawProto, msgs: &[Message]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for msg in msgs {
        proto.encode(msg, &mut wire).expect("encodes");
    }
    wire.to_vec()
}

/// Feeds `wire` in the given pieces, decoding everything available after each one, as a
/// connection's read loop does.
fn decode_in_pieces(proto: &RawProto, wire: &[u8], cuts: &[usize]) -> Vec<Message> {
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
    assert!(src.is_empty(), "{} bytes left behind", src.len());
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_message_round_trips(msg in message()) {
        let proto = RawProto::default();
        let mut wire = BytesMut::from(&encode(&proto, std::slice::from_ref(&msg))[..]);
        prop_assert_eq!(wire[4] as usize, msg.xfer_pipe.len());
        let back = proto.decode(&mut wire).expect("decodes");
        prop_assert_eq!(back, Some(msg));
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn any_split_of_a_stream_yields_the_same_messages(
        msgs in vec(message(), 1..5),
        cuts in vec(any::<Index>(), 0..12),
    ) {
        let proto = RawProto::default();
        let wire = encode(&proto, &msgs);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_pieces(&proto, &wire, &cuts), msgs);
    }
}

/// One frame per pipe, cut in two at every offset.
#[test]
fn every_single_cut_of_a_frame_decodes() {
    let proto = RawProto::default();
    for pipe in PIPES {
        let mut msg = Message::new(MessageType::Call, 1295, "/math/add?x=1");
        msg.status = Status::new(10005, "custom").cause("a b&c=d");
        msg.meta.add("author", "许").add("author", "x y");
        msg.body_codec = b'j';
        msg.body = Bytes::from_static(b"[1,2,3,4,5]");
        msg.xfer_pipe = XferPipe::from_ids(pipe).unwrap();
        let msgs = [msg.clone(), msg];
        let wire = encode(&proto, &msgs);
        for cut in 0..=wire.len() {
            assert_eq!(decode_in_pieces(&proto, &wire, &[cut]), msgs, "pipe {pipe:?} cut {cut}");
        }
    }
}

/// The extremes that random choice is unlikely to hit.
#[test]
fn edge_values_round_trip() {
    let proto = RawProto::default();
    for (seq, method) in
        [(i32::MIN, "é".repeat(127)), (i32::MAX, "x".repeat(255)), (0, String::new())]
    {
        let mut msg = Message::new(MessageType::AuthReply, seq, method);
        msg.status = Status::new(i32::MIN, "").cause("");
        msg.meta.add("", "").add("=&%+", "");
        msg.body_codec = 0xFF;
        msg.body = Bytes::from(vec![0u8; 1 << 16]);
        for pipe in PIPES {
            msg.xfer_pipe = XferPipe::from_ids(pipe).unwrap();
            let msgs = [msg.clone()];
            assert_eq!(decode_in_pieces(&proto, &encode(&proto, &msgs), &[]), msgs, "{pipe:?}");
        }
    }
}
