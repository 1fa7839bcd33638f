//! The form codec (`f`): `application/x-www-form-urlencoded` through serde_urlencoded.
//!
//! serde_urlencoded maps structs of scalar fields and sequences of pairs; a struct field
//! holding a sequence (Go writes `n=1&n=2`) is not supported: decode such bodies into
//! `Vec<(String, String)>`.

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;

pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    let text = serde_urlencoded::to_string(value).map_err(|e| CodecError::encode("form", e))?;
    dst.put_slice(text.as_bytes());
    Ok(())
}

pub(super) fn decode<T: DeserializeOwned>(src: &[u8]) -> Result<T, CodecError> {
    serde_urlencoded::from_bytes(src).map_err(|e| CodecError::decode("form", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Sum {
        sum: i64,
    }

    #[test]
    fn structs_and_pairs() {
        let mut buf = BytesMut::new();
        encode(&Sum { sum: 15 }, &mut buf).unwrap();
        assert_eq!(&buf[..], b"sum=15");
        assert_eq!(decode::<Sum>(&buf).unwrap(), Sum { sum: 15 });
        let pairs: Vec<(String, String)> = decode(b"n=1&n=2").unwrap();
        assert_eq!(pairs.len(), 2);
        assert!(decode::<Sum>(b"sum=x").is_err());
    }
}
