//! What the generated code holds, read back as Rust: the macro's route names and stubs from
//! a source, types named as the schemas say, and the runtime under the path it is given.
//! (`examples/build-client` compiles generated code and calls a server with it.)

use std::path::Path;

use teleport_build::Builder;

fn items(code: &str) -> Vec<String> {
    let file: syn::File = syn::parse_str(code).expect("the generated code is Rust");
    file.items.iter().map(|item| quote::quote!(#item).to_string()).collect()
}

#[test]
fn an_impl_block_gives_the_macros_route_names_and_leaves_skipped_methods_out() {
    let source = r#"
        use teleport as tp;
        struct Geo;
        mod inner {
            #[tp::service(mapper = "rpc", prefix = "V1")]
            impl Geo {
                fn shift(&self, ctx: &tp::CallCtx, p: (i32, i32)) -> Result<(i32, i32), tp::Status> { Ok(p) }
                #[tp(route = "/geo/origin")]
                async fn origin(&self) -> (i32, i32) { (0, 0) }
                #[tp(push)]
                fn say_hello(&self, text: String) {}
                #[tp(skip)]
                fn helper(&self) {}
            }
        }
    "#;
    let code = Builder::new().source_code(source, Path::new("geo.rs")).unwrap();
    let items = items(&code);
    assert_eq!(items.len(), 2, "the client struct and its impl: {items:?}");
    let client = &items[1];
    for expected in [
        "\"V1.Geo.Shift\"",
        "\"/geo/origin\"",
        "\"V1.Geo.SayHello\"",
        "pub async fn say_hello_with",
    ] {
        assert!(client.contains(expected), "{expected} in {client}");
    }
    assert!(!client.contains("helper"), "{client}");
    assert!(!client.contains("CallCtx"), "the context is no argument: {client}");
}

#[test]
fn the_runtime_is_named_by_the_crate_path() {
    let source = "#[service] trait Ping { async fn ping(&self) -> u64; }";
    let code =
        Builder::new().crate_path("::tp_renamed").source_code(source, Path::new("p.rs")).unwrap();
    assert!(code.contains("session: &::tp_renamed::__private::Session"), "{code}");
    assert!(!code.contains("::teleport::"), "{code}");
}

#[test]
fn schema_only_types_take_their_titles_and_nested_objects_their_owners_names() {
    let manifest = r#"{"manifest": 1, "services": [{"name": "Users", "routes": [
        {"route": "/users/find", "method": "find", "kind": "call",
         "arg": {"schema": {"title": "Query", "type": "object",
                  "properties": {"name": {"type": "string"},
                                 "page": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}}}},
                  "required": ["name"]}},
         "reply": {"schema": {"type": "array", "items": {"type": "string"}}}}]}]}"#;
    let code = Builder::new().manifest_code(manifest, Path::new("users.json")).unwrap();
    let items = items(&code);
    let query = items.iter().find(|i| i.contains("pub struct Query ")).expect(&code);
    assert!(query.contains("pub name : :: std :: string :: String"), "{query}");
    assert!(query.contains("pub page : :: core :: option :: Option < QueryPage >"), "{query}");
    let page = items.iter().find(|i| i.contains("pub struct QueryPage ")).expect(&code);
    assert!(page.contains("pub size : :: core :: option :: Option < u64 >"), "{page}");
    let client = items.iter().find(|i| i.starts_with("impl UsersClient")).expect(&code);
    assert!(client.contains("EncodeAs < Query >"), "{client}");
    assert!(
        client.contains("Result < :: std :: vec :: Vec < :: std :: string :: String >"),
        "{client}"
    );
}
