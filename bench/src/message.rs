//! `BenchmarkMessage`: the body of Teleport's published benchmark (BENCH.md), written by
//! hand as prost would generate it from its proto2 definition.
//!
//! The benchmark client and server send it, `benches/frame.rs` measures its frames and
//! `tests/message.rs` checks its sizes. It derives serde too, so the JSON (and bincode)
//! codecs carry the same struct through their serde blanket implementations.

use serde::{Deserialize, Serialize};

/// The 18-character (54-byte) string of every string field the client sets.
pub const TEXT: &str = "许多往事在眼前一幕一幕，变的那麼模糊";

/// The value of every integer field the client sets.
pub const NUMBER: i32 = 100_000;

/// The benchmark message, proto2: fields 1, 2 and 3 are required, all others optional;
/// field 5 is a repeated fixed64 (unpacked, as proto2 writes it).
#[allow(missing_docs, reason = "the fields are named by their numbers in the .proto, no more")]
#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
pub struct BenchmarkMessage {
    #[prost(string, required, tag = "1")]
    pub field1: String,
    #[prost(int32, required, tag = "2")]
    pub field2: i32,
    #[prost(int32, required, tag = "3")]
    pub field3: i32,
    #[prost(string, optional, tag = "4")]
    pub field4: Option<String>,
    #[prost(fixed64, repeated, packed = "false", tag = "5")]
    pub field5: Vec<u64>,
    #[prost(int32, optional, tag = "6")]
    pub field6: Option<i32>,
    #[prost(string, optional, tag = "7")]
    pub field7: Option<String>,
    #[prost(string, optional, tag = "9")]
    pub field9: Option<String>,
    #[prost(bool, optional, tag = "12")]
    pub field12: Option<bool>,
    #[prost(bool, optional, tag = "13")]
    pub field13: Option<bool>,
    #[prost(bool, optional, tag = "14")]
    pub field14: Option<bool>,
    #[prost(int32, optional, tag = "16")]
    pub field16: Option<i32>,
    #[prost(bool, optional, tag = "17")]
    pub field17: Option<bool>,
    #[prost(string, optional, tag = "18")]
    pub field18: Option<String>,
    #[prost(int64, optional, tag = "22")]
    pub field22: Option<i64>,
    #[prost(int32, optional, tag = "23")]
    pub field23: Option<i32>,
    #[prost(bool, optional, tag = "24")]
    pub field24: Option<bool>,
    #[prost(int32, optional, tag = "25")]
    pub field25: Option<i32>,
    #[prost(int32, optional, tag = "29")]
    pub field29: Option<i32>,
    #[prost(bool, optional, tag = "30")]
    pub field30: Option<bool>,
    #[prost(bool, optional, tag = "59")]
    pub field59: Option<bool>,
    #[prost(int32, optional, tag = "60")]
    pub field60: Option<i32>,
    #[prost(int32, optional, tag = "67")]
    pub field67: Option<i32>,
    #[prost(int32, optional, tag = "68")]
    pub field68: Option<i32>,
    #[prost(bool, optional, tag = "78")]
    pub field78: Option<bool>,
    #[prost(bool, optional, tag = "80")]
    pub field80: Option<bool>,
    #[prost(bool, optional, tag = "81")]
    pub field81: Option<bool>,
    #[prost(int32, optional, tag = "100")]
    pub field100: Option<i32>,
    #[prost(int32, optional, tag = "101")]
    pub field101: Option<i32>,
    #[prost(string, optional, tag = "102")]
    pub field102: Option<String>,
    #[prost(string, optional, tag = "103")]
    pub field103: Option<String>,
    #[prost(int32, optional, tag = "104")]
    pub field104: Option<i32>,
    #[prost(int32, optional, tag = "128")]
    pub field128: Option<i32>,
    #[prost(string, optional, tag = "129")]
    pub field129: Option<String>,
    #[prost(int32, optional, tag = "130")]
    pub field130: Option<i32>,
    #[prost(int32, optional, tag = "131")]
    pub field131: Option<i32>,
    #[prost(int32, optional, tag = "150")]
    pub field150: Option<i32>,
    #[prost(int32, optional, tag = "271")]
    pub field271: Option<i32>,
    #[prost(int32, optional, tag = "272")]
    pub field272: Option<i32>,
    #[prost(int32, optional, tag = "280")]
    pub field280: Option<i32>,
}

impl BenchmarkMessage {
    /// The message as the benchmark client fills it: 581 bytes in protobuf.
    pub fn client() -> Self {
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
    pub fn answer(&mut self) {
        self.field1 = "OK".to_owned();
        self.field2 = 100;
    }
}
