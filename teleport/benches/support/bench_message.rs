//! `BenchmarkMessage`: the body of Teleport's published benchmark (BENCH.md), written by
//! hand as prost would generate it from its proto2 definition.
//!
//! Shared by `benches/frame.rs` and `tests/bench_message.rs` (through `#[path]`), and meant
//! for the benchmark client and server. It derives serde too, so the JSON (and bincode)
//! codecs carry the same struct through their serde blanket implementations.

use serde::{Deserialize, Serialize};

/// The 18-character (54-byte) string of every string field the client sets.
pub(crate) const TEXT: &str = "许多往事在眼前一幕一幕，变的那麼模糊";

/// The value of every integer field the client sets.
pub(crate) const NUMBER: i32 = 100_000;

/// The benchmark message, proto2: fields 1, 2 and 3 are required, all others optional;
/// field 5 is a repeated fixed64 (unpacked, as proto2 writes it).
#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
pub(crate) struct BenchmarkMessage {
    #[prost(string, required, tag = "1")]
    pub(crate) field1: String,
    #[prost(int32, required, tag = "2")]
    pub(crate) field2: i32,
    #[prost(int32, required, tag = "3")]
    pub(crate) field3: i32,
    #[prost(string, optional, tag = "4")]
    pub(crate) field4: Option<String>,
    #[prost(fixed64, repeated, packed = "false", tag = "5")]
    pub(crate) field5: Vec<u64>,
    #[prost(int32, optional, tag = "6")]
    pub(crate) field6: Option<i32>,
    #[prost(string, optional, tag = "7")]
    pub(crate) field7: Option<String>,
    #[prost(string, optional, tag = "9")]
    pub(crate) field9: Option<String>,
    #[prost(bool, optional, tag = "12")]
    pub(crate) field12: Option<bool>,
    #[prost(bool, optional, tag = "13")]
    pub(crate) field13: Option<bool>,
    #[prost(bool, optional, tag = "14")]
    pub(crate) field14: Option<bool>,
    #[prost(int32, optional, tag = "16")]
    pub(crate) field16: Option<i32>,
    #[prost(bool, optional, tag = "17")]
    pub(crate) field17: Option<bool>,
    #[prost(string, optional, tag = "18")]
    pub(crate) field18: Option<String>,
    #[prost(int64, optional, tag = "22")]
    pub(crate) field22: Option<i64>,
    #[prost(int32, optional, tag = "23")]
    pub(crate) field23: Option<i32>,
    #[prost(bool, optional, tag = "24")]
    pub(crate) field24: Option<bool>,
    #[prost(int32, optional, tag = "25")]
    pub(crate) field25: Option<i32>,
    #[prost(int32, optional, tag = "29")]
    pub(crate) field29: Option<i32>,
    #[prost(bool, optional, tag = "30")]
    pub(crate) field30: Option<bool>,
    #[prost(bool, optional, tag = "59")]
    pub(crate) field59: Option<bool>,
    #[prost(int32, optional, tag = "60")]
    pub(crate) field60: Option<i32>,
    #[prost(int32, optional, tag = "67")]
    pub(crate) field67: Option<i32>,
    #[prost(int32, optional, tag = "68")]
    pub(crate) field68: Option<i32>,
    #[prost(bool, optional, tag = "78")]
    pub(crate) field78: Option<bool>,
    #[prost(bool, optional, tag = "80")]
    pub(crate) field80: Option<bool>,
    #[prost(bool, optional, tag = "81")]
    pub(crate) field81: Option<bool>,
    #[prost(int32, optional, tag = "100")]
    pub(crate) field100: Option<i32>,
    #[prost(int32, optional, tag = "101")]
    pub(crate) field101: Option<i32>,
    #[prost(string, optional, tag = "102")]
    pub(crate) field102: Option<String>,
    #[prost(string, optional, tag = "103")]
    pub(crate) field103: Option<String>,
    #[prost(int32, optional, tag = "104")]
    pub(crate) field104: Option<i32>,
    #[prost(int32, optional, tag = "128")]
    pub(crate) field128: Option<i32>,
    #[prost(string, optional, tag = "129")]
    pub(crate) field129: Option<String>,
    #[prost(int32, optional, tag = "130")]
    pub(crate) field130: Option<i32>,
    #[prost(int32, optional, tag = "131")]
    pub(crate) field131: Option<i32>,
    #[prost(int32, optional, tag = "150")]
    pub(crate) field150: Option<i32>,
    #[prost(int32, optional, tag = "271")]
    pub(crate) field271: Option<i32>,
    #[prost(int32, optional, tag = "272")]
    pub(crate) field272: Option<i32>,
    #[prost(int32, optional, tag = "280")]
    pub(crate) field280: Option<i32>,
}

impl BenchmarkMessage {
    /// The message as the benchmark client fills it: 581 bytes in protobuf.
    pub(crate) fn client() -> Self {
        let text = || Some(TEXT.to_owned());
        let number = Some(NUMBER);
        BenchmarkMessage {
            field1: TEXT.to_owned(),
            field2: NUMBER,
            field3: NUMBER,
            field4: text(),
            field5: Vec::new(),
            field6: number,
            field7: text(),
            field9: text(),
            field12: Some(true),
            field13: Some(true),
            field14: Some(true),
            field16: number,
            field17: Some(true),
            field18: text(),
            field22: Some(i64::from(NUMBER)),
            field23: number,
            field24: Some(true),
            field25: number,
            field29: number,
            field30: Some(true),
            field59: Some(true),
            field60: number,
            field67: number,
            field68: number,
            field78: Some(true),
            field80: Some(true),
            field81: Some(true),
            field100: number,
            field101: number,
            field102: text(),
            field103: text(),
            field104: number,
            field128: number,
            field129: text(),
            field130: number,
            field131: number,
            field150: number,
            field271: number,
            field272: number,
            field280: number,
        }
    }

    /// What the benchmark server does to a received message before returning it: field 1
    /// becomes `"OK"` and field 2 becomes 100 (527 bytes in protobuf).
    #[allow(dead_code)]
    pub(crate) fn answer(&mut self) {
        self.field1 = "OK".to_owned();
        self.field2 = 100;
    }
}
