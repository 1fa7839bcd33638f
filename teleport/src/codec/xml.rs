//! The XML codec (`x`), with quick-xml's serde support, shaped as Go's `encoding/xml`
//! writes plain structs.
//!
//! A struct is one element named after the type, its fields child elements named after
//! the fields, a sequence field one element per item: `struct Point { x: i32, y: i32 }`
//! is `<Point><x>1</x><y>2</y></Point>`. A value with no type name of its own (a number,
//! a string, a bool) is written under the name Go gives its type: `<int64>5</int64>`,
//! `<string>hi</string>`, `<bool>true</bool>`. Where the two cannot agree:
//!
//! - Go names elements after its exported field names (`Name`); serde uses the Rust name.
//!   Use `#[serde(rename_all = "PascalCase")]`, or `#[serde(rename = "...")]` for a Go
//!   `xml:"..."` tag; the root is renamed on the type (Go's `XMLName` field).
//! - Go attributes (`xml:",attr"`) are serde fields named `@name`; Go character data
//!   (`xml:",chardata"`) is the field `$text`. Go's `innerxml` and `comment` have no
//!   counterpart.
//! - An empty struct is `<T/>` here, `<T></T>` in Go: each reads the other's.
//! - Go skips nil pointers; here a `None` field must be marked
//!   `#[serde(skip_serializing_if = "Option::is_none")]` to be left out.
//! - Go refuses to write maps and has no enums; here maps are elements named after their
//!   keys and enums are quick-xml's choice. Keep them out of bodies a Go peer reads.
//! - A top-level sequence is one element per item and no root, in Go as here: neither
//!   side reads it back whole. Wrap sequences in a struct.
//! - Neither side checks the root element's name when reading (Go does only with an
//!   `XMLName` field), so the root of a bare value may differ harmlessly: Go writes its `int`
//!   as `<int>`, Rust has no such type and writes an `i64` as `<int64>`.
//! - Go writes `[]byte` as text; serde bytes have no XML form here: use a `String`.

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;

pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    let start = dst.len();
    let mut result = quick_xml::se::to_utf8_io_writer(dst.writer(), value).map(drop);
    if let Err(quick_xml::SeError::Unsupported(_)) = result {
        // Values without a type name of their own end here: name them as Go does.
        dst.truncate(start);
        let root = go_type_name(std::any::type_name::<T>());
        result = quick_xml::se::to_writer_with_root(FmtWriter(dst), root, value).map(drop);
    }
    result.map_err(|e| {
        // Nothing of a value that could not be written stays in the buffer.
        dst.truncate(start);
        CodecError::encode("xml", e)
    })
}

/// The body must be UTF-8, as Go's decoder wants without a charset reader.
pub(super) fn decode<T: DeserializeOwned>(src: &[u8]) -> Result<T, CodecError> {
    if src.is_empty() {
        return super::decode_unit("xml");
    }
    let text = std::str::from_utf8(src).map_err(|e| CodecError::decode("xml", e))?;
    quick_xml::de::from_str(text).map_err(|e| CodecError::decode("xml", e))
}

/// Go's name for the type of a Rust value without a name of its own.
fn go_type_name(rust: &str) -> &'static str {
    match rust {
        "bool" => "bool",
        "i8" => "int8",
        "i16" => "int16",
        "i32" => "int32",
        "i64" | "isize" => "int64",
        "u8" => "uint8",
        "u16" => "uint16",
        "u32" => "uint32",
        "u64" | "usize" => "uint64",
        "f32" => "float32",
        "f64" => "float64",
        "char" => "int32",
        _ if rust.ends_with("str") || rust.ends_with("String") => "string",
        _ => "value",
    }
}

struct FmtWriter<'a>(&'a mut BytesMut);

impl std::fmt::Write for FmtWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Person {
        name: String,
        age: u32,
        tags: Vec<String>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Empty {}

    fn encoded<T: Serialize + ?Sized>(value: &T) -> String {
        let mut buf = BytesMut::new();
        encode(value, &mut buf).unwrap();
        String::from_utf8(buf.to_vec()).unwrap()
    }

    #[test]
    fn struct_is_an_element_named_after_its_type() {
        let p = Person { name: "Ann".into(), age: 7, tags: vec!["a".into(), "b".into()] };
        let text = encoded(&p);
        assert_eq!(
            text,
            "<Person><Name>Ann</Name><Age>7</Age><Tags>a</Tags><Tags>b</Tags></Person>"
        );
        assert_eq!(decode::<Person>(text.as_bytes()).unwrap(), p);
    }

    #[test]
    fn reads_what_go_writes() {
        let go = "<Person><Name>A &amp; B</Name><Age>3</Age><Tags>x</Tags></Person>";
        let p = decode::<Person>(go.as_bytes()).unwrap();
        assert_eq!(p, Person { name: "A & B".into(), age: 3, tags: vec!["x".into()] });
        assert_eq!(decode::<Empty>(b"<Empty></Empty>").unwrap(), Empty {});
        assert_eq!(encoded(&Empty {}), "<Empty/>");
    }

    #[test]
    fn values_without_a_name_take_gos_type_name() {
        assert_eq!(encoded(&5i64), "<int64>5</int64>");
        assert_eq!(encoded("hi"), "<string>hi</string>");
        assert_eq!(encoded(&true), "<bool>true</bool>");
        assert_eq!(decode::<i64>(b"<int64>5</int64>").unwrap(), 5);
        assert_eq!(decode::<String>(b"<string>hi</string>").unwrap(), "hi");
    }

    #[test]
    fn bad_input_is_an_error() {
        for bad in [&b"<Person><Name>x</Person>"[..], b"<Person>", b"\xff\xfe", b"<int64>z</int64>"]
        {
            assert!(decode::<Person>(bad).is_err(), "{bad:?}");
        }
        assert!(decode::<i64>(b"<int64>z</int64>").is_err());
        // serde bytes have no XML form: the encode fails and leaves the buffer as it was.
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b"ab")
            }
        }
        let mut buf = BytesMut::from(&b"keep"[..]);
        assert!(encode(&Bytes, &mut buf).is_err());
        assert_eq!(&buf[..], b"keep");
        assert_eq!(decode::<Option<Person>>(b"").unwrap(), None);
    }
}
