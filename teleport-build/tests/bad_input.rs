//! Bad input is an error naming the file and the key (or item) where it is, never a panic
//! and never generated code that fails to compile further down.

use std::path::Path;

use teleport_build::{Builder, Error};

fn manifest_error(text: &str) -> Error {
    Builder::new().manifest_code(text, Path::new("api/math.manifest.json")).unwrap_err()
}

fn source_error(builder: Builder, text: &str) -> Error {
    builder.source_code(text, Path::new("src/math.rs")).unwrap_err()
}

/// A manifest with one route whose `arg` is `arg`.
fn with_arg(arg: &str) -> String {
    format!(
        r#"{{"manifest": 1, "services": [{{"name": "Math", "routes": [
            {{"route": "/math/add", "method": "add", "kind": "call", "arg": {arg},
              "reply": {{"rust": "i64"}}}}]}}]}}"#
    )
}

fn assert_at(e: &Error, at: &str, says: &str) {
    assert_eq!(e.at(), at, "{e}");
    assert!(e.message().contains(says), "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("{}: {at}", e.file().display())), "{shown}");
}

#[test]
fn a_manifest_that_is_not_json_names_the_line_and_column() {
    let e = manifest_error("{\"manifest\": 1,\n  \"services\": [}");
    assert_eq!(e.file(), Path::new("api/math.manifest.json"));
    assert_at(&e, "line 2 column 16", "not a JSON manifest");
}

#[test]
fn an_unknown_type_names_its_key() {
    let e = manifest_error(&with_arg(r#"{"rust": "Vec<Point>"}"#));
    assert_at(&e, "services[0].routes[0].arg.rust", "unknown type `Point`");
}

#[test]
fn a_reference_to_a_missing_definition_names_its_key() {
    let e = manifest_error(&with_arg(
        r##"{"rust": "Vec<Point>", "schema": {"type": "array", "items": {"$ref": "#/$defs/Pt"}, "$defs": {"Point": {"type": "object", "properties": {"p": {"$ref": "#/$defs/Nope"}}}}}}"##,
    ));
    assert_at(
        &e,
        "services[0].routes[0].arg.schema.$defs.Point.properties.p.$ref",
        "unknown type `Nope`",
    );
}

#[test]
fn wrong_shapes_name_their_keys() {
    let cases = [
        (r#"{"manifest": 2}"#, "manifest", "unsupported manifest version 2"),
        (r#"{"services": []}"#, "manifest", "missing"),
        (r#"{"manifest": 1, "services": {}}"#, "services", "expected an array"),
        (
            r#"{"manifest": 1, "services": [{"name": "not a name"}]}"#,
            "services[0].name",
            "cannot be a Rust type name",
        ),
        (
            r#"{"manifest": 1, "services": [{"name": "M", "routes": [{"route": "/m/a", "method": "a", "kind": "get"}]}]}"#,
            "services[0].routes[0].kind",
            "expected \"call\" or \"push\"",
        ),
        (
            r#"{"manifest": 1, "services": [{"name": "M", "routes": [{"route": "/m/a", "method": "a", "kind": "call"}]}]}"#,
            "services[0].routes[0].reply",
            "a call has a reply type",
        ),
        (
            r#"{"manifest": 1, "services": [{"name": "M", "routes": [{"route": "/m/a", "method": "a-b", "kind": "push"}]}]}"#,
            "services[0].routes[0].method",
            "cannot be a Rust function name",
        ),
    ];
    for (text, at, says) in cases {
        assert_at(&manifest_error(text), at, says);
    }
    assert_at(
        &manifest_error(&with_arg(r#"{"rust": "Vec<"}"#)),
        "services[0].routes[0].arg.rust",
        "is not a Rust type",
    );
    assert_at(&manifest_error(&with_arg(r#"{}"#)), "services[0].routes[0].arg", "needs `rust`");
    assert_at(
        &manifest_error(&with_arg(r#"{"schema": {"type": "decimal"}}"#)),
        "services[0].routes[0].arg.schema.type",
        "unknown JSON Schema type `decimal`",
    );
}

#[test]
fn two_routes_with_one_name_are_refused() {
    let text = r#"{"manifest": 1, "services": [{"name": "M", "routes": [
        {"route": "/m/a", "method": "a", "kind": "push"},
        {"route": "/m/a", "method": "b", "kind": "push"}]}]}"#;
    assert_at(&manifest_error(text), "services[0].routes", "duplicate route name `/m/a`");
}

#[test]
fn one_name_defined_two_ways_is_refused() {
    let text = r#"{"manifest": 1, "services": [{"name": "M", "routes": [
        {"route": "/m/a", "method": "a", "kind": "push", "arg": {"rust": "P", "schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}},
        {"route": "/m/b", "method": "b", "kind": "push", "arg": {"rust": "P", "schema": {"type": "object", "properties": {"x": {"type": "string"}}}}}]}]}"#;
    assert_at(
        &manifest_error(text),
        "services[0].routes[1].arg.schema",
        "defined differently at services[0].routes[0].arg.schema",
    );
}

#[test]
fn a_source_with_macro_errors_gives_the_macros_messages() {
    let e = source_error(
        Builder::new(),
        "#[tp::service] impl Math { fn add(&mut self, n: Vec<i64>) -> i64 { 0 } }",
    );
    assert_at(&e, "impl Math", "service methods take `&self`, not `&mut self`");
}

#[test]
fn a_source_type_without_a_mapping_is_refused_and_mapped_it_builds() {
    let text = "#[tp::service] pub trait Kv { async fn put(&self, entry: Entry) -> bool; }";
    let e = source_error(Builder::new(), text);
    assert_at(&e, "trait Kv", "`put`: unknown type `Entry`");
    let code = Builder::new()
        .extern_path("Entry", "::kv_api::Entry")
        .source_code(text, Path::new("kv.rs"))
        .unwrap();
    assert!(code.contains(":: kv_api :: Entry"), "{code}");
}

#[test]
fn a_source_without_a_service_or_not_rust_is_refused() {
    assert_at(&source_error(Builder::new(), "struct A;"), "", "no `#[service]`");
    assert_at(&source_error(Builder::new(), "fn ("), "", "not Rust source");
}

#[test]
fn files_that_cannot_be_read_or_written_are_named() {
    let dir = std::env::temp_dir().join(format!("teleport-build-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.json");
    let e = Builder::new().out_dir(&dir).manifest(&missing, "m").unwrap_err();
    assert_eq!(e.file(), missing);
    assert!(e.message().contains("cannot read it"), "{e}");
    let e = Builder::new().out_dir(&dir).manifest(&missing, "../m").unwrap_err();
    assert!(e.message().contains("cannot name the generated file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
