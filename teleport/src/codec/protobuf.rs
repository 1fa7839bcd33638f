//! The protobuf codec (`p`) for prost messages.

use std::ops::{Deref, DerefMut};

use bytes::BytesMut;

use super::{CodecError, DecodeBody, EncodeBody, PROTOBUF};

/// A prost message as a body. Only the protobuf codec (`p`) can carry it; any other codec
/// id is [`CodecError::Unsupported`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Protobuf<T>(pub T);

impl<T: prost::Message> EncodeBody for Protobuf<T> {
    fn encode_body(&self, codec: u8, dst: &mut BytesMut) -> Result<(), CodecError> {
        if codec != PROTOBUF {
            return Err(CodecError::Unsupported(codec));
        }
        // `encode` would count the size once more to check the room that a `BytesMut`
        // always has; with the exact room reserved, the fields are written at once.
        dst.reserve(self.0.encoded_len());
        self.0.encode_raw(dst);
        Ok(())
    }
}

impl<T: prost::Message + Default> DecodeBody for Protobuf<T> {
    fn decode_body(codec: u8, src: &[u8]) -> Result<Self, CodecError> {
        if codec != PROTOBUF {
            return Err(CodecError::Unsupported(codec));
        }
        T::decode(src).map(Protobuf).map_err(|e| CodecError::decode("protobuf", e))
    }
}

impl<T> Deref for Protobuf<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Protobuf<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Nums {
        #[prost(int32, repeated, tag = "1")]
        nums: Vec<i32>,
    }

    #[test]
    fn packed_repeated_matches_go() {
        let mut buf = BytesMut::new();
        Protobuf(Nums { nums: vec![1, 2, 3, 4, 5] }).encode_body(PROTOBUF, &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x0a, 5, 1, 2, 3, 4, 5]);
        let back = Protobuf::<Nums>::decode_body(PROTOBUF, &buf).unwrap();
        assert_eq!(back.nums, [1, 2, 3, 4, 5]);
        assert!(Protobuf::<Nums>::decode_body(PROTOBUF, &[0x0a, 9]).is_err());
        assert_eq!(
            Protobuf::<Nums>::decode_body(b'j', &buf).unwrap_err(),
            CodecError::Unsupported(b'j')
        );
    }
}
