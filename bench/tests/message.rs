//! The benchmark body of BENCH.md has the size Teleport's benchmark gives it, in every codec
//! we run the benchmark with.

use prost::Message as _;
use teleport::codec::{self, DecodeBody, Protobuf, encode_to_bytes};
use teleport_bench::message::{BenchmarkMessage, NUMBER, TEXT};

#[test]
fn client_message_is_581_bytes_of_protobuf() {
    let msg = BenchmarkMessage::client();
    assert_eq!(TEXT.chars().count(), 18);
    assert_eq!(TEXT.len(), 54);
    assert_eq!(msg.encoded_len(), 581);
    let body = encode_to_bytes(&Protobuf(msg.clone()), codec::PROTOBUF).unwrap();
    assert_eq!(body.len(), 581);
    // Field-number order: field 1 (tag 0x0a, 54 bytes) comes first, field 280 last.
    assert_eq!(&body[..2], &[0x0a, 54]);
    assert_eq!(&body[body.len() - 5..], &[0xc0, 0x11, 0xa0, 0x8d, 0x06]);
    let back = Protobuf::<BenchmarkMessage>::decode_body(codec::PROTOBUF, &body).unwrap();
    assert_eq!(back.0, msg);
}

#[test]
fn server_answer_is_527_bytes_of_protobuf() {
    let mut msg = BenchmarkMessage::client();
    msg.answer();
    assert_eq!(msg.encoded_len(), 527);
    assert_eq!((msg.field1.as_str(), msg.field2, msg.field3), ("OK", 100, NUMBER));
}

#[test]
fn json_carries_the_same_values() {
    let msg = BenchmarkMessage::client();
    let body = encode_to_bytes(&msg, codec::JSON).unwrap();
    assert!(body.starts_with(b"{\"field1\":\"\xe8\xae\xb8"));
    assert_eq!(BenchmarkMessage::decode_body(codec::JSON, &body).unwrap(), msg);
}
