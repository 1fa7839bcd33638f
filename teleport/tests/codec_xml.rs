//! The XML body codec (`x`): documents as Go's `encoding/xml` writes them, and a table of
//! malformed bodies that must fail with an error, never a panic.
#![cfg(feature = "xml")]

use serde::{Deserialize, Serialize};
use teleport::codec::{self, CodecError, DecodeBody, encode_to_bytes};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Order {
    #[serde(rename = "@id")]
    id: u64,
    item: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    name: String,
    qty: i32,
}

fn order() -> Order {
    Order {
        id: 7,
        item: vec![Item { name: "a<b".into(), qty: 1 }, Item { name: "c".into(), qty: -2 }],
        note: None,
    }
}

/// What Go writes for the same value with `xml:"id,attr"` on `Id` and `xml:",omitempty"`
/// on a `*string` `Note`.
const GO: &str = "<Order id=\"7\"><Item><Name>a&lt;b</Name><Qty>1</Qty></Item>\
                  <Item><Name>c</Name><Qty>-2</Qty></Item></Order>";

#[test]
fn writes_and_reads_go_documents() {
    let body = encode_to_bytes(&order(), codec::XML).unwrap();
    assert_eq!(std::str::from_utf8(&body).unwrap(), GO);
    assert_eq!(Order::decode_body(codec::XML, GO.as_bytes()).unwrap(), order());
    let with_note = GO.replace("</Order>", "<Note>n</Note></Order>");
    assert_eq!(Order::decode_body(codec::XML, with_note.as_bytes()).unwrap().note.unwrap(), "n");
}

#[test]
fn malformed_bodies_fail_with_an_error() {
    let deep = "<Order id=\"1\">".to_owned() + &"<Item>".repeat(5_000);
    let table: &[(&str, &[u8])] = &[
        ("not xml", b"hello"),
        ("unclosed root", b"<Order id=\"1\">"),
        ("mismatched end tag", b"<Order id=\"1\"><Item></Order>"),
        ("missing field", b"<Order id=\"1\"><Item><Name>x</Name></Item></Order>"),
        (
            "number out of range",
            b"<Order id=\"1\"><Item><Name>x</Name><Qty>9999999999</Qty></Item></Order>",
        ),
        ("attribute not a number", b"<Order id=\"x\"></Order>"),
        ("bad entity", b"<Order id=\"1\"><Item><Name>&nope;</Name><Qty>1</Qty></Item></Order>"),
        ("not utf-8", b"<Order id=\"1\">\xff</Order>"),
        ("nested without end", deep.as_bytes()),
    ];
    for (name, body) in table {
        let err = Order::decode_body(codec::XML, body).unwrap_err();
        assert!(matches!(err, CodecError::Decode { codec: "xml", .. }), "{name}: {err:?}");
    }
}
