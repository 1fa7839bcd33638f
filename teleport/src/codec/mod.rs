//! Body codecs: how a value becomes a message body and back.
//!
//! A body travels with a one-byte codec id. The ids are Go eRPC's where Go defines one:
//!
//! | id | name | codec | feature |
//! |---|---|---|---|
//! | `j` | `json` | serde_json | always |
//! | `s` | `plain` | text of a string, bytes, number or bool, as Go's plain codec | always |
//! | `f` | `form` | `application/x-www-form-urlencoded`, serde_urlencoded | always |
//! | `p` | `protobuf` | prost messages, through `Protobuf` | `protobuf` |
//! | `b` | `bincode` | bincode 2, standard config (ours alone: Go has no `b`) | `bincode` |
//! | `t` | `thrift` | a Thrift struct in the binary protocol, through `Thrift` | `thrift` |
//! | `x` | `xml` | XML as Go's `encoding/xml` writes plain structs, with quick-xml | `xml` |
//!
//! Id `0` means "no body". Any `serde` type is a body in the serde codecs through the blanket
//! implementations of [`EncodeBody`] and [`DecodeBody`]; prost messages are wrapped in
//! `Protobuf`, Thrift structs in `Thrift`; [`RawBody`] carries bytes verbatim in any codec, as a Go `[]byte` does.

#[cfg(feature = "bincode")]
mod bincode;
mod form;
mod json;
mod plain;
#[cfg(feature = "protobuf")]
mod protobuf;
mod raw;
#[cfg(feature = "thrift")]
mod thrift;
#[cfg(feature = "xml")]
mod xml;

use bytes::BytesMut;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "protobuf")]
#[cfg_attr(docsrs, doc(cfg(feature = "protobuf")))]
pub use protobuf::Protobuf;
pub use raw::RawBody;
#[cfg(feature = "thrift")]
#[cfg_attr(docsrs, doc(cfg(feature = "thrift")))]
pub use thrift::Thrift;

use crate::message::Message;
use crate::status::Status;

/// No body.
pub const NONE: u8 = 0;
/// JSON (`j`).
pub const JSON: u8 = b'j';
/// Protobuf (`p`).
pub const PROTOBUF: u8 = b'p';
/// Plain text (`s`).
pub const PLAIN: u8 = b's';
/// URL-encoded form (`f`).
pub const FORM: u8 = b'f';
/// Bincode (`b`), a teleport extension.
pub const BINCODE: u8 = b'b';
/// Thrift (`t`).
pub const THRIFT: u8 = b't';
/// XML (`x`).
pub const XML: u8 = b'x';

/// Why a body could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The codec id is unknown, or not available for this type (a prost message in JSON...).
    #[error("unsupported codec id: {0}")]
    Unsupported(u8),
    /// The value could not be encoded.
    #[error("{codec} encode: {reason}")]
    Encode {
        /// The codec's name.
        codec: &'static str,
        /// The encoder's message.
        reason: String,
    },
    /// The bytes do not decode into the wanted type.
    #[error("{codec} decode: {reason}")]
    Decode {
        /// The codec's name.
        codec: &'static str,
        /// The decoder's message.
        reason: String,
    },
}

impl CodecError {
    fn encode(codec: &'static str, reason: impl std::fmt::Display) -> Self {
        CodecError::Encode { codec, reason: reason.to_string() }
    }

    fn decode(codec: &'static str, reason: impl std::fmt::Display) -> Self {
        CodecError::Decode { codec, reason: reason.to_string() }
    }
}

/// A value that can be written as a body.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a message body",
    label = "not a body type",
    note = "derive serde's `Serialize`, or wrap a prost message in `teleport::codec::Protobuf`"
)]
pub trait EncodeBody {
    /// Appends the body in codec `codec` to `dst`.
    fn encode_body(&self, codec: u8, dst: &mut BytesMut) -> Result<(), CodecError>;
}

/// A value that can be read from a body.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be received as a message body",
    label = "not a body type",
    note = "derive serde's `Deserialize` (owning its data), or wrap a prost message in `teleport::codec::Protobuf`"
)]
pub trait DecodeBody: Sized {
    /// Reads a body written in codec `codec`. A codec that allocates for the lengths a body
    /// claims (bincode) allocates at most 4 MiB for them, the default frame limit.
    fn decode_body(codec: u8, src: &[u8]) -> Result<Self, CodecError>;

    /// Reads a body, letting a codec that allocates for the lengths the body claims
    /// (bincode) allocate at most about `limit` bytes for them: a peer passes its
    /// `max_frame`. The default ignores `limit` and calls [`decode_body`](Self::decode_body).
    fn decode_body_within(codec: u8, src: &[u8], limit: usize) -> Result<Self, CodecError> {
        let _ = limit;
        Self::decode_body(codec, src)
    }

    /// Reads a handler's argument from the whole received message, with `limit` as in
    /// [`decode_body_within`](Self::decode_body_within). The default decodes the body and
    /// answers 400 on failure; a wrapper type may also read the meta and refuse with a
    /// status of its own (see `plugin::binder::Bind`).
    fn decode_message(msg: &Message, limit: usize) -> Result<Self, Status> {
        Self::decode_body_within(msg.body_codec, &msg.body, limit)
            .map_err(|e| Status::with_code(crate::status::CODE_BAD_MESSAGE, e.to_string()))
    }
}

/// What [`DecodeBody::decode_body`] lets a codec allocate for the lengths a body claims
/// when no caller gives a limit: 4 MiB, the default frame limit.
pub(crate) const DEFAULT_DECODE_LIMIT: usize = 4 << 20;

impl<T: Serialize + ?Sized> EncodeBody for T {
    fn encode_body(&self, codec: u8, dst: &mut BytesMut) -> Result<(), CodecError> {
        // Serde writers grow the buffer in small steps: room for a small body up front.
        dst.reserve(128);
        match codec {
            JSON => json::encode(self, dst),
            PLAIN => plain::encode(self, dst),
            FORM => form::encode(self, dst),
            #[cfg(feature = "bincode")]
            BINCODE => bincode::encode(self, dst),
            #[cfg(feature = "xml")]
            XML => xml::encode(self, dst),
            _ => Err(CodecError::Unsupported(codec)),
        }
    }
}

impl<T: DeserializeOwned> DecodeBody for T {
    fn decode_body(codec: u8, src: &[u8]) -> Result<Self, CodecError> {
        Self::decode_body_within(codec, src, DEFAULT_DECODE_LIMIT)
    }

    fn decode_body_within(codec: u8, src: &[u8], limit: usize) -> Result<Self, CodecError> {
        #[cfg(not(feature = "bincode"))]
        let _ = limit;
        match codec {
            JSON => json::decode(src),
            PLAIN => plain::decode(src),
            FORM => form::decode(src),
            #[cfg(feature = "bincode")]
            BINCODE => bincode::decode(src, limit),
            #[cfg(feature = "xml")]
            XML => xml::decode(src),
            NONE if src.is_empty() => decode_unit("none"),
            _ => Err(CodecError::Unsupported(codec)),
        }
    }
}

/// Decodes "nothing" into `T`: works for `()`, `Option`s and unit structs, as an empty body
/// means no value (Go sends an empty body with a codec byte in heartbeats).
fn decode_unit<T: DeserializeOwned>(codec: &'static str) -> Result<T, CodecError> {
    let unit: serde::de::value::UnitDeserializer<serde::de::value::Error> =
        serde::de::IntoDeserializer::into_deserializer(());
    T::deserialize(unit).map_err(|e| CodecError::decode(codec, e))
}

/// A codec the peer knows: its id and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecInfo {
    /// The wire id.
    pub id: u8,
    /// The name used in configuration (`json`, `protobuf`...).
    pub name: &'static str,
}

/// The codecs a peer accepts, by id and by name.
///
/// Received bodies in a codec missing from the registry are refused with 400 and the cause
/// `unsupported codec id: N`, as Go eRPC does. Register your own id here when a type of
/// yours implements [`EncodeBody`]/[`DecodeBody`] for it.
#[derive(Clone, Debug)]
pub struct CodecRegistry {
    codecs: Vec<CodecInfo>,
}

impl CodecRegistry {
    /// A registry with no codecs.
    pub fn empty() -> Self {
        CodecRegistry { codecs: Vec::new() }
    }

    /// Adds a codec, replacing any with the same id or name.
    pub fn register(&mut self, id: u8, name: &'static str) -> &mut Self {
        self.codecs.retain(|c| c.id != id && c.name != name);
        self.codecs.push(CodecInfo { id, name });
        self
    }

    /// The codec with this id.
    pub fn by_id(&self, id: u8) -> Option<CodecInfo> {
        self.codecs.iter().copied().find(|c| c.id == id)
    }

    /// The codec with this name.
    pub fn by_name(&self, name: &str) -> Option<CodecInfo> {
        self.codecs.iter().copied().find(|c| c.name == name)
    }

    /// Every codec, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = CodecInfo> + '_ {
        self.codecs.iter().copied()
    }
}

impl Default for CodecRegistry {
    /// The built-in codecs whose features are enabled.
    fn default() -> Self {
        let mut registry = CodecRegistry::empty();
        registry.register(JSON, "json").register(PLAIN, "plain").register(FORM, "form");
        #[cfg(feature = "protobuf")]
        registry.register(PROTOBUF, "protobuf");
        #[cfg(feature = "bincode")]
        registry.register(BINCODE, "bincode");
        #[cfg(feature = "xml")]
        registry.register(XML, "xml");
        #[cfg(feature = "thrift")]
        registry.register(THRIFT, "thrift");
        registry
    }
}

/// Encodes a value into a body.
///
/// Bodies are cut from a per-thread buffer: most are copied into a frame and dropped at
/// once, so the buffer's room comes back for the next one and a body costs no allocation.
/// A body kept longer (a send waiting for room) keeps the buffer it was cut from alive, and
/// the next bodies go into what is left of it or into a new buffer of their own size: a
/// kept body holds at most 4 KiB beyond its own bytes (a larger body's buffer is its own).
pub fn encode_to_bytes<T: EncodeBody + ?Sized>(
    value: &T,
    codec: u8,
) -> Result<bytes::Bytes, CodecError> {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            // Each codec reserves what it needs; a buffer whose bodies are all gone is
            // reused from its start.
            if let Err(e) = value.encode_body(codec, &mut scratch) {
                scratch.clear();
                return Err(e);
            }
            let body = scratch.split().freeze();
            if body.len() > MAX_SCRATCH_BODY {
                // A large body keeps its buffer to itself, not pinned by the thread.
                *scratch = BytesMut::new();
            }
            Ok(body)
        }
        // Encoding a body inside another's encoding: a buffer of its own.
        Err(_) => {
            let mut buf = BytesMut::new();
            value.encode_body(codec, &mut buf)?;
            Ok(buf.freeze())
        }
    })
}

/// The largest body whose buffer [`encode_to_bytes`] keeps for the next bodies.
const MAX_SCRATCH_BODY: usize = 4 << 10;

thread_local! {
    static SCRATCH: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_by_id_and_name() {
        let mut registry = CodecRegistry::default();
        assert_eq!(registry.by_id(b'j').unwrap().name, "json");
        assert_eq!(registry.by_name("plain").unwrap().id, b's');
        assert!(registry.by_id(b'q').is_none());
        registry.register(b'q', "mine");
        assert_eq!(registry.by_name("mine").unwrap().id, b'q');
    }

    #[test]
    fn unknown_codec_is_refused_with_gos_text() {
        let err = <Vec<i32>>::decode_body(113, b"[1]").unwrap_err();
        assert_eq!(err.to_string(), "unsupported codec id: 113");
        assert_eq!(encode_to_bytes(&1, 113), Err(CodecError::Unsupported(113)));
    }

    #[test]
    fn empty_body_without_codec_is_unit() {
        <()>::decode_body(NONE, b"").unwrap();
        assert_eq!(<Option<i32>>::decode_body(NONE, b"").unwrap(), None);
        assert!(i32::decode_body(NONE, b"").is_err());
        assert!(<()>::decode_body(NONE, b"x").is_err());
    }
}
