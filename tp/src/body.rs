//! JSON in and out: the argument read from the command line and written in a body codec,
//! and bodies and meta received shown as JSON.

use std::io::Read;

use serde_json::{Map, Value};
use teleport::Meta;
use teleport::codec::{self, CodecInfo, CodecRegistry};

use crate::failure::Failure;

/// Reads the argument: JSON text, `-` for standard input, `@FILE` for a file's content.
pub(crate) fn read_arg(text: &str) -> Result<Value, Failure> {
    let owned;
    let (source, json) = match text {
        "-" => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| Failure::Input(format!("cannot read standard input: {e}")))?;
            owned = input;
            ("standard input", owned.as_str())
        }
        _ => match text.strip_prefix('@') {
            Some(path) => {
                owned = std::fs::read_to_string(path)
                    .map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
                (path, owned.as_str())
            }
            None => ("the argument", text),
        },
    };
    serde_json::from_str(json).map_err(|e| Failure::Input(format!("{source} is not JSON: {e}")))
}

/// The codec `--codec` names, if the peer's registry knows it.
pub(crate) fn codec_named(name: &str) -> Result<CodecInfo, Failure> {
    let registry = CodecRegistry::default();
    registry.by_name(name).ok_or_else(|| {
        let known: Vec<_> = registry.iter().map(|c| c.name).collect();
        Failure::Input(format!("unknown codec {name:?}; known: {}", known.join(", ")))
    })
}

/// Writes `arg` in `codec`: JSON as is, plain from a string, number or bool, form from an
/// object of scalars. The codecs of typed values (protobuf...) cannot be written from JSON.
pub(crate) fn encode(arg: &Value, codec: CodecInfo) -> Result<bytes::Bytes, Failure> {
    codec::encode_to_bytes(arg, codec.id).map_err(|e| match e {
        codec::CodecError::Unsupported(_) => Failure::Input(format!(
            "tp cannot write a {} body from JSON: use --codec json, plain or form",
            codec.name
        )),
        e => Failure::Input(format!("the argument cannot be written as {}: {e}", codec.name)),
    })
}

/// A received body as JSON: a JSON body parsed, a plain body as a string, a form as an
/// object (see [`meta`]), no body as `null`. A body in another codec, or one that does not
/// parse, is shown as `{"codec": "protobuf", "text": ...}` when it is printable UTF-8 and
/// `{"codec": "protobuf", "hex": ...}` otherwise.
pub(crate) fn render(codec_id: u8, body: &[u8]) -> Value {
    let parsed = match codec_id {
        codec::NONE if body.is_empty() => Some(Value::Null),
        codec::JSON => serde_json::from_slice(body).ok(),
        codec::PLAIN => std::str::from_utf8(body).ok().map(|s| Value::String(s.to_owned())),
        codec::FORM => Meta::decode(body).ok().map(|form| meta(&form)),
        _ => None,
    };
    parsed.unwrap_or_else(|| opaque(codec_id, body))
}

/// A body shown as it is, with its codec.
fn opaque(codec_id: u8, body: &[u8]) -> Value {
    let name = CodecRegistry::default()
        .by_id(codec_id)
        .map_or_else(|| (codec_id as char).to_string(), |c| c.name.to_owned());
    let mut shown = Map::new();
    shown.insert("codec".into(), Value::String(name));
    match std::str::from_utf8(body) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            shown.insert("text".into(), Value::String(text.to_owned()))
        }
        _ => shown.insert("hex".into(), Value::String(hex(body))),
    };
    Value::Object(shown)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Meta (or a form) as a JSON object: each key's value a string, or an array of strings
/// when the key repeats.
pub(crate) fn meta(meta: &Meta) -> Value {
    let mut object = Map::new();
    for (key, value) in meta.iter() {
        let value = Value::String(value.to_owned());
        match object.get_mut(key) {
            None => {
                object.insert(key.to_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_render_by_codec() {
        assert_eq!(render(codec::JSON, b"[1,2]"), json!([1, 2]));
        assert_eq!(render(codec::PLAIN, b"15"), json!("15"));
        assert_eq!(render(codec::FORM, b"n=1&n=2&sum=3"), json!({"n": ["1", "2"], "sum": "3"}));
        assert_eq!(render(codec::NONE, b""), Value::Null);
        assert_eq!(
            render(codec::PROTOBUF, b"\x08\x0f"),
            json!({"codec": "protobuf", "hex": "080f"})
        );
        assert_eq!(render(codec::JSON, b"{oops"), json!({"codec": "json", "text": "{oops"}));
    }

    #[test]
    fn arguments_encode_in_the_serde_codecs_and_refuse_the_others() {
        let arg = json!({"a": 1});
        assert_eq!(&encode(&arg, codec_named("json").unwrap()).unwrap()[..], br#"{"a":1}"#);
        assert_eq!(&encode(&arg, codec_named("form").unwrap()).unwrap()[..], b"a=1");
        assert_eq!(&encode(&json!("hi"), codec_named("plain").unwrap()).unwrap()[..], b"hi");
        let refused = encode(&arg, codec_named("protobuf").unwrap()).unwrap_err().to_string();
        assert!(refused.contains("cannot write a protobuf body"), "{refused}");
        assert!(encode(&arg, codec_named("plain").unwrap()).is_err());
        assert!(codec_named("yaml").unwrap_err().to_string().contains("known: json"));
    }

    #[test]
    fn arguments_are_json() {
        assert_eq!(read_arg("[1, 2]").unwrap(), json!([1, 2]));
        let err = read_arg("[1,").unwrap_err().to_string();
        assert!(err.starts_with("the argument is not JSON"), "{err}");
        assert!(read_arg("@/nonexistent/x.json").unwrap_err().to_string().contains("cannot read"));
    }
}
