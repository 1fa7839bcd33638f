//! The Thrift codec (`t`) for types of the `thrift` crate.
//!
//! A body is one struct in the Thrift binary protocol, as Go eRPC's thrift codec writes it
//! (`TBinaryProtocol` through a `TSerializer`); an empty struct is the single STOP byte
//! `0x00`. Only the message header differs between strict and non-strict binary protocols,
//! and a body has none, so the bytes are the same either way. Bytes after the struct are
//! ignored, as Go's `TDeserializer` ignores them.

use std::ops::{Deref, DerefMut};

use bytes::{BufMut, BytesMut};
use thrift::TConfiguration;
use thrift::protocol::{TBinaryInputProtocol, TBinaryOutputProtocol, TSerializable};

use super::{CodecError, DecodeBody, EncodeBody, THRIFT};

/// How deep structs and containers may nest in a received body.
const MAX_DEPTH: usize = 64;

/// A Thrift struct (a type implementing the `thrift` crate's `TSerializable`, as the
/// Thrift compiler generates) as a body. Only the thrift codec (`t`) can carry it; any
/// other codec id is [`CodecError::Unsupported`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thrift<T>(pub T);

impl<T: TSerializable> EncodeBody for Thrift<T> {
    fn encode_body(&self, codec: u8, dst: &mut BytesMut) -> Result<(), CodecError> {
        if codec != THRIFT {
            return Err(CodecError::Unsupported(codec));
        }
        let start = dst.len();
        let result = {
            let mut out = TBinaryOutputProtocol::new(dst.writer(), true);
            self.0.write_to_out_protocol(&mut out)
        };
        result.map_err(|e| {
            dst.truncate(start);
            CodecError::encode("thrift", e)
        })
    }
}

impl<T: TSerializable> DecodeBody for Thrift<T> {
    fn decode_body(codec: u8, src: &[u8]) -> Result<Self, CodecError> {
        if codec != THRIFT {
            return Err(CodecError::Unsupported(codec));
        }
        // No string or container can be longer than the body: bound every allocation by it.
        let config = TConfiguration::builder()
            .max_string_size(Some(src.len()))
            .max_container_size(Some(src.len()))
            .max_recursion_depth(Some(MAX_DEPTH))
            .max_message_size(None)
            .max_frame_size(None)
            .build()
            .map_err(|e| CodecError::decode("thrift", e))?;
        let mut input = TBinaryInputProtocol::with_config(src, false, config);
        T::read_from_in_protocol(&mut input)
            .map(Thrift)
            .map_err(|e| CodecError::decode("thrift", e))
    }
}

impl<T> Deref for Thrift<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Thrift<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}
