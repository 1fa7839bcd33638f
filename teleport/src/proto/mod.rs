//! Framing: turning a [`Message`] into bytes on the wire and back.
//!
//! A [`Proto`] is sans-io: it encodes into a `BytesMut` and decodes from a `BytesMut` that may
//! hold a partial frame, returning `Ok(None)` until a whole frame is buffered. The default is
//! [`RawProto`], byte-compatible with Go eRPC v6; `JsonProto`, `ProtobufProto` (feature
//! `protobuf`), `HttpProto` (feature `http`) and `ThriftProto` (feature `thrift`) are Go's
//! other protocols.

mod cursor;
mod frame;
#[cfg(feature = "http")]
mod http;
mod json;
#[cfg(feature = "protobuf")]
mod protobuf;
mod raw;
#[cfg(feature = "thrift")]
mod thrift;

use bytes::BytesMut;

#[cfg(feature = "http")]
pub(crate) use http::HttpConn;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::HttpProto;
pub use json::JsonProto;
#[cfg(feature = "protobuf")]
#[cfg_attr(docsrs, doc(cfg(feature = "protobuf")))]
pub use protobuf::ProtobufProto;
pub use raw::RawProto;
#[cfg(feature = "thrift")]
#[cfg_attr(docsrs, doc(cfg(feature = "thrift")))]
pub use thrift::ThriftProto;

pub(crate) use cursor::Cursor;

use crate::message::{Message, MessageType, MetaError};
use crate::xfer::XferError;

/// The default largest frame, read or written: 4 MiB.
pub const DEFAULT_MAX_FRAME: usize = 4 << 20;
/// The default largest meta text, read or written: 16 KiB.
pub const DEFAULT_MAX_META: usize = 16 << 10;

/// Size limits a protocol enforces while reading and writing frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame, in bytes, counted as the length prefix counts it; also the largest
    /// payload a transfer filter may unpack to. Default [`DEFAULT_MAX_FRAME`].
    pub max_frame: usize,
    /// The largest encoded meta, in bytes (never more than 65,535, the field's width).
    /// Default [`DEFAULT_MAX_META`].
    pub max_meta: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_frame: DEFAULT_MAX_FRAME, max_meta: DEFAULT_MAX_META }
    }
}

/// Why a frame could not be read or written.
///
/// Every variant is the peer's (or the caller's) fault, never a bug of ours. A write that
/// fails with one is answered 104 Write Failed. On reading, [`ProtoError::BadMessage`] fails
/// one message and the connection lives on; every other variant means the stream can no
/// longer be split into frames, and the connection closes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The length prefix announces more than the limit; nothing was allocated for it.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced or computed length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The length prefix is smaller than the fixed header.
    #[error("frame length {len} is shorter than its header")]
    FrameTooShort {
        /// The announced length.
        len: u64,
    },
    /// A field's length points past the end of the frame.
    #[error("frame truncated in its {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// The sequence number is not base-36 (raw) or decimal (json).
    #[error("bad sequence number {0:?}")]
    BadSeq(String),
    /// The sequence number does not fit an i32.
    #[error("sequence number {0:?} is outside i32")]
    SeqOutOfRange(String),
    /// The message type byte is not 1–5.
    #[error("unknown message type {0}")]
    UnknownMessageType(u8),
    /// The service method is not UTF-8.
    #[error("service method is not utf-8")]
    ServiceMethodNotUtf8,
    /// The service method is longer than 255 bytes.
    #[error("service method of {0} bytes exceeds 255")]
    ServiceMethodTooLong(usize),
    /// The encoded status does not fit its 16-bit length.
    #[error("status of {0} bytes exceeds 65535")]
    StatusTooLong(usize),
    /// The encoded meta exceeds the meta limit.
    #[error("meta of {len} bytes exceeds the limit of {max}")]
    MetaTooLong {
        /// The length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The status text could not be read.
    #[error("bad status: {0}")]
    BadStatus(MetaError),
    /// The meta text could not be read.
    #[error("bad meta: {0}")]
    BadMeta(MetaError),
    /// A transfer filter failed (unknown id, checksum, corrupt or oversize payload).
    #[error("transfer filter: {0}")]
    Xfer(#[from] XferError),
    /// The payload is not what the protocol writes (json, protobuf and http protocols).
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// The head of an HTTP message (start line and headers) does not end within the limit:
    /// the meta limit plus 4 KiB (http protocol).
    #[error("HTTP head exceeds the limit of {max} bytes")]
    HeadTooLarge {
        /// The limit.
        max: usize,
    },
    /// More meta headers than the protocol reads or writes (http protocol).
    #[error("more than {max} meta headers")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// A frame was taken whole from the stream, but what it holds could not be read (a bad
    /// header field, meta, status, transfer filter or payload): only this message fails.
    /// The read loop answers a call whose seq was read with 400 Bad Message, ends the
    /// pending call a reply answers with 400, and drops anything else; then it reads on.
    #[error("bad message{}: {error}", seq.map(|seq| format!(" (seq {seq})")).unwrap_or_default())]
    BadMessage {
        /// The seq, when it could be read.
        seq: Option<i32>,
        /// The message type, when it could be read.
        mtype: Option<MessageType>,
        /// What could not be read (never itself a `BadMessage`).
        error: Box<ProtoError>,
    },
    /// The protocol cannot carry this message or feature (the http protocol: a PUSH, chunked
    /// transfer-encoding, an HTTP status other than 200 and 299...).
    #[error("the {proto} protocol does not support {what}")]
    Unsupported {
        /// The protocol's name.
        proto: &'static str,
        /// What it cannot carry.
        what: String,
    },
}

/// A wire protocol: how a message becomes a frame.
pub trait Proto: Send + Sync + 'static {
    /// A name for logs and configuration (`raw`, `json`...).
    fn name(&self) -> &'static str;

    /// Appends the frame of `msg` to `dst`. On error nothing is appended.
    fn encode(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError>;

    /// Takes one whole frame from the front of `src`, or returns `Ok(None)` and leaves `src`
    /// as it is until one is buffered. Limits are checked from the length prefix before
    /// anything is allocated for the frame.
    ///
    /// Two kinds of failure are kept apart, so that a bad message costs that message only:
    ///
    /// - The boundary is broken (a length prefix under the header or over the limit, a head
    ///   that never ends): any other variant, and the stream cannot be read on.
    /// - The frame was taken from `src` whole, but its content is bad:
    ///   [`ProtoError::BadMessage`], carrying the seq and type when they could be read, and
    ///   the next frame can be decoded from what is left in `src`.
    fn decode(&self, src: &mut BytesMut) -> Result<Option<Message>, ProtoError>;
}
