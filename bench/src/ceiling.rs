//! The two ceilings teleport is measured against, over plain tokio sockets and with the
//! frames teleport's raw protocol writes. The **raw ceiling** echoes each call frame as it
//! came. The **codec ceiling** adds exactly the protobuf work of every call of the
//! benchmark, with prost, and nothing else: the client encodes the request and decodes the
//! reply, the server decodes the request and encodes the reply; no routing, no sequence
//! numbers, no framework. Its frames have the sizes of teleport's call and reply frames.

use bytes::{Buf, Bytes, BytesMut};
use prost::Message as _;
use teleport::codec;
use teleport::{Message, MessageType, Proto, RawProto};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::hello::HelloClient;
use crate::message::BenchmarkMessage;

/// Read buffers start at this size and grow by it.
const BUF: usize = 8 << 10;

/// The part of a frame before its protobuf body, as teleport's raw protocol writes it: the
/// length prefix (set per frame), the header of a `Hello.Say` call or of its reply with
/// sequence number 1, and the body codec id.
#[derive(Clone, Debug)]
pub struct Head {
    bytes: Bytes,
}

impl Head {
    /// The head of the client's call to `Hello.Say`.
    pub fn call() -> Result<Head, teleport::ProtoError> {
        Head::of(Message::new(MessageType::Call, 1, HelloClient::SAY))
    }

    /// The head of the server's reply, as teleport writes a successful reply.
    pub fn reply() -> Result<Head, teleport::ProtoError> {
        Head::of(Message::new(MessageType::Reply, 1, ""))
    }

    fn of(mut msg: Message) -> Result<Head, teleport::ProtoError> {
        msg.body_codec = codec::PROTOBUF;
        let mut frame = BytesMut::new();
        RawProto::default().encode(&msg, &mut frame)?;
        Ok(Head { bytes: frame.freeze() })
    }

    /// Appends one frame to `out`: this head, then `msg` encoded by prost, with the length
    /// prefix set.
    pub fn encode(&self, msg: &BenchmarkMessage, out: &mut BytesMut) -> Result<(), String> {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        msg.encode(out).map_err(|e| e.to_string())?;
        let len = u32::try_from(out.len() - start).map_err(|e| e.to_string())?;
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// The message of `frame` (one whole frame), decoded by prost; `None` if the frame does
    /// not start with this head or its body does not decode.
    pub fn decode(&self, frame: &[u8]) -> Option<BenchmarkMessage> {
        let head = self.bytes.len();
        if frame.len() < head || frame[4..head] != self.bytes[4..] {
            return None;
        }
        BenchmarkMessage::decode(&frame[head..]).ok()
    }
}

/// What the front of a read buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    /// A whole frame of this length.
    Whole(usize),
    /// Part of a frame: more bytes are needed.
    Partial,
    /// A length prefix shorter than itself.
    Bad,
}

/// What the front of `buf` holds: frames are a 4-byte big-endian length that counts
/// itself, then the rest.
pub fn front(buf: &[u8]) -> Front {
    let Some(prefix) = buf.get(..4) else { return Front::Partial };
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    match len {
        0..4 => Front::Bad,
        _ if buf.len() < len => Front::Partial,
        _ => Front::Whole(len),
    }
}

/// Reads from `stream` into `buf` until the frame at its front is whole; returns its length,
/// or `None` if the stream ended, failed or sent a bad length.
pub async fn read_frame(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut BytesMut,
    spare: usize,
) -> Option<usize> {
    loop {
        match front(buf) {
            Front::Whole(len) => return Some(len),
            Front::Bad => return None,
            Front::Partial => {}
        }
        if buf.capacity() - buf.len() < spare {
            buf.reserve(BUF.max(spare));
        }
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The length of the whole frames at the front of `buf`; `None` if a length prefix is
/// shorter than itself.
fn whole_frames(buf: &[u8]) -> Option<usize> {
    let mut end = 0;
    loop {
        match front(&buf[end..]) {
            Front::Whole(len) => end += len,
            Front::Partial => return Some(end),
            Front::Bad => return None,
        }
    }
}

/// The raw ceiling's server: echoes every whole frame back as it came, one read, then one
/// write of every frame that read completed.
pub async fn echo(mut stream: impl AsyncRead + AsyncWrite + Unpin) {
    let mut buf = BytesMut::with_capacity(BUF);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Some(whole) = whole_frames(&buf) else { return };
        if whole > 0 {
            if stream.write_all(&buf[..whole]).await.is_err() {
                return;
            }
            buf.advance(whole);
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(BUF);
        }
    }
}

/// The codec ceiling's server: one read, then for every call frame that read completed,
/// decodes its message, answers it (`BenchmarkMessage::answer`, as `Hello.Say` does) and
/// encodes the reply; then one write of every reply.
pub async fn answer(mut stream: impl AsyncRead + AsyncWrite + Unpin) {
    let (Ok(call), Ok(reply)) = (Head::call(), Head::reply()) else { return };
    let mut buf = BytesMut::with_capacity(BUF);
    let mut out = BytesMut::with_capacity(BUF);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let len = match front(&buf) {
                Front::Whole(len) => len,
                Front::Partial => break,
                Front::Bad => return,
            };
            let Some(mut msg) = call.decode(&buf[..len]) else { return };
            msg.answer();
            if reply.encode(&msg, &mut out).is_err() {
                return;
            }
            buf.advance(len);
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(BUF);
        }
    }
}
