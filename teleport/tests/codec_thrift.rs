//! The thrift body codec (`t`): bytes as Go's thrift codec writes them, and a table of
//! malformed bodies that must fail with an error, never a panic or a huge allocation.
#![cfg(feature = "thrift")]

#[path = "support/cap_alloc.rs"]
#[allow(unsafe_code, dead_code)]
mod cap_alloc;
#[path = "support/thrift_types.rs"]
mod thrift_types;

use teleport::codec::{self, CodecError, DecodeBody, Thrift, encode_to_bytes};
use thrift_types::{Empty, Nums, Test};

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

#[test]
fn bytes_are_the_binary_protocol_of_the_struct() {
    let body = encode_to_bytes(&Thrift(Test { author: "tp".into() }), codec::THRIFT).unwrap();
    // field: type string (11), id 1; length 2; "tp"; STOP.
    assert_eq!(&body[..], b"\x0b\x00\x01\x00\x00\x00\x02tp\x00");
    assert_eq!(Thrift::<Test>::decode_body(codec::THRIFT, &body).unwrap().author, "tp");

    let body = encode_to_bytes(&Thrift(Nums { values: vec![1, -1] }), codec::THRIFT).unwrap();
    let want = b"\x0f\x00\x01\x08\x00\x00\x00\x02\x00\x00\x00\x01\xff\xff\xff\xff\x00";
    assert_eq!(&body[..], want);
    assert_eq!(Thrift::<Nums>::decode_body(codec::THRIFT, &body).unwrap().values, [1, -1]);
}

#[test]
fn an_empty_struct_is_one_stop_byte() {
    let body = encode_to_bytes(&Thrift(Empty {}), codec::THRIFT).unwrap();
    assert_eq!(&body[..], b"\x00");
    Thrift::<Empty>::decode_body(codec::THRIFT, b"\x00").unwrap();
    // Unknown fields are skipped, as generated code does.
    Thrift::<Empty>::decode_body(codec::THRIFT, b"\x0b\x00\x01\x00\x00\x00\x02tp\x00").unwrap();
}

#[test]
fn only_the_thrift_codec_carries_a_thrift_struct() {
    let err = encode_to_bytes(&Thrift(Empty {}), codec::JSON).unwrap_err();
    assert_eq!(err, CodecError::Unsupported(codec::JSON));
    let err = Thrift::<Empty>::decode_body(codec::JSON, b"\x00").unwrap_err();
    assert_eq!(err, CodecError::Unsupported(codec::JSON));
}

/// Nested lists `depth` deep, never closed.
fn nested_lists(depth: usize) -> Vec<u8> {
    let mut body = b"\x0f\x00\x01".to_vec();
    for _ in 0..depth {
        body.extend_from_slice(b"\x0f\x00\x00\x00\x01");
    }
    body
}

#[test]
fn malformed_bodies_fail_with_an_error() {
    let table: &[(&str, Vec<u8>)] = &[
        ("empty body", vec![]),
        ("field header cut", b"\x0b\x00".to_vec()),
        ("string length cut", b"\x0b\x00\x01\x00\x00".to_vec()),
        ("string shorter than its length", b"\x0b\x00\x01\x00\x00\x00\x09tp\x00".to_vec()),
        ("string of 2 GiB", b"\x0b\x00\x01\x7f\xff\xff\xff".to_vec()),
        ("negative string length", b"\x0b\x00\x01\xff\xff\xff\xfe".to_vec()),
        ("string not utf-8", b"\x0b\x00\x01\x00\x00\x00\x01\xff\x00".to_vec()),
        ("list of 2^31-1 i32s", b"\x0f\x00\x01\x08\x7f\xff\xff\xff\x00".to_vec()),
        ("negative list size", b"\x0f\x00\x01\x08\xff\xff\xff\xff\x00".to_vec()),
        ("unknown field type", b"\x63\x00\x01\x00".to_vec()),
        ("unknown list element type", b"\x0f\x00\x01\x63\x00\x00\x00\x01".to_vec()),
        ("missing STOP", b"\x0b\x00\x01\x00\x00\x00\x02tp".to_vec()),
        ("lists nested past the depth limit", nested_lists(10_000)),
    ];
    for (name, body) in table {
        let test = Thrift::<Test>::decode_body(codec::THRIFT, body);
        let nums = Thrift::<Nums>::decode_body(codec::THRIFT, body);
        let empty = Thrift::<Empty>::decode_body(codec::THRIFT, body);
        assert!(
            test.is_err() || nums.is_err() || empty.is_err(),
            "{name}: every type accepted {body:?}"
        );
        for err in [test.err(), nums.err(), empty.err()].into_iter().flatten() {
            assert!(matches!(err, CodecError::Decode { codec: "thrift", .. }), "{name}: {err:?}");
        }
    }
}
