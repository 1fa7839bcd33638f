//! The plain codec (`s`): a string or bytes as they are, a number or bool as its text, as
//! Go eRPC's plain codec writes them. Anything else (maps, structs...) is an error.
//!
//! Sequences of bytes (`Vec<u8>`) are written as the bytes themselves. `()` and `None` are
//! the empty body.

use std::fmt::Display;

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::{self, DeserializeOwned, Visitor};
use serde::ser::{self, Impossible};

use super::CodecError;

pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    value.serialize(Serializer { dst }).map_err(|e| CodecError::encode("plain", e.0))
}

pub(super) fn decode<T: DeserializeOwned>(src: &[u8]) -> Result<T, CodecError> {
    T::deserialize(Deserializer { src }).map_err(|e| CodecError::decode("plain", e.0))
}

/// The plain codec's error: its message only.
#[derive(Debug)]
struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unsupported(what: &str) -> Error {
    Error(format!("plain codec cannot carry {what}"))
}

/// Serializer methods that refuse what the plain codec cannot carry, each with
/// `unsupported(what)`.
macro_rules! refuse {
    ($what:expr => $($method:ident $(<$t:ident>)? ($($arg:ty),*) -> $ret:ty),* $(,)?) => {
        $(fn $method $(<$t: Serialize + ?Sized>)? (self, $(_: $arg),*) -> Result<$ret, Error> {
            Err(unsupported($what))
        })*
    };
}

struct Serializer<'a> {
    dst: &'a mut BytesMut,
}

impl Serializer<'_> {
    fn text(self, v: impl Display) -> Result<(), Error> {
        use std::fmt::Write;
        let mut text = String::new();
        write!(text, "{v}").map_err(|e| Error(e.to_string()))?;
        self.dst.put_slice(text.as_bytes());
        Ok(())
    }
}

macro_rules! serialize_as_text {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<(), Error> { self.text(v) })*
    };
}

impl<'a> ser::Serializer for Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ByteSeq<'a>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    serialize_as_text!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char, serialize_str: &str
    );

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.dst.put_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<ByteSeq<'a>, Error> {
        Ok(ByteSeq { dst: self.dst })
    }
    refuse!("an enum variant with data" =>
        serialize_newtype_variant<T>(&'static str, u32, &'static str, &T) -> (),
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant,
    );
    refuse!("a tuple" => serialize_tuple(usize) -> Self::SerializeTuple);
    refuse!("a tuple struct" => serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct);
    refuse!("a map" => serialize_map(Option<usize>) -> Self::SerializeMap);
    refuse!("a struct" => serialize_struct(&'static str, usize) -> Self::SerializeStruct);
}

/// A sequence is accepted only when every element is a byte: it is written as those bytes.
struct ByteSeq<'a> {
    dst: &'a mut BytesMut,
}

impl ser::SerializeSeq for ByteSeq<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let byte = value.serialize(ByteOnly)?;
        self.dst.put_u8(byte);
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Accepts a `u8` and nothing else.
struct ByteOnly;

impl ser::Serializer for ByteOnly {
    type Ok = u8;
    type Error = Error;
    type SerializeSeq = Impossible<u8, Error>;
    type SerializeTuple = Impossible<u8, Error>;
    type SerializeTupleStruct = Impossible<u8, Error>;
    type SerializeTupleVariant = Impossible<u8, Error>;
    type SerializeMap = Impossible<u8, Error>;
    type SerializeStruct = Impossible<u8, Error>;
    type SerializeStructVariant = Impossible<u8, Error>;

    fn serialize_u8(self, v: u8) -> Result<u8, Error> {
        Ok(v)
    }
    refuse!("a sequence of non-bytes" =>
        serialize_bool(bool) -> u8, serialize_i8(i8) -> u8, serialize_i16(i16) -> u8,
        serialize_i32(i32) -> u8, serialize_i64(i64) -> u8, serialize_u16(u16) -> u8,
        serialize_u32(u32) -> u8, serialize_u64(u64) -> u8, serialize_f32(f32) -> u8,
        serialize_f64(f64) -> u8, serialize_char(char) -> u8, serialize_str(&str) -> u8,
        serialize_bytes(&[u8]) -> u8, serialize_none() -> u8, serialize_unit() -> u8,
        serialize_unit_struct(&'static str) -> u8,
        serialize_unit_variant(&'static str, u32, &'static str) -> u8,
        serialize_some<T>(&T) -> u8, serialize_newtype_struct<T>(&'static str, &T) -> u8,
        serialize_newtype_variant<T>(&'static str, u32, &'static str, &T) -> u8,
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant
    );
}

struct Deserializer<'de> {
    src: &'de [u8],
}

impl<'de> Deserializer<'de> {
    fn text(&self) -> Result<&'de str, Error> {
        std::str::from_utf8(self.src).map_err(|_| Error("plain body is not utf-8".into()))
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, Error> {
        let text = self.text()?;
        text.trim().parse().map_err(|_| Error(format!("plain body {text:?} is not {what}")))
    }
}

macro_rules! deserialize_parsed {
    ($($method:ident => $visit:ident: $ty:ty),*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.parse::<$ty>(stringify!($ty))?)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Deserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match std::str::from_utf8(self.src) {
            Ok(text) => visitor.visit_borrowed_str(text),
            Err(_) => visitor.visit_borrowed_bytes(self.src),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // The spellings Go's strconv.ParseBool accepts.
        match self.text()?.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => visitor.visit_bool(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => visitor.visit_bool(false),
            other => Err(Error(format!("plain body {other:?} is not a bool"))),
        }
    }

    deserialize_parsed!(
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128, deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16, deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64, deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32, deserialize_f64 => visit_f64: f64,
        deserialize_char => visit_char: char
    );

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.text()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.src)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.src)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.src.is_empty() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.src.is_empty() {
            visitor.visit_unit()
        } else {
            Err(Error("plain body is not empty".into()))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(de::value::SeqDeserializer::new(self.src.iter().copied()))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(de::value::BorrowedStrDeserializer::new(self.text()?))
    }

    serde::forward_to_deserialize_any! {
        tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, CodecError> {
        let mut buf = BytesMut::new();
        encode(v, &mut buf).map(|()| buf.to_vec())
    }

    #[test]
    fn scalars_are_text() {
        assert_eq!(enc("1,2,3").unwrap(), b"1,2,3");
        assert_eq!(enc(&15).unwrap(), b"15");
        assert_eq!(enc(&-2.5).unwrap(), b"-2.5");
        assert_eq!(enc(&true).unwrap(), b"true");
        assert_eq!(enc(&vec![0u8, 255]).unwrap(), [0, 255]);
        assert_eq!(enc(&()).unwrap(), b"");
        assert_eq!(decode::<i64>(b"15").unwrap(), 15);
        assert_eq!(decode::<String>(b"pass").unwrap(), "pass");
        assert!(decode::<bool>(b"T").unwrap());
        assert_eq!(decode::<Vec<u8>>(&[1, 2]).unwrap(), [1, 2]);
        assert_eq!(decode::<Option<u8>>(b"").unwrap(), None);
    }

    #[test]
    fn non_scalars_and_bad_text_are_errors() {
        assert!(enc(&vec![1i32, 2]).is_err());
        assert!(enc(&std::collections::HashMap::from([(1, 2)])).is_err());
        assert!(decode::<i32>(b"x").is_err());
        assert!(decode::<String>(&[0xff]).is_err());
        assert!(decode::<u8>(b"300").is_err());
    }
}
