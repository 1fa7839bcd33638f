//! [`RawBody`]: bytes that travel verbatim, whatever the codec id says.

use bytes::{BufMut, Bytes, BytesMut};

use super::{CodecError, DecodeBody, EncodeBody};

/// A body sent and received as bytes, without a codec, as a Go `[]byte` argument is.
///
/// The message still carries a codec id (the one chosen for the call), so the other side
/// knows how to read the bytes; a proxy uses this to forward a body without decoding it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawBody(pub Bytes);

impl EncodeBody for RawBody {
    fn encode_body(&self, _codec: u8, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.put_slice(&self.0);
        Ok(())
    }
}

impl DecodeBody for RawBody {
    fn decode_body(_codec: u8, src: &[u8]) -> Result<Self, CodecError> {
        Ok(RawBody(Bytes::copy_from_slice(src)))
    }
}

impl From<Bytes> for RawBody {
    fn from(bytes: Bytes) -> Self {
        RawBody(bytes)
    }
}

impl From<Vec<u8>> for RawBody {
    fn from(bytes: Vec<u8>) -> Self {
        RawBody(bytes.into())
    }
}
