//! A bounds-checked reader over a frame's bytes.

use bytes::{Buf, Bytes};

use super::ProtoError;

/// Reads fields front to back; every read that would pass the end is
/// [`ProtoError::Truncated`] naming the field.
pub(crate) struct Cursor {
    buf: Bytes,
    pos: usize,
}

impl Cursor {
    pub(crate) fn new(buf: Bytes) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, ProtoError> {
        let Some(&b) = self.buf.get(self.pos) else {
            return Err(ProtoError::Truncated { field });
        };
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        let bytes = self.slice(2, field)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    #[cfg_attr(not(feature = "thrift"), allow(dead_code))]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        let bytes = self.slice(4, field)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// How many bytes are left.
    #[cfg_attr(not(feature = "thrift"), allow(dead_code))]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte was read.
    #[cfg_attr(not(feature = "thrift"), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `len` bytes, borrowed: for a field read into a value of its own, which
    /// needs no share of the frame (and no reference count touched).
    pub(crate) fn slice(&mut self, len: usize, field: &'static str) -> Result<&[u8], ProtoError> {
        let start = self.pos;
        let Some(out) = start.checked_add(len).and_then(|end| self.buf.get(start..end)) else {
            return Err(ProtoError::Truncated { field });
        };
        self.pos = start + len;
        Ok(out)
    }

    /// The next `len` bytes, shared with the frame (no copy).
    #[cfg_attr(not(feature = "thrift"), allow(dead_code))]
    pub(crate) fn take(&mut self, len: usize, field: &'static str) -> Result<Bytes, ProtoError> {
        let Some(end) = self.pos.checked_add(len).filter(|&end| end <= self.buf.len()) else {
            return Err(ProtoError::Truncated { field });
        };
        let out = self.buf.slice(self.pos..end);
        self.pos = end;
        Ok(out)
    }

    /// Everything not read yet.
    pub(crate) fn rest(mut self) -> Bytes {
        self.buf.advance(self.pos);
        self.buf
    }
}
