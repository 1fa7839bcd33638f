//! The framing every protocol shares: a length prefix, the transfer pipe, then a payload that
//! the pipe transforms.
//!
//! ```text
//! u32 length | u8 pipe length | pipe ids | payload (transformed by the pipe)
//! ```
//!
//! Go eRPC's raw protocol counts the prefix's own 4 bytes in the length; its json and
//! protobuf protocols count only what follows the prefix. Everything else is common: the
//! limits, checked from the prefix before anything is allocated; the bounded reservation
//! while a frame is incomplete; the promise that a failed encode appends nothing; and the
//! line between a broken boundary and a bad message: once a frame is taken whole from the
//! buffer, whatever fails inside it is [`ProtoError::BadMessage`].

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{Limits, ProtoError};
use crate::message::{Message, MessageType};
use crate::xfer::{XferPipe, XferRegistry};

/// The most the decoder reserves beyond what is buffered while a frame is incomplete.
const MAX_RESERVE_AHEAD: usize = 64 << 10;

/// How a protocol lays out the frame around its payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Framing {
    /// Whether the length prefix counts its own 4 bytes (raw) or only what follows (json,
    /// protobuf).
    pub(crate) counts_itself: bool,
    /// The fewest bytes an unfiltered payload may hold; a shorter one is
    /// [`ProtoError::FrameTooShort`].
    pub(crate) min_payload: usize,
}

/// The header fields a payload reader got before it failed: what lets the read loop answer
/// the message it could not read.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Heard {
    pub(crate) seq: Option<i32>,
    pub(crate) mtype: Option<MessageType>,
}

impl Heard {
    /// `error` as the failure of this message alone.
    pub(crate) fn fault(self, error: ProtoError) -> ProtoError {
        ProtoError::BadMessage { seq: self.seq, mtype: self.mtype, error: Box::new(error) }
    }
}

impl Framing {
    /// The bytes of the prefix itself that its value counts: 4 or 0.
    fn counted_prefix(self) -> usize {
        if self.counts_itself { 4 } else { 0 }
    }

    /// Appends the frame of `msg` to `dst`, with `payload` writing the plain payload. On
    /// error nothing is appended.
    pub(crate) fn encode(
        self,
        limits: &Limits,
        filters: &XferRegistry,
        msg: &Message,
        dst: &mut BytesMut,
        payload: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
    ) -> Result<(), ProtoError> {
        // Refuse what cannot fit before copying any of it.
        if msg.body.len() > limits.max_frame {
            let len = msg.body.len() as u64;
            return Err(ProtoError::FrameTooLarge { len, max: limits.max_frame });
        }
        let start = dst.len();
        let result = self.encode_frame(limits, filters, &msg.xfer_pipe, dst, payload);
        if result.is_err() {
            dst.truncate(start);
        }
        result
    }

    fn encode_frame(
        self,
        limits: &Limits,
        filters: &XferRegistry,
        pipe: &XferPipe,
        dst: &mut BytesMut,
        payload: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
    ) -> Result<(), ProtoError> {
        let start = dst.len();
        dst.put_u32(0);
        dst.put_u8(pipe.len() as u8);
        dst.put_slice(pipe.ids());
        if pipe.is_empty() {
            payload(dst)?;
        } else {
            let mut plain = BytesMut::new();
            payload(&mut plain)?;
            dst.put_slice(&pipe.pack(filters, plain.freeze())?);
        }
        let len = dst.len() - start - 4 + self.counted_prefix();
        // The prefix is a u32, whatever the configured limit says.
        let max = limits.max_frame.min(u32::MAX as usize);
        if len > max {
            return Err(ProtoError::FrameTooLarge { len: len as u64, max });
        }
        dst[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(())
    }

    /// Takes one whole frame from the front of `src` and reads its payload with `payload`
    /// (which notes in [`Heard`] the seq and type as soon as it has them), or returns
    /// `Ok(None)` and leaves `src` as it is until one is buffered.
    pub(crate) fn decode(
        self,
        limits: &Limits,
        filters: &XferRegistry,
        src: &mut BytesMut,
        payload: impl FnOnce(Bytes, &mut Heard) -> Result<Message, ProtoError>,
    ) -> Result<Option<Message>, ProtoError> {
        let Some(prefix) = src.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len < self.counted_prefix() + 1 {
            return Err(ProtoError::FrameTooShort { len: len as u64 });
        }
        if len > limits.max_frame {
            return Err(ProtoError::FrameTooLarge { len: len as u64, max: limits.max_frame });
        }
        let Some(total) = (len - self.counted_prefix()).checked_add(4) else {
            return Err(ProtoError::FrameTooLarge { len: len as u64, max: limits.max_frame });
        };
        if src.len() < total {
            // Make room for what is likely to come next, not for everything the prefix
            // claims: a few bytes announcing a large frame must not pin that much memory.
            src.reserve((total - src.len()).min(MAX_RESERVE_AHEAD));
            return Ok(None);
        }
        // From here on the frame's boundary is known and it has left the buffer: whatever
        // fails inside it fails this message only.
        let frame = src.split_to(total);
        let mut heard = Heard::default();
        let (xfer_pipe, plain) =
            self.unwrap_payload(limits, filters, frame, len).map_err(|e| heard.fault(e))?;
        let mut msg = payload(plain, &mut heard).map_err(|e| heard.fault(e))?;
        msg.xfer_pipe = xfer_pipe;
        Ok(Some(msg))
    }

    /// Reads the pipe of a whole frame and undoes it, giving the plain payload.
    fn unwrap_payload(
        self,
        limits: &Limits,
        filters: &XferRegistry,
        mut frame: BytesMut,
        len: usize,
    ) -> Result<(XferPipe, Bytes), ProtoError> {
        // Read in place: the payload is the one share of the frame that leaves.
        let Some(&pipe_len) = frame.get(4) else {
            return Err(ProtoError::Truncated { field: "xfer pipe length" });
        };
        let head = 5 + usize::from(pipe_len);
        let Some(ids) = frame.get(5..head) else {
            return Err(ProtoError::Truncated { field: "xfer pipe" });
        };
        let xfer_pipe = XferPipe::from_ids(ids)?;
        frame.advance(head);
        let mut payload = frame.freeze();
        if xfer_pipe.is_empty() {
            if payload.len() < self.min_payload {
                return Err(ProtoError::FrameTooShort { len: len as u64 });
            }
        } else {
            payload = xfer_pipe.unpack(filters, payload, limits.max_frame)?;
        }
        Ok((xfer_pipe, payload))
    }
}

/// A protocol made of the shared framing around a payload of its own: what it writes
/// inside the frame. [`framed_proto!`] gives it its [`Proto`](super::Proto) impl.
pub(crate) trait Framed {
    /// The protocol's name, for logs and configuration.
    const NAME: &'static str;
    /// How the frame is laid out around the payload.
    const FRAMING: Framing;

    /// The limits in force and the transfer filters the pipe may name.
    fn framing_parts(&self) -> (&Limits, &XferRegistry);

    /// Appends the plain payload of `msg` to `dst`.
    fn encode_payload(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError>;

    /// Reads a plain payload, noting in `heard` the seq and type as soon as it has them.
    fn decode_payload(&self, payload: Bytes, heard: &mut Heard) -> Result<Message, ProtoError>;
}

/// [`Proto::encode`](super::Proto::encode) of a framed protocol.
pub(crate) fn encode<P: Framed>(
    proto: &P,
    msg: &Message,
    dst: &mut BytesMut,
) -> Result<(), ProtoError> {
    let (limits, filters) = proto.framing_parts();
    P::FRAMING.encode(limits, filters, msg, dst, |dst| proto.encode_payload(msg, dst))
}

/// [`Proto::decode`](super::Proto::decode) of a framed protocol.
pub(crate) fn decode<P: Framed>(
    proto: &P,
    src: &mut BytesMut,
) -> Result<Option<Message>, ProtoError> {
    let (limits, filters) = proto.framing_parts();
    P::FRAMING.decode(limits, filters, src, |payload, heard| proto.decode_payload(payload, heard))
}

/// The [`Proto`](super::Proto) impl of a type that is [`Framed`].
macro_rules! framed_proto {
    ($ty:ty) => {
        impl $crate::proto::Proto for $ty {
            fn name(&self) -> &'static str {
                <Self as $crate::proto::frame::Framed>::NAME
            }

            fn encode(
                &self,
                msg: &$crate::message::Message,
                dst: &mut ::bytes::BytesMut,
            ) -> Result<(), $crate::proto::ProtoError> {
                $crate::proto::frame::encode(self, msg, dst)
            }

            fn decode(
                &self,
                src: &mut ::bytes::BytesMut,
            ) -> Result<Option<$crate::message::Message>, $crate::proto::ProtoError> {
                $crate::proto::frame::decode(self, src)
            }
        }
    };
}
pub(crate) use framed_proto;
