//! [`Message`]: one frame's content, free of any I/O.

mod meta;

use bytes::Bytes;

pub use meta::Meta;

pub use crate::urlenc::MetaError;

use crate::status::Status;
use crate::xfer::XferPipe;

/// The kind of a message. The numbers are the wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// A request that expects a reply.
    Call = 1,
    /// The answer to a call, carrying the call's seq.
    Reply = 2,
    /// A one-way message.
    Push = 3,
    /// The credentials a client sends right after connecting (auth plugin).
    AuthCall = 4,
    /// The server's answer to an auth call.
    AuthReply = 5,
}

impl MessageType {
    /// The type of a wire value, or `None` for an unknown one.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Push,
            4 => MessageType::AuthCall,
            5 => MessageType::AuthReply,
            _ => return None,
        })
    }

    /// The name Go eRPC uses for it.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Call => "CALL",
            MessageType::Reply => "REPLY",
            MessageType::Push => "PUSH",
            MessageType::AuthCall => "AUTH_CALL",
            MessageType::AuthReply => "AUTH_REPLY",
        }
    }
}

/// One message: what a frame carries once the protocol has read it.
///
/// The body is kept as bytes in the codec named by `body_codec` (`0` for none); turning it
/// into a value is the [`codec`](crate::codec) layer's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Call, reply, push or auth.
    pub mtype: MessageType,
    /// Sequence number, per sender and session; a reply carries its call's seq.
    pub seq: i32,
    /// The route, optionally followed by `?query`. Empty in replies.
    pub service_method: String,
    /// The outcome; OK for anything but an error reply.
    pub status: Status,
    /// Metadata.
    pub meta: Meta,
    /// The body codec id (`b'j'`, `b'p'`...), `0` for none.
    pub body_codec: u8,
    /// The encoded body.
    pub body: Bytes,
    /// The transfer filters applied to the frame.
    pub xfer_pipe: XferPipe,
}

impl Message {
    /// A message of the given type and seq, with everything else empty.
    pub fn new(mtype: MessageType, seq: i32, service_method: impl Into<String>) -> Self {
        Message {
            mtype,
            seq,
            service_method: service_method.into(),
            status: Status::OK,
            meta: Meta::new(),
            body_codec: 0,
            body: Bytes::new(),
            xfer_pipe: XferPipe::new(),
        }
    }

    /// The service method without its `?query`: what routing uses.
    pub fn path(&self) -> &str {
        split_query(&self.service_method).0
    }

    /// The raw query after `?`, if any.
    pub fn raw_query(&self) -> Option<&str> {
        split_query(&self.service_method).1
    }

    /// The query parsed into pairs (percent-decoded; `+` is a space).
    pub fn query(&self) -> Result<Meta, MetaError> {
        self.raw_query().map_or(Ok(Meta::new()), |q| Meta::decode(q.as_bytes()))
    }
}

/// Splits a service method into its path and optional query.
pub(crate) fn split_query(service_method: &str) -> (&str, Option<&str>) {
    match service_method.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (service_method, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_query() {
        let msg = Message::new(MessageType::Call, 1, "/math/add?author=a+b&x=%41");
        assert_eq!(msg.path(), "/math/add");
        assert_eq!(msg.raw_query(), Some("author=a+b&x=%41"));
        let query = msg.query().unwrap();
        assert_eq!(query.get("author"), Some("a b"));
        assert_eq!(query.get("x"), Some("A"));
        let plain = Message::new(MessageType::Call, 1, "/math/add");
        assert_eq!(plain.path(), "/math/add");
        assert!(plain.query().unwrap().is_empty());
    }

    #[test]
    fn message_types_round_trip() {
        for v in 1..=5 {
            assert_eq!(MessageType::from_u8(v).unwrap() as u8, v);
        }
        assert_eq!(MessageType::from_u8(0), None);
        assert_eq!(MessageType::from_u8(6), None);
    }
}
