//! Encode and decode of one whole raw frame carrying BENCH.md's `BenchmarkMessage`: the body
//! codec plus `RawProto`, in protobuf and in JSON.
//!
//! Run with `cargo bench -p teleport-bench --bench frame`.

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use teleport::codec::{self, DecodeBody, EncodeBody, Protobuf, encode_to_bytes};
use teleport::{Message, MessageType, Proto, RawProto};
use teleport_bench::message::BenchmarkMessage;

/// The call the benchmark client sends, with `body` in codec `codec`.
fn call(codec: u8, body: Bytes) -> Message {
    let mut msg = Message::new(MessageType::Call, 1, "Hello.Say");
    msg.body_codec = codec;
    msg.body = body;
    msg
}

/// Benchmarks `value` through codec `codec` and back as `D`.
fn frame_round<E: EncodeBody, D: DecodeBody>(c: &mut Criterion, name: &str, codec: u8, value: &E) {
    let proto = RawProto::default();
    let mut frame = BytesMut::new();
    proto.encode(&call(codec, encode_to_bytes(value, codec).unwrap()), &mut frame).unwrap();
    let frame = frame.freeze();
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Bytes(frame.len() as u64));

    group.bench_function(format!("encode/{name}"), |b| {
        let mut out = BytesMut::with_capacity(4096);
        b.iter(|| {
            let msg = call(codec, encode_to_bytes(black_box(value), codec).unwrap());
            proto.encode(&msg, &mut out).unwrap();
            black_box(&out);
            out.clear();
        })
    });

    group.bench_function(format!("decode/{name}"), |b| {
        b.iter_batched_ref(
            || BytesMut::from(&frame[..]),
            |src| {
                let msg = proto.decode(src).unwrap().unwrap();
                let body = D::decode_body(msg.body_codec, &msg.body).unwrap();
                black_box((msg, body))
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn frames(c: &mut Criterion) {
    let msg = BenchmarkMessage::client();
    let pb = Protobuf(msg.clone());
    let body = encode_to_bytes(&pb, codec::PROTOBUF).unwrap();
    assert_eq!(body.len(), 581, "BENCH.md's message is 581 bytes of protobuf");
    frame_round::<_, Protobuf<BenchmarkMessage>>(c, "protobuf", codec::PROTOBUF, &pb);
    frame_round::<_, BenchmarkMessage>(c, "json", codec::JSON, &msg);
}

criterion_group!(benches, frames);
criterion_main!(benches);
