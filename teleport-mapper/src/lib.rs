//! Route name mappers: how a type and a method name become a service method. Shared by
//! the runtime (`teleport::mapper`) and the `#[service]` macro, which computes route
//! names at compile time.
//!
//! The names are the ones Go Teleport/eRPC produces for the same Go names, so Rust and Go
//! peers share routes. A mapper takes a `prefix` (the group, already mapped) and a Go-style
//! `name`; a single `_` in the name separates path segments and a doubled `__` stands for a
//! literal `_`:
//!
//! | Go name | [`http_mapper`] (default) | [`rpc_mapper`] |
//! |---|---|---|
//! | `AaBb` | `/aa_bb` | `AaBb` |
//! | `ABcXYz` | `/abc_xyz` | `ABcXYz` |
//! | `Aa__Bb` | `/aa_bb` | `Aa_Bb` |
//! | `Aa_Bb` | `/aa/bb` | `Aa.Bb` |
//! | `ABC_XYZ` | `/abc/xyz` | `ABC.XYZ` |
//!
//! Rust names reach the mappers through [`rust_to_go_name`] (`say_hello` is Go's `SayHello`,
//! and `v2__add` is Go's `V2_Add`), which [`route_name`] does for a method of a service:
//!
//! ```
//! use teleport_mapper::{Mapper, route_name};
//!
//! assert_eq!(route_name(Mapper::Http, "", "MathV2", "say_hello"), "/math_v2/say_hello");
//! assert_eq!(route_name(Mapper::Rpc, "", "Math", "v2__add"), "Math.V2.Add");
//! ```

/// Which of Go's two route name mappers to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mapper {
    /// Go's `HTTPServiceMethodMapper`, [`http_mapper`]: `/math/say_hello`.
    #[default]
    Http,
    /// Go's `RPCServiceMethodMapper`, [`rpc_mapper`]: `Math.SayHello`.
    Rpc,
}

impl Mapper {
    /// Maps a Go-style `name` under an already mapped `prefix`.
    pub fn map(self, prefix: &str, name: &str) -> String {
        match self {
            Mapper::Http => http_mapper(prefix, name),
            Mapper::Rpc => rpc_mapper(prefix, name),
        }
    }

    /// The prefix of the root router: `/` for HTTP, empty for RPC (Go maps `("", "")`).
    pub fn root(self) -> String {
        self.map("", "")
    }
}

/// Go's `HTTPServiceMethodMapper`: `AaBb` → `/aa_bb`, `Aa_Bb` → `/aa/bb`, `Aa__Bb` → `/aa_bb`.
///
/// The name is snake-cased, its separators become `/`, and the result is joined to `prefix`
/// as Go's `path.Join("/", prefix, name)` does: always rooted, `.` and `..` resolved, no
/// empty segment and no trailing slash.
pub fn http_mapper(prefix: &str, name: &str) -> String {
    let name = fold_underscores(name, '/');
    let name = go_snake(&name).replace("__", "_").replace("/_", "/");
    join_rooted(prefix, &name)
}

/// Go's `RPCServiceMethodMapper`: `AaBb` → `AaBb`, `Aa_Bb` → `Aa.Bb`, `Aa__Bb` → `Aa_Bb`.
///
/// The name keeps its case; it is appended to `prefix` after a `.`, and dots at either end
/// of the result are trimmed, so an empty prefix adds nothing.
pub fn rpc_mapper(prefix: &str, name: &str) -> String {
    let joined = format!("{prefix}.{}", fold_underscores(name, '.'));
    joined.trim_matches('.').to_owned()
}

/// The prefix of a group (Go's `SubRoute`) named `prefix` inside a group whose mapped prefix
/// is `parent` (use [`Mapper::root`] or `""` for the root router).
///
/// The group name goes through the same mapper as route names: with [`Mapper::Http`],
/// `("/", "v1")` gives `/v1` and `("/v1", "UserApi")` gives `/v1/user_api`; with
/// [`Mapper::Rpc`], `("", "v1")` gives `v1`. Go applies no other rule, so an RPC group
/// written `/v1` stays `/v1` and its routes are `/v1.Math.Add`.
pub fn group_prefix(mapper: Mapper, parent: &str, prefix: &str) -> String {
    mapper.map(parent, prefix)
}

/// The route of method `method` of service type `type_name` in the group with mapped prefix
/// `prefix` (`""` for the root), both given as Rust identifiers.
///
/// As Go registers a method of a controller struct, the type name is mapped under the
/// prefix and the method name under that: `impl Math { fn say_hello }` is `/math/say_hello`
/// or `Math.SayHello`, and `fn v2__add` is `/math/v2/add` or `Math.V2.Add`.
pub fn route_name(mapper: Mapper, prefix: &str, type_name: &str, method: &str) -> String {
    let service = mapper.map(prefix, &rust_to_go_name(type_name));
    mapper.map(&service, &rust_to_go_name(method))
}

/// The route of a free handler function `func` (a Rust identifier) in the group with mapped
/// prefix `prefix`, as Go's `RouteCallFunc` names one: `say_hello` is `/say_hello`.
pub fn fn_route_name(mapper: Mapper, prefix: &str, func: &str) -> String {
    mapper.map(prefix, &rust_to_go_name(func))
}

/// Converts a Rust identifier into the Go name the mappers expect.
///
/// Each `_`-separated word gets an upper-case first letter (`say_hello` → `SayHello`,
/// `add` → `Add`), a `__` becomes Go's single `_` separator (`v2__add` → `V2_Add`), names
/// that are already camel case keep their case (`MathV2`), and a raw identifier loses its
/// `r#`. Words of one letter or starting with a digit do not survive the way back to snake
/// case (`a_b` is `AB`, mapped as `/ab`), as with the equivalent Go name.
pub fn rust_to_go_name(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let mut out = String::with_capacity(ident.len());
    for (i, segment) in ident.split("__").enumerate() {
        if i > 0 {
            out.push('_');
        }
        for word in segment.split('_') {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// The first pass of Go's `toServiceMethods`: a lone `_` becomes `sep`, a `__` becomes a
/// literal `_`, and every further `_` of the run, like any `_` at the start of the name,
/// is dropped. `'\0'` marks the state "dropping underscores", as in Go.
fn fold_underscores(name: &str, sep: char) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last = '\0';
    for c in name.chars() {
        if last == '_' {
            if c == '_' {
                last = '\0';
                continue;
            }
            out.pop();
            out.push(sep);
        }
        if last == '\0' && c == '_' {
            continue;
        }
        out.push(c);
        last = c;
    }
    out
}

/// Go's `goutil.SnakeString`: an `_` goes before an ASCII capital that follows a character
/// which is neither a capital nor `_` (so `ABcXYz` → `abc_xyz`, `MathV2` → `math_v2`), then
/// everything is lower-cased one character for one character, as Go's `strings.ToLower`.
fn go_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    let mut after_word = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if after_word {
                out.push('_');
                after_word = false;
            }
        } else if c != '_' {
            after_word = true;
        }
        out.extend(c.to_lowercase().take(1));
    }
    out
}

/// Go's `path.Join("/", prefix, name)`: the segments of both, cleaned, under a root.
fn join_rooted(prefix: &str, name: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in prefix.split('/').chain(name.split('/')) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    if segments.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(prefix.len() + name.len() + 1);
    for segment in segments {
        out.push('/');
        out.push_str(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Go eRPC's `TestHTTPServiceMethodMapper` and `TestRPCServiceMethodMapper`, with an
    /// empty prefix: Go name, HTTP route, RPC route.
    const GO_CASES: [(&str, &str, &str); 9] = [
        ("AaBb", "/aa_bb", "AaBb"),
        ("ABcXYz", "/abc_xyz", "ABcXYz"),
        ("Aa__Bb", "/aa_bb", "Aa_Bb"),
        ("Aa________Bb", "/aa_bb", "Aa_Bb"),
        ("aa__bb", "/aa_bb", "aa_bb"),
        ("ABC__XYZ", "/abc_xyz", "ABC_XYZ"),
        ("Aa_Bb", "/aa/bb", "Aa.Bb"),
        ("aa_bb", "/aa/bb", "aa.bb"),
        ("ABC_XYZ", "/abc/xyz", "ABC.XYZ"),
    ];

    #[test]
    fn go_http_mapper_cases() {
        for (src, http, _) in GO_CASES {
            assert_eq!(http_mapper("", src), http, "{src}");
        }
    }

    #[test]
    fn go_rpc_mapper_cases() {
        for (src, _, rpc) in GO_CASES {
            assert_eq!(rpc_mapper("", src), rpc, "{src}");
        }
    }

    #[test]
    fn design_table() {
        let rows = [
            ("Math", "add", "/math/add", "Math.Add"),
            ("Hello", "say", "/hello/say", "Hello.Say"),
            ("Math", "say_hello", "/math/say_hello", "Math.SayHello"),
            ("MathV2", "add", "/math_v2/add", "MathV2.Add"),
            ("Math", "v2__add", "/math/v2/add", "Math.V2.Add"),
        ];
        for (ty, method, http, rpc) in rows {
            assert_eq!(route_name(Mapper::Http, "", ty, method), http, "{ty}::{method}");
            assert_eq!(route_name(Mapper::Rpc, "", ty, method), rpc, "{ty}::{method}");
            let root = Mapper::default().root();
            assert_eq!(route_name(Mapper::Http, &root, ty, method), http, "{ty}::{method}");
        }
    }

    #[test]
    fn roots() {
        assert_eq!(Mapper::Http.root(), "/");
        assert_eq!(Mapper::Rpc.root(), "");
    }

    #[test]
    fn http_groups() {
        let v1 = group_prefix(Mapper::Http, &Mapper::Http.root(), "v1");
        assert_eq!(v1, "/v1");
        assert_eq!(group_prefix(Mapper::Http, "/", "/v1/"), "/v1");
        assert_eq!(route_name(Mapper::Http, &v1, "Math", "add"), "/v1/math/add");
        let nested = group_prefix(Mapper::Http, &v1, "UserApi");
        assert_eq!(nested, "/v1/user_api");
        assert_eq!(
            route_name(Mapper::Http, &nested, "Math", "v2__add"),
            "/v1/user_api/math/v2/add"
        );
        assert_eq!(group_prefix(Mapper::Http, "/", "Api_V1"), "/api/v1");
        assert_eq!(fn_route_name(Mapper::Http, &v1, "say_hello"), "/v1/say_hello");
    }

    #[test]
    fn rpc_groups() {
        let v1 = group_prefix(Mapper::Rpc, &Mapper::Rpc.root(), "v1");
        assert_eq!(v1, "v1");
        assert_eq!(route_name(Mapper::Rpc, &v1, "Math", "add"), "v1.Math.Add");
        let nested = group_prefix(Mapper::Rpc, &v1, "Admin_Users");
        assert_eq!(nested, "v1.Admin.Users");
        assert_eq!(
            route_name(Mapper::Rpc, &nested, "Math", "say_hello"),
            "v1.Admin.Users.Math.SayHello"
        );
        // Go trims only dots: a slash written in an RPC group stays.
        assert_eq!(route_name(Mapper::Rpc, "/v1", "Math", "add"), "/v1.Math.Add");
        assert_eq!(fn_route_name(Mapper::Rpc, "", "say_hello"), "SayHello");
    }

    #[test]
    fn go_path_join_rules() {
        assert_eq!(http_mapper("", ""), "/");
        assert_eq!(http_mapper("a//b/", "C"), "/a/b/c");
        assert_eq!(http_mapper("/a/./b/..", "C"), "/a/c");
        assert_eq!(http_mapper("/..", ".."), "/");
        assert_eq!(rpc_mapper("", ""), "");
        assert_eq!(rpc_mapper("..A..", "B."), "A...B");
    }

    #[test]
    fn underscore_edges() {
        assert_eq!(http_mapper("", "_Aa"), "/aa");
        assert_eq!(rpc_mapper("", "__Aa"), "Aa");
        assert_eq!(rpc_mapper("", "Aa_"), "Aa_");
        assert_eq!(rpc_mapper("", "Aa___Bb"), "Aa_Bb");
        assert_eq!(http_mapper("", "Aa_Bb_Cc"), "/aa/bb/cc");
        assert_eq!(http_mapper("", "HTTPServer"), "/httpserver");
        assert_eq!(http_mapper("", "GetV2Api"), "/get_v2_api");
    }

    #[test]
    fn rust_names() {
        assert_eq!(rust_to_go_name("say_hello"), "SayHello");
        assert_eq!(rust_to_go_name("add"), "Add");
        assert_eq!(rust_to_go_name("v2__add"), "V2_Add");
        assert_eq!(rust_to_go_name("MathV2"), "MathV2");
        assert_eq!(rust_to_go_name("r#type"), "Type");
        assert_eq!(rust_to_go_name("get_user_by_id"), "GetUserById");
        assert_eq!(rust_to_go_name("_private"), "Private");
        assert_eq!(rust_to_go_name(""), "");
    }

    #[test]
    fn non_ascii_lowercases_one_for_one() {
        // Go's simple case mapping: İ → i, and Σ → σ even at the end of a word.
        assert_eq!(http_mapper("", "İx"), "/ix");
        assert_eq!(http_mapper("", "AbΣ"), "/abσ");
    }

    proptest! {
        #[test]
        fn mappers_never_panic_and_stay_well_formed(prefix in "\\PC{0,12}", name in "\\PC{0,12}") {
            let http = http_mapper(&prefix, &name);
            prop_assert!(http.starts_with('/'));
            prop_assert!(!http.contains("//"));
            prop_assert!(http == "/" || !http.ends_with('/'));
            let rpc = rpc_mapper(&prefix, &name);
            prop_assert!(!rpc.starts_with('.') && !rpc.ends_with('.'));
        }

        #[test]
        fn snake_rust_methods_round_trip(words in proptest::collection::vec("[a-z][a-z0-9]{1,6}", 1..4)) {
            let ident = words.join("_");
            prop_assert_eq!(http_mapper("", &rust_to_go_name(&ident)), format!("/{ident}"));
        }
    }
}
