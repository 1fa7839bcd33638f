//! The form codec (`f`): `application/x-www-form-urlencoded` through serde_urlencoded.
//!
//! serde_urlencoded maps structs of scalar fields and sequences of pairs; a struct field
//! holding a sequence (Go writes `n=1&n=2`) is not supported: decode such bodies into
//! `Vec<(String, String)>`. Pairs no field takes are ignored, so `()` and unit structs take
//! any form (a `GET /route?x=1` of the http protocol to a route without an argument).

use bytes::{BufMut, BytesMut};
use serde::de::{DeserializeOwned, Deserializer, Error as _, Visitor};
use serde::{Serialize, forward_to_deserialize_any};

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
    if let Ok(unit) = T::deserialize(UnitOnly) {
        return Ok(unit);
    }
    serde_urlencoded::from_bytes(src).map_err(|e| CodecError::decode("form", e))
}

/// Gives a unit to a type that asks for one (`()`, a unit struct) and fails any other.
struct UnitOnly;

impl<'de> Deserializer<'de> for UnitOnly {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(Self::Error::custom("not a unit"))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
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

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Unit;

    #[test]
    fn units_take_any_form() {
        decode::<()>(b"name=a&x=1").unwrap();
        assert_eq!(decode::<Unit>(b"a=1").unwrap(), Unit);
        assert_eq!(decode::<Sum>(b"sum=2&extra=1").unwrap(), Sum { sum: 2 });
        assert!(decode::<i64>(b"a=1").is_err());
    }
}
