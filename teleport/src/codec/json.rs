//! The JSON codec (`j`).

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;

pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    serde_json::to_writer(dst.writer(), value).map_err(|e| CodecError::encode("json", e))
}

/// An empty body decodes as `null`: Go's heartbeat sends the codec byte with no body.
pub(super) fn decode<T: DeserializeOwned>(src: &[u8]) -> Result<T, CodecError> {
    if src.is_empty() {
        return super::decode_unit("json");
    }
    serde_json::from_slice(src).map_err(|e| CodecError::decode("json", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut buf = BytesMut::new();
        encode(&vec![1, 2, 3], &mut buf).unwrap();
        assert_eq!(&buf[..], b"[1,2,3]");
        assert_eq!(decode::<Vec<i32>>(&buf).unwrap(), [1, 2, 3]);
        assert!(decode::<Vec<i32>>(b"\"x\"").is_err());
        assert_eq!(decode::<Option<i32>>(b"").unwrap(), None);
        assert!(decode::<i32>(b"").is_err());
    }
}
